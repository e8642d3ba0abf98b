#include "gruq/quant/quantized_gru.h"

#include "gruq/base/errors.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gruq {
namespace {



// Symmetric narrow-range codes of rows [row0, row0 + rows) of a row-major matrix, one scale for them.
double quantizeWeightBlock(const std::vector<float>& w, int64_t row0, int64_t rows, int64_t cols, int bits,
                           std::vector<int8_t>& codes) {
    double maxAbs = 0.0;
    for (int64_t i = row0 * cols; i < (row0 + rows) * cols; ++i) maxAbs = std::max(maxAbs, std::fabs(double(w[size_t(i)])));
    const double scale = symmetricWeightScale(bits, maxAbs);
    const int32_t qmax = weightQmax(bits);
    for (int64_t i = row0 * cols; i < (row0 + rows) * cols; ++i) {
        const auto q = static_cast<int64_t>(roundHalfUp(double(w[size_t(i)]) / scale));
        codes[size_t(i)] = static_cast<int8_t>(clampCode(q, -qmax, qmax));
    }
    return scale;
}

int32_t quantizeBias(float b, double scale) {
    const auto q = static_cast<int64_t>(roundHalfUp(double(b) / scale));
    return static_cast<int32_t>(std::clamp<int64_t>(q, -kBiasCodeLimit, kBiasCodeLimit));
}

FixedMultiplier multiplierOrThrow(double m, const char* what) {
    try {
        return quantizeMultiplier(m);
    } catch (const std::invalid_argument& e) {
        throw InputError("quantized model", std::string(what) + ": rescale factor out of range (" + e.what() + ")");
    }
}

AddRescale addRescale(double a, double b, const char* what) {
    try {
        const SharedShiftMultipliers s = quantizeMultipliersSharedShift({a, b});
        return {s.mantissas[0], s.mantissas[1], s.shift};
    } catch (const std::invalid_argument& e) {
        throw InputError("quantized model", std::string(what) + ": rescale factor out of range (" + e.what() + ")");
    }
}

}  // namespace

ActivationQuant activationQuantFor(QuantPoint point, int layer, const LayerBits& bits, const LayerRanges& ranges) {
    if (point == QuantPoint::X && layer > 0) return activationQuantFor(QuantPoint::H, layer - 1, bits, ranges);
    // The logits' quantizer is the head's, observed on the last layer: every layer carries that one.
    const int last = static_cast<int>(ranges.size()) - 1;
    if (point == QuantPoint::Fc && layer < last) return activationQuantFor(QuantPoint::Fc, last, bits, ranges);
    if (layer < 0 || layer > last || bits.size() != ranges.size()) {
        throw InputError("quantized model", "layer " + std::to_string(layer + 1) + " of " + std::to_string(ranges.size()) +
                                                " layers' ranges and " + std::to_string(bits.size()) + " bit assignments");
    }
    const int b = bits[size_t(layer)][pointIndex(point)];
    if (point == QuantPoint::SigR || point == QuantPoint::SigZ) return sigmoidOutputQuant(b);
    if (point == QuantPoint::TanhN) return tanhOutputQuant(b);
    // Widen the calibrated range by 2^-16 of its span on each side: a range that saturates at exact
    // values (e.g. (1 - z) * n reaching exactly -1 and 1) would otherwise give "round" rescale factors
    // whose products land exactly on .5 ties, where float simulation and integer rounding can differ.
    const ValueRange& range = ranges[size_t(layer)][pointIndex(point)];
    const double margin = (range.max - range.min) * 0x1p-16;
    return activationQuantFromRange(b, range.min - margin, range.max + margin);
}

LayerBits QuantizedGru::bits() const {
    LayerBits all;
    for (const QuantizedGruLayer& layer : layers) all.push_back(layer.bits);
    return all;
}

