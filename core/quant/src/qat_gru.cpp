#include "gruq/quant/qat_gru.h"

#include "gruq/quant/fused_gru_sequence.h"
#include "gruq/model/torch_convert.h"

namespace gruq {
namespace {


// Rounds to the integer grid in the forward pass, passes the gradient straight through.
torch::Tensor roundSte(const torch::Tensor& v) { return v + (torch::round(v) - v).detach(); }

}  // namespace

QatGruImpl::QatGruImpl(const FloatGruWeights& w, const LayerBits& bits, double emaMomentum)
    : shape_(w.shape), bits_(bits), momentum_(emaMomentum) {
    w.validate("QAT model");
    const int64_t H = w.shape.hiddenSize, C = w.shape.numClasses, L = w.shape.numLayers;
    TORCH_CHECK(int64_t(bits.size()) == L, "QatGru: one bit assignment per layer");
    ranges_.assign(size_t(L), ActivationRanges{});
    batchMin_.resize(size_t(L));
    batchMax_.resize(size_t(L));
    for (int64_t l = 0; l < L; ++l) {
        const FloatGruLayer& layer = w.layers[size_t(l)];
        const std::string suffix = l == 0 ? "" : "_l" + std::to_string(l);  // layer 1 keeps the one-layer names
        const int64_t in = w.shape.layerInputSize(l);
        layers_.push_back({register_parameter("w_ih" + suffix, vectorToTensor(layer.wIh, {3 * H, in})),
                           register_parameter("w_hh" + suffix, vectorToTensor(layer.wHh, {3 * H, H})),
                           register_parameter("b_ih" + suffix, vectorToTensor(layer.bIh, {3 * H})),
                           register_parameter("b_hh" + suffix, vectorToTensor(layer.bHh, {3 * H}))});
    }
    wFc = register_parameter("w_fc", vectorToTensor(w.wFc, {C, H}));
    bFc = register_parameter("b_fc", vectorToTensor(w.bFc, {C}));
}

FloatGruWeights QatGruImpl::currentWeights() const {
    FloatGruWeights w;
    w.shape = shape_;
    for (const LayerParameters& layer : layers_) {
        w.layers.push_back({tensorToVector(layer.wIh), tensorToVector(layer.wHh), tensorToVector(layer.bIh),
                            tensorToVector(layer.bHh)});
    }
    w.wFc = tensorToVector(wFc);
    w.bFc = tensorToVector(bFc);
    return w;
}

void QatGruImpl::setWeights(const FloatGruWeights& w) {
    torch::NoGradGuard noGrad;
    TORCH_CHECK(w.layers.size() == layers_.size(), "QatGru::setWeights: layer count");
    for (size_t l = 0; l < layers_.size(); ++l) {
        LayerParameters& p = layers_[l];
        const FloatGruLayer& v = w.layers[l];
        for (auto [tensor, values] : {std::pair{&p.wIh, &v.wIh}, {&p.wHh, &v.wHh}, {&p.bIh, &v.bIh}, {&p.bHh, &v.bHh}}) {
            tensor->copy_(vectorToTensor(*values, tensor->sizes()));
        }
    }
    for (auto [tensor, values] : {std::pair{&wFc, &w.wFc}, {&bFc, &w.bFc}}) tensor->copy_(vectorToTensor(*values, tensor->sizes()));
}

void QatGruImpl::observe(const torch::Tensor& v, int layer, QuantPoint p) {
    if (mode_ != QatMode::Calibrate && mode_ != QatMode::Train) return;
    const torch::Tensor d = v.detach();
    const torch::Tensor lo = d.min(), hi = d.max();
    torch::Tensor& curMin = batchMin_[size_t(layer)][pointIndex(p)];
    torch::Tensor& curMax = batchMax_[size_t(layer)][pointIndex(p)];
    curMin = curMin.defined() ? torch::minimum(curMin, lo) : lo;
    curMax = curMax.defined() ? torch::maximum(curMax, hi) : hi;
}

// EMA of the per-batch extremes (the first batch initialises them).
void QatGruImpl::commitObservations() {
    for (size_t l = 0; l < ranges_.size(); ++l) {
        for (int p = 0; p < kQuantPointCount; ++p) {
            torch::Tensor& lo = batchMin_[l][size_t(p)];
            torch::Tensor& hi = batchMax_[l][size_t(p)];
            if (!lo.defined()) continue;
            ValueRange& r = ranges_[l][size_t(p)];
            if (!rangesSeen_) {
                r = {lo.item<double>(), hi.item<double>()};
            } else {
                r.min = momentum_ * r.min + (1.0 - momentum_) * lo.item<double>();
                r.max = momentum_ * r.max + (1.0 - momentum_) * hi.item<double>();
            }
            lo = torch::Tensor();
            hi = torch::Tensor();
        }
    }
    rangesSeen_ = true;
}

torch::Tensor QatGruImpl::fakeQuantActivation(const torch::Tensor& v, int layer, QuantPoint p, const torch::Tensor& observed) {
    observe(observed.defined() ? observed : v, layer, p);
    if (!quantizing()) return v;
    if (p == QuantPoint::SigR || p == QuantPoint::SigZ || p == QuantPoint::TanhN) {
        // Fixed-range outputs: 1/scale is an exact integer, so multiply by it (as the LUT builder does)
        // rather than by a rounded float reciprocal, which would flip exact ties such as sigmoid(0).
        const int b = bits_[size_t(layer)][pointIndex(p)];
        const double levels = p == QuantPoint::TanhN ? double(weightQmax(b)) : double((1 << b) - 1);
        const double lo = p == QuantPoint::TanhN ? -1.0 : 0.0;
        return roundSte(v * levels).clamp(lo * levels, levels) / levels;
    }
    const ActivationQuant q = activationQuantFor(p, layer, bits_, ranges_);
    return torch::fake_quantize_per_tensor_affine(v, q.scale, q.zeroPoint, 0, q.qmax());
}

torch::Tensor QatGruImpl::fakeQuantWeight(const torch::Tensor& w, int layer, QuantPoint p, double* scaleOut) const {
    *scaleOut = 1.0;
    if (!quantizing()) return w;
    const int b = bits_[size_t(layer)][pointIndex(p)];
    *scaleOut = symmetricWeightScale(b, w.detach().abs().max().item<double>());
    return torch::fake_quantize_per_tensor_affine(w, *scaleOut, 0, -weightQmax(b), weightQmax(b));
}

torch::Tensor QatGruImpl::fakeQuantBias(const torch::Tensor& b, double scale) const {
    if (!quantizing()) return b;
    return roundSte(b / scale) * scale;
}

// The fused operation's quantizers: exactly those fakeQuantActivation applies in the reference loop.
torch::Tensor QatGruImpl::fusedLayer(int layer, const torch::Tensor& xq, const torch::Tensor& wIcat,
                                     const torch::Tensor& bIcat, const torch::Tensor& wHcat, const torch::Tensor& bHcat,
                                     const torch::Tensor& lengths, bool hiddenSequence) {
    static constexpr QuantPoint kPoints[kCellPointCount] = {
        QuantPoint::HHr, QuantPoint::HHz,  QuantPoint::HHn,   QuantPoint::SumR,  QuantPoint::SumZ,
        QuantPoint::SigR, QuantPoint::SigZ, QuantPoint::MulRN, QuantPoint::SumN, QuantPoint::TanhN,
        QuantPoint::MulZN, QuantPoint::MulZH, QuantPoint::H,    QuantPoint::IHr,  QuantPoint::IHz,
        QuantPoint::IHn};
    CellQuantizers cq;
    cq.observe = mode_ == QatMode::Calibrate || mode_ == QatMode::Train;
    cq.hiddenSequence = hiddenSequence;
    for (int c = 0; c < kCellPointCount; ++c) {
        const QuantPoint p = kPoints[c];
        CellQuantizer& q = cq.q[size_t(c)];
        q.active = quantizing();
        if (!q.active) continue;
        const int b = bits_[size_t(layer)][pointIndex(p)];
        if (p == QuantPoint::SigR || p == QuantPoint::SigZ || p == QuantPoint::TanhN) {
            q.fixedLevels = true;
            q.levels = p == QuantPoint::TanhN ? float(weightQmax(b)) : float((1 << b) - 1);
            q.lo = p == QuantPoint::TanhN ? -q.levels : 0.0f;
            q.hi = q.levels;
        } else {
            const ActivationQuant a = activationQuantFor(p, layer, bits_, ranges_);
            q.scale = float(a.scale);
            q.zeroPoint = float(a.zeroPoint);
            q.qmin = 0.0f;
            q.qmax = float(a.qmax());
        }
    }
    torch::Tensor observed;
    torch::Tensor h = fusedGruSequence(xq, wIcat, bIcat, wHcat, bHcat, cq, &observed, lengths);
    if (cq.observe) {
        for (int c = 0; c < kCellPointCount; ++c) {
            observe(observed[c][0], layer, kPoints[c]);
            observe(observed[c][1], layer, kPoints[c]);
        }
    }
    return h;
}

torch::Tensor QatGruImpl::runLayer(int layer, const torch::Tensor& xq, const torch::Tensor& lengths, bool hiddenSequence) {
    const int64_t B = xq.size(0), T = xq.size(1), H = shape_.hiddenSize;
    const LayerParameters& params = layers_[size_t(layer)];

    // Weights and biases per gate, fake-quantized once per forward.
    std::vector<torch::Tensor> wI(3), wH(3), bI(3), bH(3);
    const ActivationQuant inq = activationQuantFor(QuantPoint::X, layer, bits_, ranges_);
    const ActivationQuant hq = activationQuantFor(QuantPoint::H, layer, bits_, ranges_);
    for (int g = 0; g < 3; ++g) {
        const torch::Tensor wi = params.wIh.narrow(0, g * H, H), wh = params.wHh.narrow(0, g * H, H);
        double sWi = 1.0, sWh = 1.0;  // the weight scales also set the bias scales
        wI[size_t(g)] = fakeQuantWeight(wi, layer, gatePoint(QuantPoint::WIr, g), &sWi);
        wH[size_t(g)] = fakeQuantWeight(wh, layer, gatePoint(QuantPoint::WHr, g), &sWh);
        bI[size_t(g)] = fakeQuantBias(params.bIh.narrow(0, g * H, H), sWi * inq.scale);
        bH[size_t(g)] = fakeQuantBias(params.bHh.narrow(0, g * H, H), sWh * hq.scale);
    }
    const torch::Tensor wIcat = torch::cat(wI, 0), bIcat = torch::cat(bI, 0);
    const torch::Tensor wHcat = torch::cat(wH, 0), bHcat = torch::cat(bH, 0);
    if (fused_) return fusedLayer(layer, xq, wIcat, bIcat, wHcat, bHcat, lengths, hiddenSequence);

    // The reference loop (the fused operation's test oracle) runs unpadded rows only.
    TORCH_CHECK(!lengths.defined(), "QatGru: the reference loop has no padded-sequence support (use the fused path)");
    // The input projection of every step at once: [B, T, 3H].
    const torch::Tensor ihAll = torch::matmul(xq, wIcat.t()) + bIcat;
    std::vector<torch::Tensor> ihGate(3);
    for (int g = 0; g < 3; ++g) ihGate[size_t(g)] = fakeQuantActivation(ihAll.narrow(2, g * H, H), layer, gatePoint(QuantPoint::IHr, g));

    // unbind, not select(1, t) per step: each select's backward would write a zero-filled gradient of
    // the whole sequence (quadratic in T: minutes per step at T = 784).
    const std::vector<torch::Tensor> ihRs = ihGate[0].unbind(1), ihZs = ihGate[1].unbind(1), ihNs = ihGate[2].unbind(1);
    torch::Tensor h = torch::zeros({B, H}, xq.options());
    std::vector<torch::Tensor> sequence;
    auto q = [&](const torch::Tensor& v, QuantPoint p) { return fakeQuantActivation(v, layer, p); };
    for (int64_t t = 0; t < T; ++t) {
        const torch::Tensor hhAll = torch::addmm(bHcat, h, wHcat.t());
        const torch::Tensor hhR = q(hhAll.narrow(1, 0, H), QuantPoint::HHr);
        const torch::Tensor hhZ = q(hhAll.narrow(1, H, H), QuantPoint::HHz);
        const torch::Tensor hhN = q(hhAll.narrow(1, 2 * H, H), QuantPoint::HHn);
        const torch::Tensor& ihR = ihRs[size_t(t)];
        const torch::Tensor& ihZ = ihZs[size_t(t)];
        const torch::Tensor& ihN = ihNs[size_t(t)];

        const torch::Tensor sumR = q(ihR + hhR, QuantPoint::SumR);
        const torch::Tensor sumZ = q(ihZ + hhZ, QuantPoint::SumZ);
        const torch::Tensor r = q(torch::sigmoid(sumR), QuantPoint::SigR);
        const torch::Tensor z = q(torch::sigmoid(sumZ), QuantPoint::SigZ);
        const torch::Tensor rn = q(r * hhN, QuantPoint::MulRN);
        const torch::Tensor sumN = q(ihN + rn, QuantPoint::SumN);
        const torch::Tensor n = q(torch::tanh(sumN), QuantPoint::TanhN);
        const torch::Tensor zn = q((1 - z) * n, QuantPoint::MulZN);
        const torch::Tensor zh = q(z * h, QuantPoint::MulZH);
        h = q(zn + zh, QuantPoint::H);
        if (hiddenSequence) sequence.push_back(h);
    }
    return hiddenSequence ? torch::stack(sequence, 1) : h;
}

torch::Tensor QatGruImpl::forward(const torch::Tensor& x, const torch::Tensor& lengths) {
    const int64_t B = x.size(0), T = x.size(1);
    // A padded input's range is that of its valid steps: the padding is never fed to the cell.
    torch::Tensor validX;
    if (lengths.defined()) {
        const torch::Tensor valid = torch::arange(T, lengths.options()).view({1, T}).lt(lengths.view({B, 1}));
        validX = x.detach().masked_select(valid.unsqueeze(2).expand_as(x));
    }
    // Layer l >= 1 reads layer l-1's fake-quantized h sequence: its x quantizer is that h's, already applied.
    torch::Tensor input = fakeQuantActivation(x, 0, QuantPoint::X, validX);
    const int L = static_cast<int>(layers_.size());
    for (int l = 0; l < L; ++l) input = runLayer(l, input, lengths, l + 1 < L);
    return classify(input);
}

torch::Tensor QatGruImpl::classify(const torch::Tensor& h) {
    const int last = static_cast<int>(layers_.size()) - 1;
    const ActivationQuant hq = activationQuantFor(QuantPoint::H, last, bits_, ranges_);
    double sWf = 1.0;
    const torch::Tensor wF = fakeQuantWeight(wFc, last, QuantPoint::WFc, &sWf);
    const torch::Tensor logits =
        fakeQuantActivation(torch::addmm(fakeQuantBias(bFc, sWf * hq.scale), h, wF.t()), last, QuantPoint::Fc);
    commitObservations();
    return logits;
}

}  // namespace gruq
