#pragma once
// Tensors read from a model file trained elsewhere, by name, as plain float arrays (torch-free, so the
// readers can be fuzzed without LibTorch). Every reader converts its dtypes to float here.
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct NamedTensor {
    std::string name;            // "gru.weight_ih_l0"; "checkpoint/gru.weight_ih_l0" inside a nested dict
    std::vector<int64_t> shape;  // row-major
    std::vector<float> values;   // product(shape) values, row-major
    bool floatingPoint = true;   // false for integer / bool tensors (e.g. BatchNorm's num_batches_tracked)

    std::string describe() const;  // "gru.weight_ih_l0 [96, 5]"
};

using NamedTensors = std::vector<NamedTensor>;

}  // namespace gruq