namespace {

// One layer of the integer model: layer `index` of the stack, input size `in`.
QuantizedGruLayer buildLayer(const FloatGruLayer& w, int index, int64_t in, int64_t H, const LayerBits& bits,
                             const LayerRanges& ranges) {
    QuantizedGruLayer q;
    q.bits = bits[size_t(index)];
    for (int p = 0; p < kQuantPointCount; ++p) {
        if (!isWeightPoint(QuantPoint(p))) q.act[size_t(p)] = activationQuantFor(QuantPoint(p), index, bits, ranges);
    }
    const ActivationQuant& xq = q.quant(QuantPoint::X);
    const ActivationQuant& hq = q.quant(QuantPoint::H);

    q.wIh.resize(size_t(3 * H * in));
    q.wHh.resize(size_t(3 * H * H));
    q.bIh.resize(size_t(3 * H));
    q.bHh.resize(size_t(3 * H));
    for (int g = 0; g < 3; ++g) {
        q.wIhScale[size_t(g)] = quantizeWeightBlock(w.wIh, g * H, H, in, q.bits[pointIndex(gatePoint(QuantPoint::WIr, g))], q.wIh);
        q.wHhScale[size_t(g)] = quantizeWeightBlock(w.wHh, g * H, H, H, q.bits[pointIndex(gatePoint(QuantPoint::WHr, g))], q.wHh);
        const double ihAccScale = q.wIhScale[size_t(g)] * xq.scale;
        const double hhAccScale = q.wHhScale[size_t(g)] * hq.scale;
        for (int64_t j = g * H; j < (g + 1) * H; ++j) {
            q.bIh[size_t(j)] = quantizeBias(w.bIh[size_t(j)], ihAccScale);
            q.bHh[size_t(j)] = quantizeBias(w.bHh[size_t(j)], hhAccScale);
        }
        q.ihRescale[size_t(g)] = multiplierOrThrow(ihAccScale / q.ihQuant(g).scale, "ih");
        q.hhRescale[size_t(g)] = multiplierOrThrow(hhAccScale / q.hhQuant(g).scale, "hh");
    }

    auto s = [&](QuantPoint p) { return q.quant(p).scale; };
    q.sumRRescale = addRescale(q.ihQuant(GateR).scale / s(QuantPoint::SumR), q.hhQuant(GateR).scale / s(QuantPoint::SumR), "sum_r");
    q.sumZRescale = addRescale(q.ihQuant(GateZ).scale / s(QuantPoint::SumZ), q.hhQuant(GateZ).scale / s(QuantPoint::SumZ), "sum_z");
    q.sumNRescale = addRescale(q.ihQuant(GateN).scale / s(QuantPoint::SumN), s(QuantPoint::MulRN) / s(QuantPoint::SumN), "sum_n");
    q.hRescale = addRescale(s(QuantPoint::MulZN) / s(QuantPoint::H), s(QuantPoint::MulZH) / s(QuantPoint::H), "h");
    q.mulRNRescale = multiplierOrThrow(s(QuantPoint::SigR) * q.hhQuant(GateN).scale / s(QuantPoint::MulRN), "mul_rn");
    q.mulZNRescale = multiplierOrThrow(s(QuantPoint::SigZ) * s(QuantPoint::TanhN) / s(QuantPoint::MulZN), "mul_zn");
    q.mulZHRescale = multiplierOrThrow(s(QuantPoint::SigZ) * s(QuantPoint::H) / s(QuantPoint::MulZH), "mul_zh");

    q.sigRLut = sigmoidLut(q.quant(QuantPoint::SumR), q.quant(QuantPoint::SigR));
    q.sigZLut = sigmoidLut(q.quant(QuantPoint::SumZ), q.quant(QuantPoint::SigZ));
    q.tanhNLut = tanhLut(q.quant(QuantPoint::SumN), q.quant(QuantPoint::TanhN));
    return q;
}

}  // namespace

QuantizedGru buildQuantizedGru(const FloatGruWeights& w, const LayerBits& bits, const LayerRanges& ranges) {
    w.validate("quantized model");
    const int64_t F = w.shape.inputSize, H = w.shape.hiddenSize, C = w.shape.numClasses, L = w.shape.numLayers;
    if (int64_t(bits.size()) != L || int64_t(ranges.size()) != L) {
        throw InputError("quantized model", "the model has " + std::to_string(L) + " layers, " +
                                                std::to_string(bits.size()) + " bit assignments and " +
                                                std::to_string(ranges.size()) + " calibrated ranges were given");
    }
    for (int64_t l = 0; l < L; ++l) {
        for (int p = 0; p < kQuantPointCount; ++p) {
            const int b = bits[size_t(l)][size_t(p)];
            if (b < 2 || b > 8) {
                throw InputError("quantized model", std::string("point ") + quantPointName(QuantPoint(p)) +
                                                        (L > 1 ? " of layer " + std::to_string(l + 1) : std::string()) +
                                                        " has " + std::to_string(b) + " bits, outside 2..8");
            }
        }
    }
    if (F + H > 2048) throw InputError("quantized model", "F + H must be <= 2048 (int32 accumulator bound)");

    QuantizedGru q;
    q.shape = w.shape;
    for (int64_t l = 0; l < L; ++l) {
        q.layers.push_back(buildLayer(w.layers[size_t(l)], int(l), w.shape.layerInputSize(l), H, bits, ranges));
    }
    const ActivationQuant& hq = q.hiddenQuant();
    q.wFc.resize(size_t(C * H));
    q.bFc.resize(size_t(C));
    q.wFcScale = quantizeWeightBlock(w.wFc, 0, C, H, q.headWeightBits(), q.wFc);
    for (int64_t c = 0; c < C; ++c) q.bFc[size_t(c)] = quantizeBias(w.bFc[size_t(c)], q.wFcScale * hq.scale);
    q.fcRescale = multiplierOrThrow(q.wFcScale * hq.scale / q.logitQuant().scale, "fc");
    return q;
}

}  // namespace gruq
