#pragma once
// A float GRU classifier trained elsewhere, imported instead of trained: PyTorch state_dict files
// (torch.save(model.state_dict(), path), also inside a checkpoint dict), TorchScript files and ONNX
// files. gruq's float model is one unidirectional GRU layer followed by one linear layer on the last
// step's output (PyTorch: fc(out[:, -1]) or fc(h_n[-1])); anything else is refused with a message that
// says what was found and what is supported.
#include "gruq/model/float_model.h"
#include "gruq/model/named_tensors.h"

#include <string>

namespace gruq {

struct ModelImportOptions {
    std::string path;      // the model file; the format is recognised from its content
    std::string gruName;   // the GRU module's name when the file holds several ("encoder.gru"); empty = the only one
    std::string headName;  // the linear head's name ("classifier"); empty = the one [C, H] weight beside the GRU
};

struct ImportedModel {
    FloatGruWeights weights;
    std::string format;    // "PyTorch state_dict", "TorchScript", "ONNX"
    std::string gruName;   // as found, e.g. "gru" ("" for a bare nn.GRU)
    std::string headName;  // e.g. "fc"
    std::string fileHash;  // fnv1a64 of the file's bytes (16 hex digits): the model's identity in caches and archives
};

// InputError naming the file: unreadable, not one of the three formats, or not a GRU + linear head.
ImportedModel importFloatModel(const ModelImportOptions& options);

// The GRU and head among `tensors` (PyTorch names: "<prefix>weight_ih_l0", ...; "<head>.weight" [C, H]).
// Refuses stacked (weight_ih_l1) and bidirectional (_reverse) GRUs, ambiguous GRUs or heads (the message
// lists the candidates and how to name one), and tensors it cannot place.
ImportedModel gruFromTensors(const NamedTensors& tensors, const ModelImportOptions& options, const std::string& where);

}  // namespace gruq
