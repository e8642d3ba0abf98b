#pragma once
// A GRU classifier quantized for integer-only inference: every number the firmware needs, computed
// once at build time (tflite-micro's "prepare"), so that inference is pure integer arithmetic.
// Built from float weights + calibrated activation ranges + a bit assignment; the QAT model uses the
// very same quantizer functions (fixed_point.h) so both agree. See docs/quantization.md.
#include "gruq/quant/fixed_point.h"
#include "gruq/model/float_model.h"
#include "gruq/quant/genome.h"

#include <array>
#include <cstdint>
#include <vector>

namespace gruq {

// Calibrated real range [min, max] of each activation point (weights and the fixed-range sigmoid /
// tanh outputs ignore theirs).
struct ValueRange {
    double min = 0.0;
    double max = 0.0;
};
using ActivationRanges = std::array<ValueRange, kQuantPointCount>;

// a * A + b * B rounded once with a shared shift: out = Z + floor((a*A + b*B) / 2^shift + 1/2).
struct AddRescale {
    int32_t multiplierA = 0;
    int32_t multiplierB = 0;
    int32_t shift = kMinShift;
};

enum Gate : int { GateR = 0, GateZ = 1, GateN = 2 };

// Bias codes are clamped to +-2^30 (and blobs holding larger ones are refused), so that the int32
// accumulator of a product keeps headroom for the bias.
constexpr int64_t kBiasCodeLimit = int64_t(1) << 30;

struct QuantizedGru {
    GruShape shape;
    BitAssignment bits{};

    // Activation quantizers (scale, zero point, bits) of every activation point.
    std::array<ActivationQuant, kQuantPointCount> act{};

    // Weight codes (symmetric, narrow range, |code| <= 2^(b-1) - 1) and their per-gate scales.
    std::vector<int8_t> wIh;  // [3H x F], rows r | z | n
    std::vector<int8_t> wHh;  // [3H x H]
    std::vector<int8_t> wFc;  // [C x H]
    std::array<double, 3> wIhScale{}, wHhScale{};
    double wFcScale = 1.0;

    // Biases as int32 at scale S_w * S_input (clamped to +-2^30 so accumulators cannot overflow).
    std::vector<int32_t> bIh, bHh, bFc;

    // Requantization of every operator output.
    std::array<FixedMultiplier, 3> ihRescale{}, hhRescale{};  // S_w S_x / S_ih,  S_w S_h / S_hh
    FixedMultiplier fcRescale;                                // S_wfc S_h / S_fc
    FixedMultiplier mulRNRescale, mulZNRescale, mulZHRescale;  // S_a S_b / S_out
    AddRescale sumRRescale, sumZRescale, sumNRescale, hRescale;

    // Lookup tables: output code for every input code.
    std::vector<uint8_t> sigRLut, sigZLut, tanhNLut;

    const ActivationQuant& quant(QuantPoint p) const { return act[static_cast<size_t>(p)]; }
    const ActivationQuant& ihQuant(int gate) const { return act[static_cast<size_t>(QuantPoint::IHr) + gate]; }
    const ActivationQuant& hhQuant(int gate) const { return act[static_cast<size_t>(QuantPoint::HHr) + gate]; }
};

// The integer model for these float weights, bits and calibrated ranges (pure integer/double
// arithmetic, no torch). Throws InputError("quantized model", ...) on inconsistent inputs.
QuantizedGru buildQuantizedGru(const FloatGruWeights& weights, const BitAssignment& bits,
                               const ActivationRanges& ranges);

// The scales the QAT model and the builder share (one definition of each quantizer).
ActivationQuant activationQuantFor(QuantPoint point, const BitAssignment& bits, const ActivationRanges& ranges);

}  // namespace gruq
