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
// One per layer, input layer first (layer l >= 1's x range is layer l-1's h range).
using LayerRanges = std::vector<ActivationRanges>;

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

// One GRU layer of the integer model. Its x quantizer is the model input's (first layer) or, for layer
// l >= 1, exactly layer l-1's h quantizer: the codes pass from layer to layer unchanged.
struct QuantizedGruLayer {
    BitAssignment bits{};

    // Activation quantizers (scale, zero point, bits) of every activation point (the head's w_fc / fc are
    // used on the last layer only).
    std::array<ActivationQuant, kQuantPointCount> act{};

    // Weight codes (symmetric, narrow range, |code| <= 2^(b-1) - 1) and their per-gate scales.
    std::vector<int8_t> wIh;  // [3H x In], rows r | z | n (In: F for the first layer, H after)
    std::vector<int8_t> wHh;  // [3H x H]
    std::array<double, 3> wIhScale{}, wHhScale{};

    // Biases as int32 at scale S_w * S_input (clamped to +-2^30 so accumulators cannot overflow).
    std::vector<int32_t> bIh, bHh;

    // Requantization of every operator output.
    std::array<FixedMultiplier, 3> ihRescale{}, hhRescale{};  // S_w S_x / S_ih,  S_w S_h / S_hh
    FixedMultiplier mulRNRescale, mulZNRescale, mulZHRescale;  // S_a S_b / S_out
    AddRescale sumRRescale, sumZRescale, sumNRescale, hRescale;

    // Lookup tables: output code for every input code.
    std::vector<uint8_t> sigRLut, sigZLut, tanhNLut;

    const ActivationQuant& quant(QuantPoint p) const { return act[static_cast<size_t>(p)]; }
    const ActivationQuant& ihQuant(int gate) const { return act[static_cast<size_t>(QuantPoint::IHr) + gate]; }
    const ActivationQuant& hhQuant(int gate) const { return act[static_cast<size_t>(QuantPoint::HHr) + gate]; }
};

struct QuantizedGru {
    GruShape shape;
    std::vector<QuantizedGruLayer> layers;  // shape.numLayers, input layer first

    // The head on the last layer's h: logits = W_fc h + b_fc (fc quantizer: last layer's act[Fc]).
    std::vector<int8_t> wFc;  // [C x H]
    double wFcScale = 1.0;
    std::vector<int32_t> bFc;
    FixedMultiplier fcRescale;  // S_wfc S_h / S_fc

    LayerBits bits() const;     // every layer's bit assignment
    const ActivationQuant& inputQuant() const { return layers.front().quant(QuantPoint::X); }
    const ActivationQuant& hiddenQuant() const { return layers.back().quant(QuantPoint::H); }  // the head's input
    const ActivationQuant& logitQuant() const { return layers.back().quant(QuantPoint::Fc); }
    int headWeightBits() const { return layers.back().bits[pointIndex(QuantPoint::WFc)]; }
};

// The integer model for these float weights, bits and calibrated ranges (one of each per layer; pure
// integer/double arithmetic, no torch). Throws InputError("quantized model", ...) on inconsistent inputs.
QuantizedGru buildQuantizedGru(const FloatGruWeights& weights, const LayerBits& bits, const LayerRanges& ranges);

// The scales the QAT model and the builder share (one definition of each quantizer): point of `layer`.
// Layer l >= 1's x is layer l-1's h (the same quantizer).
ActivationQuant activationQuantFor(QuantPoint point, int layer, const LayerBits& bits, const LayerRanges& ranges);

}  // namespace gruq
