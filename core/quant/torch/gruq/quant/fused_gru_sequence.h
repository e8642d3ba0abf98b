#pragma once
// Internal (torch): the QAT GRU layer (input projection + recurrence) as ONE autograd operation. The
// per-timestep torch graph (3 matmul + ~40 element-wise ops per step, each allocating, each recorded for
// backward) is replaced by a forward loop with two small BLAS calls per step and a single fused pass
// over each batch row of the cell, and a hand-written backward through time: the same fused pass in
// reverse per step and four small BLAS calls (dh, and the weight gradients accumulated step by step, so
// that no sequence-sized gradient buffer is written and read back).
// Numerics: the same fake quantizers as QatGruImpl's reference path (torch's per-tensor affine rule,
// fixed sigmoid/tanh levels), straight-through gradients masked where a value is clamped. When the sums
// feeding sigmoid / tanh are quantized, those activations are exact lookup tables of the sum's code,
// built with torch's own sigmoid / tanh, so the fused and reference paths see the same values.
#include <torch/torch.h>

#include <array>

namespace gruq {

// One fake quantizer of the cell (or the identity when inactive).
struct CellQuantizer {
    bool active = false;
    bool fixedLevels = false;  // sigmoid / tanh outputs: round(v * levels) clamped to [lo, hi], / levels
    float scale = 1.0f, zeroPoint = 0.0f, qmin = 0.0f, qmax = 0.0f;  // affine: torch's rule
    float levels = 1.0f, lo = 0.0f, hi = 0.0f;
};

// The 16 quantization points inside the layer, in this order (the input projections' quantizers ih_r,
// ih_z, ih_n are applied inside the operation too).
enum CellPoint : int {
    kHHr, kHHz, kHHn, kSumR, kSumZ, kSigR, kSigZ, kMulRN, kSumN, kTanhN, kMulZN, kMulZH, kH, kIHr, kIHz, kIHn, kCellPointCount
};

struct CellQuantizers {
    std::array<CellQuantizer, kCellPointCount> q{};
    bool observe = false;  // record min / max of every point's input (calibration, EMA tracking)
    // Return every step's h [B, T, H] (the input of the next layer of a stack) instead of h_T [B, H].
    bool hiddenSequence = false;
};

// x: [B, T, F] (the fake-quantized input), wIh: [3H, F], bIh: [3H], wHh: [3H, H], bHh: [3H] (fake-quantized;
// gates r | z | n). The input projection x W_ih^T + b_ih is computed inside, step by step. Returns h_T
// [B, H], or with quantizers.hiddenSequence h_1..h_T [B, T, H] (a padded row repeats its last valid h);
// differentiable w.r.t. x, wIh, bIh, wHh and bHh. When quantizers.observe is set, *observed
// receives [16 x 2] (min, max) of each point's pre-quantization values. lengths (int32 [B], optional):
// row b stops at step lengths[b] - 1, i.e. h_t = h_{t-1} for t >= lengths[b]; its padding steps are
// neither computed nor observed, and the gradient passes them unchanged.
torch::Tensor fusedGruSequence(const torch::Tensor& x, const torch::Tensor& wIh, const torch::Tensor& bIh,
                               const torch::Tensor& wHh, const torch::Tensor& bHh, const CellQuantizers& quantizers,
                               torch::Tensor* observed = nullptr, const torch::Tensor& lengths = {});

}  // namespace gruq
