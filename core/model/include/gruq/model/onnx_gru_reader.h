#pragma once
// ONNX models (torch.onnx.export, tf2onnx, ...) holding 1..3 GRU nodes in a stack (torch.onnx.export
// writes nn.GRU(num_layers=L) as L GRU nodes, each reading the Squeeze'd output sequence of the one
// before) and a linear head, read with Debian's ONNX protobuf library and converted to PyTorch's
// conventions: ONNX orders the gates z, r, h and packs both biases in one [1, 6H] tensor; PyTorch orders
// them r, z, n.
#include "gruq/model/named_tensors.h"

#include <string>

namespace gruq {

// True when `bytes` parse as an ONNX ModelProto with a graph (the format check of the importer).
bool isOnnxModel(const std::string& bytes);

// The GRU layers' and the head's weights as "gru.weight_ih_l<k>", "gru.weight_hh_l<k>", "gru.bias_ih_l<k>",
// "gru.bias_hh_l<k>" (k = 0.. in stack order), "head.weight" [C, H], "head.bias" [C]; the layer count and
// sizes are checked by gruFromTensors, as for the other formats. InputError(where, ...) saying what is
// supported when the graph holds other operators, GRU nodes that are not one stack (a node not reading the
// output sequence of the one before, a head reading anything but the last one), a bidirectional or
// reverse GRU, linear_before_reset = 0 (Keras' reset_after=False), other activations, clipping, a
// non-zero initial state, or weights stored outside the file.
NamedTensors readOnnxGru(const std::string& bytes, const std::string& where);

}  // namespace gruq
