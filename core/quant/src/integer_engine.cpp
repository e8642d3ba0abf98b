#include "gruq/quant/integer_engine.h"

#include "integer_engine_lanes.h"

#include "gruq/base/errors.h"

#include <algorithm>
#include <thread>

namespace gruq {
namespace {

// The two rescaling rules, shared with the batched path (integer_engine_lanes.h).
inline int32_t addCodes(int32_t a, int32_t b, const AddRescale& r, const ActivationQuant& out) {
    return lanes::AddCodes(r, out)(a, b);
}

inline int32_t requant(int64_t v, const FixedMultiplier& m, const ActivationQuant& out) { return lanes::Requant(m, out)(v); }

// out[j] = requant(bias[j] + sum_k w[j,k] * in[k]) for rows [0, rows); biases carry the folded zero point.
void matVec(const int16_t* w, const int32_t* bias, const int16_t* in, int64_t rows, int64_t cols,
            const FixedMultiplier& m, const ActivationQuant& out, int32_t* result) {
    for (int64_t j = 0; j < rows; ++j) {
        const int16_t* row = w + j * cols;
        int32_t acc = 0;
        for (int64_t k = 0; k < cols; ++k) acc += int32_t(row[k]) * int32_t(in[k]);
        result[j] = requant(int64_t(acc) + bias[j], m, out);
    }
}

// b[j] - zeroPoint * sum_k w[j,k], per row.
std::vector<int32_t> foldZeroPoint(const std::vector<int8_t>& w, const std::vector<int32_t>& b, int64_t cols,
                                   int32_t zeroPoint) {
    std::vector<int32_t> folded(b.size());
    for (size_t j = 0; j < b.size(); ++j) {
        int64_t rowSum = 0;
        for (int64_t k = 0; k < cols; ++k) rowSum += w[j * size_t(cols) + size_t(k)];
        folded[j] = static_cast<int32_t>(int64_t(b[j]) - int64_t(zeroPoint) * rowSum);
    }
    return folded;
}

int resolveThreads(int threads) {
    return threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

IntegerGruEngine::IntegerGruEngine(const QuantizedGru& model) : model_(model) {
    const int64_t H = model_.shape.hiddenSize, C = model_.shape.numClasses;
    if (int64_t(model_.layers.size()) != model_.shape.numLayers || model_.layers.empty()) {
        throw InputError("quantized model", std::to_string(model_.layers.size()) + " layers, shape " + model_.shape.key());
    }
    if (int64_t(model_.wFc.size()) != C * H || int64_t(model_.bFc.size()) != C) {
        throw InputError("quantized model", "head array sizes do not match shape " + model_.shape.key());
    }
    auto lutOk = [](const std::vector<uint8_t>& lut, const ActivationQuant& in) { return lut.size() == size_t(1) << in.bits; };
    for (size_t l = 0; l < model_.layers.size(); ++l) {
        const QuantizedGruLayer& q = model_.layers[l];
        const int64_t in = model_.shape.layerInputSize(int64_t(l));
        if (int64_t(q.wIh.size()) != 3 * H * in || int64_t(q.wHh.size()) != 3 * H * H || int64_t(q.bIh.size()) != 3 * H ||
            int64_t(q.bHh.size()) != 3 * H) {
            throw InputError("quantized model", "array sizes of layer " + std::to_string(l + 1) +
                                                    " do not match shape " + model_.shape.key());
        }
        if (!lutOk(q.sigRLut, q.quant(QuantPoint::SumR)) || !lutOk(q.sigZLut, q.quant(QuantPoint::SumZ)) ||
            !lutOk(q.tanhNLut, q.quant(QuantPoint::SumN))) {
            throw InputError("quantized model", "lookup table sizes of layer " + std::to_string(l + 1) +
                                                    " do not match their input bit widths");
        }
        // The codes pass from layer to layer unchanged: layer l's x must be exactly layer l-1's h.
        if (l > 0) {
            const ActivationQuant &x = q.quant(QuantPoint::X), &h = model_.layers[l - 1].quant(QuantPoint::H);
            if (x.scale != h.scale || x.zeroPoint != h.zeroPoint || x.bits != h.bits) {
                throw InputError("quantized model", "layer " + std::to_string(l + 1) + "'s input quantizer is not layer " +
                                                        std::to_string(l) + "'s hidden-state quantizer");
            }
        }
        PreparedLayer prepared;
        prepared.wIh16.assign(q.wIh.begin(), q.wIh.end());
        prepared.wHh16.assign(q.wHh.begin(), q.wHh.end());
        prepared.bIhFolded = foldZeroPoint(q.wIh, q.bIh, in, q.quant(QuantPoint::X).zeroPoint);
        prepared.bHhFolded = foldZeroPoint(q.wHh, q.bHh, H, q.quant(QuantPoint::H).zeroPoint);
        prepared.wIhPairs = lanes::packWeightPairs(q.wIh, 3 * H, in);
        prepared.wHhPairs = lanes::packWeightPairs(q.wHh, 3 * H, H);
        layers_.push_back(std::move(prepared));
    }
    wFc16_.assign(model_.wFc.begin(), model_.wFc.end());
    bFcFolded_ = foldZeroPoint(model_.wFc, model_.bFc, H, model_.hiddenQuant().zeroPoint);
    wFcPairs_ = lanes::packWeightPairs(model_.wFc, C, H);
}

void IntegerGruEngine::quantizeInput(const float* values, int64_t count, uint8_t* codes) const {
    lanes::quantizeCodes(values, count, model_.inputQuant(), codes);
}

namespace {

// One step of one layer: in = the layer's input codes (int16), h = its hidden codes, updated in place.
// ih, hh, hCodes and hShifted are scratch of 3H, 3H, H and H values.
void stepLayer(const QuantizedGruLayer& m, const int16_t* wIh16, const int32_t* bIhFolded, const int16_t* wHh16,
               const int32_t* bHhFolded, const int16_t* in, int64_t inSize, int64_t H, int32_t* h, int32_t* ih,
               int32_t* hh, int16_t* hCodes, int16_t* hShifted) {
    const ActivationQuant& hq = m.quant(QuantPoint::H);
    const ActivationQuant& sigR = m.quant(QuantPoint::SigR);
    const ActivationQuant& sigZ = m.quant(QuantPoint::SigZ);
    const ActivationQuant& tanhN = m.quant(QuantPoint::TanhN);
    const ActivationQuant& mulRN = m.quant(QuantPoint::MulRN);
    const ActivationQuant& mulZN = m.quant(QuantPoint::MulZN);
    const ActivationQuant& mulZH = m.quant(QuantPoint::MulZH);
    const ActivationQuant& sumR = m.quant(QuantPoint::SumR);
    const ActivationQuant& sumZ = m.quant(QuantPoint::SumZ);
    const ActivationQuant& sumN = m.quant(QuantPoint::SumN);
    for (int64_t k = 0; k < H; ++k) {
        hCodes[k] = int16_t(h[k]);
        hShifted[k] = int16_t(h[k] - hq.zeroPoint);
    }
    for (int g = 0; g < 3; ++g) {
        matVec(wIh16 + g * H * inSize, bIhFolded + g * H, in, H, inSize, m.ihRescale[size_t(g)], m.ihQuant(g), ih + g * H);
        matVec(wHh16 + g * H * H, bHhFolded + g * H, hCodes, H, H, m.hhRescale[size_t(g)], m.hhQuant(g), hh + g * H);
    }
    const int32_t zIhR = m.ihQuant(GateR).zeroPoint, zHhR = m.hhQuant(GateR).zeroPoint;
    const int32_t zIhZ = m.ihQuant(GateZ).zeroPoint, zHhZ = m.hhQuant(GateZ).zeroPoint;
    const int32_t zIhN = m.ihQuant(GateN).zeroPoint, zHhN = m.hhQuant(GateN).zeroPoint;
    for (int64_t j = 0; j < H; ++j) {
        const int32_t sr = addCodes(ih[j] - zIhR, hh[j] - zHhR, m.sumRRescale, sumR);
        const int32_t sz = addCodes(ih[H + j] - zIhZ, hh[H + j] - zHhZ, m.sumZRescale, sumZ);
        const int32_t r = m.sigRLut[size_t(sr)];
        const int32_t z = m.sigZLut[size_t(sz)];
        const int32_t rn = requant(int64_t(r - sigR.zeroPoint) * (hh[2 * H + j] - zHhN), m.mulRNRescale, mulRN);
        const int32_t sn = addCodes(ih[2 * H + j] - zIhN, rn - mulRN.zeroPoint, m.sumNRescale, sumN);
        const int32_t n = m.tanhNLut[size_t(sn)];
        // 1 - z exactly: the sigmoid quantizer has 1 = qmax * S_z, so (1 - z) has code qmax + Z_z - z.
        const int32_t oneMinusZ = sigZ.qmax() + sigZ.zeroPoint - z;
        const int32_t zn = requant(int64_t(oneMinusZ) * (n - tanhN.zeroPoint), m.mulZNRescale, mulZN);
        const int32_t zh = requant(int64_t(z - sigZ.zeroPoint) * hShifted[j], m.mulZHRescale, mulZH);
        h[j] = addCodes(zn - mulZN.zeroPoint, zh - mulZH.zeroPoint, m.hRescale, hq);
    }
}

}  // namespace

void IntegerGruEngine::run(const uint8_t* inputCodes, int64_t steps, int32_t* logits) const {
    const QuantizedGru& m = model_;
    const int64_t F = m.shape.inputSize, H = m.shape.hiddenSize, C = m.shape.numClasses;

    // Working memory for one sequence; sized once per call, nothing allocated inside the loop.
    std::vector<int16_t> in(static_cast<size_t>(std::max(F, H))), hCodes(static_cast<size_t>(H)), hShifted(static_cast<size_t>(H));
    std::vector<int32_t> ih(static_cast<size_t>(3 * H)), hh(static_cast<size_t>(3 * H));
    std::vector<std::vector<int32_t>> h;
    for (const QuantizedGruLayer& layer : m.layers) h.emplace_back(static_cast<size_t>(H), layer.quant(QuantPoint::H).zeroPoint);

    for (int64_t t = 0; t < steps; ++t) {
        const uint8_t* x = inputCodes + t * F;
        for (int64_t k = 0; k < F; ++k) in[size_t(k)] = int16_t(x[k]);
        for (size_t l = 0; l < m.layers.size(); ++l) {
            if (l > 0) {  // layer l reads the h codes layer l - 1 has just computed
                for (int64_t k = 0; k < H; ++k) in[size_t(k)] = int16_t(h[l - 1][size_t(k)]);
            }
            const PreparedLayer& p = layers_[l];
            stepLayer(m.layers[l], p.wIh16.data(), p.bIhFolded.data(), p.wHh16.data(), p.bHhFolded.data(), in.data(),
                      m.shape.layerInputSize(int64_t(l)), H, h[l].data(), ih.data(), hh.data(), hCodes.data(),
                      hShifted.data());
        }
    }
    for (int64_t k = 0; k < H; ++k) hCodes[size_t(k)] = int16_t(h.back()[size_t(k)]);
    std::vector<int32_t> out(static_cast<size_t>(C));
    matVec(wFc16_.data(), bFcFolded_.data(), hCodes.data(), C, H, m.fcRescale, m.logitQuant(), out.data());
    std::copy(out.begin(), out.end(), logits);
}

int IntegerGruEngine::argmax(const int32_t* logits, int64_t count) {
    int best = 0;
    for (int64_t c = 1; c < count; ++c) {
        if (logits[c] > logits[best]) best = static_cast<int>(c);
    }
    return best;
}

namespace {

// Runs work(worker, workers) on `threads` threads (0 = all cores), at most one per unit of work.
template <typename Work>
void onThreads(int threads, int64_t units, Work work) {
    const int workers = static_cast<int>(std::min<int64_t>(resolveThreads(threads), std::max<int64_t>(1, units)));
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w) pool.emplace_back(work, w, workers);
    work(0, workers);
    for (auto& t : pool) t.join();
}

void checkFeatures(const SequenceSet& set, int64_t F) {
    if (set.features != F) {
        throw InputError("integer engine", "data has " + std::to_string(set.features) + " features, model expects " +
                                               std::to_string(F));
    }
}

}  // namespace

const char* IntegerGruEngine::batchedKernelIsa() { return lanes::laneKernelIsa(); }

bool IntegerGruEngine::useBatchedKernel(const std::string& isa) { return lanes::useKernelIsa(isa); }

std::vector<int32_t> IntegerGruEngine::logitsOf(const SequenceSet& set, int threads) const {
    const int64_t F = model_.shape.inputSize, C = model_.shape.numClasses;
    checkFeatures(set, F);
    std::vector<int32_t> logits(size_t(set.count * C));
    lanes::PreparedModel prepared{&model_, {}, wFcPairs_.data(), bFcFolded_.data()};
    for (size_t l = 0; l < layers_.size(); ++l) {
        const PreparedLayer& p = layers_[l];
        prepared.layers.push_back({&model_.layers[l], p.wIhPairs.data(), p.wHhPairs.data(), p.bIhFolded.data(), p.bHhFolded.data()});
    }
    constexpr int L = lanes::kLanes;
    const int64_t groups = (set.count + L - 1) / L;
    onThreads(threads, groups, [&](int worker, int workers) {
        lanes::Workspace workspace(model_.shape);
        std::vector<uint8_t> codes(size_t(L * set.sequenceSize()));
        const uint8_t* starts[L];
        int64_t steps[L];
        for (int64_t g = worker; g < groups; g += workers) {
            const int count = static_cast<int>(std::min<int64_t>(L, set.count - g * L));
            for (int l = 0; l < count; ++l) {
                const int64_t i = g * L + l;
                steps[l] = set.lengthOf(i);  // a padded sequence runs its valid steps only
                uint8_t* mine = codes.data() + size_t(l) * size_t(set.sequenceSize());
                quantizeInput(set.sequence(i), steps[l] * F, mine);
                starts[l] = mine;
            }
            lanes::runLanes(prepared, starts, steps, count, workspace, logits.data() + g * L * C);
        }
    });
    return logits;
}

std::vector<int32_t> IntegerGruEngine::logitsOneByOne(const SequenceSet& set, int threads) const {
    const int64_t F = model_.shape.inputSize, C = model_.shape.numClasses;
    checkFeatures(set, F);
    std::vector<int32_t> logits(size_t(set.count * C));
    onThreads(threads, set.count, [&](int worker, int workers) {
        std::vector<uint8_t> codes(size_t(set.sequenceSize()));
        for (int64_t i = worker; i < set.count; i += workers) {
            const int64_t steps = set.lengthOf(i);
            quantizeInput(set.sequence(i), steps * F, codes.data());
            run(codes.data(), steps, logits.data() + i * C);
        }
    });
    return logits;
}

std::vector<int32_t> IntegerGruEngine::predict(const SequenceSet& set, int threads) const {
    const int64_t C = model_.shape.numClasses;
    const std::vector<int32_t> logits = logitsOf(set, threads);
    std::vector<int32_t> predictions(size_t(set.count));
    for (int64_t i = 0; i < set.count; ++i) predictions[size_t(i)] = argmax(logits.data() + i * C, C);
    return predictions;
}

std::vector<std::vector<int64_t>> IntegerGruEngine::confusionMatrix(const SequenceSet& set, int threads) const {
    const auto C = static_cast<size_t>(model_.shape.numClasses);
    std::vector<std::vector<int64_t>> counts(C, std::vector<int64_t>(C, 0));
    const std::vector<int32_t> predictions = predict(set, threads);
    for (int64_t i = 0; i < set.count; ++i) {
        const auto truth = static_cast<size_t>(set.y[size_t(i)]);
        if (truth < C) ++counts[truth][size_t(predictions[size_t(i)])];
    }
    return counts;
}

double IntegerGruEngine::accuracy(const SequenceSet& set, int threads) const {
    return accuracyOf(predict(set, threads), set);
}

}  // namespace gruq
