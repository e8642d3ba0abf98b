#pragma once
// ONNX models (torch.onnx.export, tf2onnx, ...) holding one GRU node and a linear head, read with
// Debian's ONNX protobuf library and converted to PyTorch's conventions: ONNX orders the gates z, r, h
// and packs both biases in one [1, 6H] tensor; PyTorch orders them r, z, n.
#include "gruq/model/named_tensors.h"

#include <string>

namespace gruq {

// True when `bytes` parse as an ONNX ModelProto with a graph (the format check of the importer).
bool isOnnxModel(const std::string& bytes);

// The GRU's and the head's weights as "gru.weight_ih_l0", "gru.weight_hh_l0", "gru.bias_ih_l0",
// "gru.bias_hh_l0", "head.weight" [C, H], "head.bias" [C]. InputError(where, ...) saying what is
// supported when the graph holds other operators, several GRUs (a stacked model), a bidirectional or
// reverse GRU, linear_before_reset = 0 (Keras' reset_after=False), other activations, clipping, or
// weights stored outside the file.
NamedTensors readOnnxGru(const std::string& bytes, const std::string& where);

}  // namespace gruq
