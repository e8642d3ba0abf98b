#pragma once
// A float GRU classifier trained elsewhere, imported instead of trained: PyTorch state_dict files
// (torch.save(model.state_dict(), path), also inside a checkpoint dict), TorchScript files and ONNX
// files. gruq's float model is 1..kMaxGruLayers (3) stacked unidirectional GRU layers of one hidden size
// (up to kMaxHiddenSize, 256) followed by one linear layer on the last layer's last-step output (PyTorch:
// nn.GRU(F, H, num_layers=L) and fc(out[:, -1]) or fc(h_n[-1])); anything else is refused with a message
// that says what was found and what is supported.
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

// The GRU and head among `tensors` (PyTorch names: "<prefix>weight_ih_l<k>", "<prefix>weight_hh_l<k>",
// "<prefix>bias_ih_l<k>", "<prefix>bias_hh_l<k>" for layers k = 0..L-1 into weights.layers; "<head>.weight"
// [C, H]). Refuses more than kMaxGruLayers layers, a layer missing below the top one (l0 and l2 without
// l1), layers whose sizes disagree (weight_hh_l<k> of another hidden size, weight_ih_l<k>, k >= 1, not
// [3H, H]), hidden sizes above kMaxHiddenSize, bidirectional (_reverse) GRUs, LSTMs, ambiguous GRUs or
// heads (the message lists the candidates and how to name one), and tensors it cannot place.
ImportedModel gruFromTensors(const NamedTensors& tensors, const ModelImportOptions& options, const std::string& where);

}  // namespace gruq
