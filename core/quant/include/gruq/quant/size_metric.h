#pragma once
// The model-size objective (DESIGN.md §3): weights numel*bits + biases numel*32 + LUT entries*bits,
// summed over the layers and the head.
#include "gruq/model/float_model.h"
#include "gruq/quant/genome.h"

#include <cstdint>

namespace gruq {

struct ModelSize {
    int64_t weightBits = 0;   // every layer's W_ih, W_hh and W_fc at their bit widths
    int64_t biasBits = 0;     // (6H per layer + C) * 32
    int64_t lutBits = 0;      // per layer: sigmoid r: 2^b(sum_r) * b(sig_r); sigmoid z: 2^b(sum_z) * b(sig_z);
                              // tanh: 2^b(sum_n) * b(tanh_n)
    int64_t totalBits() const { return weightBits + biasBits + lutBits; }
    int64_t totalBytes() const { return (totalBits() + 7) / 8; }  // rounded up
    double fractionOf8Bit = 0;  // totalBits / the all-8-bit model's totalBits (same shape)
};

// bits: one assignment per layer of the shape (std::invalid_argument otherwise).
ModelSize modelSize(const GruShape& shape, const LayerBits& bits);

}  // namespace gruq
