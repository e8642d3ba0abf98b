#include "gruq/quant/fused_gru_sequence.h"

#include <cblas.h>  // libblas-dev's header; at run time the BLAS is OpenBLAS, the library torch itself uses

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

// Helpers are inlined into the row passes, which are cloned per ISA: rounding vectorises (roundps) only
// from SSE4.1 on and 8-wide from AVX2; the baseline build is SSE2.
#define GRUQ_INLINE inline __attribute__((always_inline))
#define GRUQ_ISA_CLONES __attribute__((target_clones("avx2", "sse4.1", "default")))

namespace gruq {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Values kept per step for the backward pass, [T, kSavedCount, B, H].
enum Saved : int { kHN, kRPre, kR, kZPre, kZ, kNPre, kN, kSavedCount };

struct MinMax {
    std::array<float, kCellPointCount> lo, hi;
    MinMax() {
        // Finite sentinels: this file is compiled with -ffast-math (finite math assumed).
        lo.fill(std::numeric_limits<float>::max());
        hi.fill(-std::numeric_limits<float>::max());
    }
    GRUQ_INLINE void note(int p, const float* v, int64_t n) {
        float a = lo[size_t(p)], b = hi[size_t(p)];
        for (int64_t j = 0; j < n; ++j) {
            a = std::min(a, v[j]);
            b = std::max(b, v[j]);
        }
        lo[size_t(p)] = a;
        hi[size_t(p)] = b;
    }
};

// out = quantizer(in) over n values; bit `bit` of mask[j] = whether the straight-through gradient passes
// (the value was not clamped). in and out may alias.
GRUQ_INLINE void quantize(const CellQuantizer& q, const float* in, float* out, int16_t* mask, int bit, int64_t n) {
    const int16_t one = static_cast<int16_t>(1 << bit);
    if (!q.active) {
        for (int64_t j = 0; j < n; ++j) {
            out[j] = in[j];
            mask[j] = static_cast<int16_t>(mask[j] | one);
        }
    } else if (q.fixedLevels) {
        const float levels = q.levels, lo = q.lo, hi = q.hi;
        for (int64_t j = 0; j < n; ++j) {
            const float v = std::nearbyint(in[j] * levels);
            mask[j] = static_cast<int16_t>(mask[j] | (v >= lo && v <= hi ? one : 0));
            out[j] = std::min(std::max(v, lo), hi) / levels;
        }
    } else {
        // torch::fake_quantize_per_tensor_affine: q = Z + nearbyint(x / S) (with a float reciprocal),
        // value = (clamp(q) - Z) * S, gradient passes where q was inside [qmin, qmax].
        const float inv = 1.0f / q.scale, scale = q.scale, zp = q.zeroPoint, qmin = q.qmin, qmax = q.qmax;
        for (int64_t j = 0; j < n; ++j) {
            const float v = zp + std::nearbyint(in[j] * inv);
            mask[j] = static_cast<int16_t>(mask[j] | (v >= qmin && v <= qmax ? one : 0));
            out[j] = (std::min(std::max(v, qmin), qmax) - zp) * scale;
        }
    }
}

// The affine quantizer's integer code (clamped q - qmin) instead of its value: the index into the
// lookup table of the activation that follows.
GRUQ_INLINE void quantizeToCode(const CellQuantizer& q, const float* in, int32_t* code, int16_t* mask, int bit, int64_t n) {
    const int16_t one = static_cast<int16_t>(1 << bit);
    const float inv = 1.0f / q.scale, zp = q.zeroPoint, qmin = q.qmin, qmax = q.qmax;
    const int32_t last = static_cast<int32_t>(qmax - qmin);
    for (int64_t j = 0; j < n; ++j) {
        const float v = zp + std::nearbyint(in[j] * inv);
        mask[j] = static_cast<int16_t>(mask[j] | (v >= qmin && v <= qmax ? one : 0));
        // Clamped again as an integer: with -ffast-math the float clamp of a NaN (a diverging training
        // run) is up to the compiler, and the code must index the table whatever it gives.
        const int32_t c = static_cast<int32_t>(std::min(std::max(v, qmin), qmax) - qmin);
        code[j] = std::min(std::max(c, int32_t(0)), last);
    }
}

// sigmoid / tanh (before and after its fixed-level quantizer) of every value the quantized sum feeding
// it can take, indexed by that sum's code. Built with torch's own functions on the exact values of the
// reference path, so looking up is the same computation, not an approximation.
struct ActivationLut {
    bool enabled = false;
    std::vector<float> pre, out;
    std::vector<int16_t> passBit;  // the output point's mask bit where its quantizer did not clamp
};

enum class Activation { Sigmoid, Tanh };

ActivationLut buildLut(const CellQuantizer& in, const CellQuantizer& out, int outBit, Activation fn) {
    ActivationLut lut;
    if (!in.active || in.fixedLevels || !out.active || !out.fixedLevels) return lut;
    const int64_t codes = int64_t(in.qmax - in.qmin) + 1;
    // Padded to whole vectors so that torch evaluates every entry on its vectorised path, as it does
    // for the reference path's [B, H] tensors.
    const int64_t padded = (codes + 63) / 64 * 64;
    std::vector<float> grid(static_cast<size_t>(padded), 0.0f);
    for (int64_t c = 0; c < padded; ++c) {
        const double q = std::min<double>(double(in.qmin) + double(c), in.qmax);
        // torch computes (clamp(q) - Z) * S in double and rounds once to float.
        grid[size_t(c)] = float((q - double(in.zeroPoint)) * double(in.scale));
    }
    const torch::Tensor v = torch::from_blob(grid.data(), {padded}, torch::kFloat);
    const torch::Tensor pre = fn == Activation::Sigmoid ? torch::sigmoid(v) : torch::tanh(v);
    const torch::Tensor scaled = torch::round(pre * out.levels);
    const torch::Tensor quantized = scaled.clamp(out.lo, out.hi) / out.levels;
    const torch::Tensor passes = scaled.ge(out.lo).logical_and(scaled.le(out.hi));
    const float* preData = pre.data_ptr<float>();
    const float* outData = quantized.data_ptr<float>();
    const bool* passData = passes.data_ptr<bool>();
    lut.pre.assign(preData, preData + codes);
    lut.out.assign(outData, outData + codes);
    for (int64_t c = 0; c < codes; ++c) lut.passBit.push_back(static_cast<int16_t>(passData[c] ? 1 << outBit : 0));
    lut.enabled = true;
    return lut;
}

struct ForwardStep {
    const CellQuantizers* cq;
    const ActivationLut* sigR;
    const ActivationLut* sigZ;
    const ActivationLut* tanhN;
    const float* ihStep;  // [B, 3H] x_t W_ih^T (bias not yet added)
    const float* hhStep;  // [B, 3H] h_{t-1} W_hh^T (bias not yet added)
    const float* bIh;
    const float* bHh;
    const float* hPrev;  // [B, H]
    float* hOut;         // [B, H]
    float* saved;        // [kSavedCount, B, H] of this step
    int16_t* masks;      // [B, H] of this step
    float* scratch;      // kRowScratchFloats * H: one row's intermediates (stays in L1)
    int32_t* codes;      // H: table indices
    int64_t B, H;
};
constexpr int64_t kRowScratchFloats = 14;

// sum -> (its quantizer) -> sigmoid / tanh -> pre, -> (the output quantizer) -> out; by table lookup
// when there is one. `sum` is scratch and may be overwritten.
template <bool kObserve>
GRUQ_INLINE void activate(const ForwardStep& s, int inPoint, int outPoint, const ActivationLut& lut, Activation fn,
                          float* sum, int32_t* code, float* pre, float* out, int16_t* m, MinMax& mm) {
    const CellQuantizers& cq = *s.cq;
    const int64_t H = s.H;
    if (lut.enabled) {
        quantizeToCode(cq.q[size_t(inPoint)], sum, code, m, inPoint, H);
        const float* lutPre = lut.pre.data();
        const float* lutOut = lut.out.data();
        const int16_t* lutPass = lut.passBit.data();
        for (int64_t j = 0; j < H; ++j) {
            const int32_t c = code[j];
            pre[j] = lutPre[c];
            out[j] = lutOut[c];
            m[j] = static_cast<int16_t>(m[j] | lutPass[c]);
        }
    } else {
        quantize(cq.q[size_t(inPoint)], sum, sum, m, inPoint, H);
        if (fn == Activation::Sigmoid) {
            for (int64_t j = 0; j < H; ++j) pre[j] = 1.0f / (1.0f + std::exp(-sum[j]));
        } else {
            for (int64_t j = 0; j < H; ++j) pre[j] = std::tanh(sum[j]);
        }
        quantize(cq.q[size_t(outPoint)], pre, out, m, outPoint, H);
    }
    if (kObserve) mm.note(outPoint, pre, H);
}

// The whole cell for batch row bi of one step: every operator and its fake quantizer, one short loop
// over the row each (vectorised), the values backward needs saved, the clamp masks recorded.
template <bool kObserve>
GRUQ_INLINE void forwardRow(const ForwardStep& s, int64_t bi, MinMax& mm) {
    const CellQuantizers& cq = *s.cq;
    const auto& q = cq.q;
    const int64_t H = s.H, BH = s.B * H, row = bi * H;
    float* scratch = s.scratch;
    float* ih = scratch;           // 3H
    float* ihq = scratch + 3 * H;  // 3H
    float* hh = scratch + 6 * H;   // 3H
    float* hqR = scratch + 9 * H;
    float* hqZ = scratch + 10 * H;
    float* sum = scratch + 11 * H;
    float* t1 = scratch + 12 * H;
    float* t2 = scratch + 13 * H;
    int32_t* code = s.codes;
    float* sv = s.saved;
    float* hN = sv + kHN * BH + row;
    float* rPre = sv + kRPre * BH + row;
    float* r = sv + kR * BH + row;
    float* zPre = sv + kZPre * BH + row;
    float* z = sv + kZ * BH + row;
    float* nPre = sv + kNPre * BH + row;
    float* n = sv + kN * BH + row;
    int16_t* m = s.masks + row;
    const float* hPrev = s.hPrev + row;

    const float* ihIn = s.ihStep + bi * 3 * H;
    const float* hhIn = s.hhStep + bi * 3 * H;
    for (int64_t j = 0; j < 3 * H; ++j) ih[j] = ihIn[j] + s.bIh[j];
    for (int64_t j = 0; j < 3 * H; ++j) hh[j] = hhIn[j] + s.bHh[j];
    for (int64_t j = 0; j < H; ++j) m[j] = 0;
    for (int g = 0; g < 3; ++g) {
        if (kObserve) mm.note(kIHr + g, ih + g * H, H);
        quantize(q[size_t(kIHr + g)], ih + g * H, ihq + g * H, m, kIHr + g, H);
        if (kObserve) mm.note(kHHr + g, hh + g * H, H);
    }
    quantize(q[kHHr], hh, hqR, m, kHHr, H);
    quantize(q[kHHz], hh + H, hqZ, m, kHHz, H);
    quantize(q[kHHn], hh + 2 * H, hN, m, kHHn, H);

    for (int64_t j = 0; j < H; ++j) sum[j] = hqR[j] + ihq[j];
    if (kObserve) mm.note(kSumR, sum, H);
    activate<kObserve>(s, kSumR, kSigR, *s.sigR, Activation::Sigmoid, sum, code, rPre, r, m, mm);

    for (int64_t j = 0; j < H; ++j) sum[j] = hqZ[j] + ihq[H + j];
    if (kObserve) mm.note(kSumZ, sum, H);
    activate<kObserve>(s, kSumZ, kSigZ, *s.sigZ, Activation::Sigmoid, sum, code, zPre, z, m, mm);

    for (int64_t j = 0; j < H; ++j) t1[j] = r[j] * hN[j];
    if (kObserve) mm.note(kMulRN, t1, H);
    quantize(q[kMulRN], t1, t1, m, kMulRN, H);
    for (int64_t j = 0; j < H; ++j) sum[j] = t1[j] + ihq[2 * H + j];
    if (kObserve) mm.note(kSumN, sum, H);
    activate<kObserve>(s, kSumN, kTanhN, *s.tanhN, Activation::Tanh, sum, code, nPre, n, m, mm);

    for (int64_t j = 0; j < H; ++j) t1[j] = (1.0f - z[j]) * n[j];
    for (int64_t j = 0; j < H; ++j) t2[j] = z[j] * hPrev[j];
    if (kObserve) {
        mm.note(kMulZN, t1, H);
        mm.note(kMulZH, t2, H);
    }
    quantize(q[kMulZN], t1, t1, m, kMulZN, H);
    quantize(q[kMulZH], t2, t2, m, kMulZH, H);
    for (int64_t j = 0; j < H; ++j) sum[j] = t1[j] + t2[j];
    if (kObserve) mm.note(kH, sum, H);
    quantize(q[kH], sum, s.hOut + row, m, kH, H);
}

GRUQ_ISA_CLONES void forwardRowObserved(const ForwardStep& s, int64_t bi, MinMax& mm) { forwardRow<true>(s, bi, mm); }
GRUQ_ISA_CLONES void forwardRowPlain(const ForwardStep& s, int64_t bi, MinMax& mm) { forwardRow<false>(s, bi, mm); }

struct BackwardStep {
    const float* g;        // [B, H] dL/dh_t
    const float* saved;    // [kSavedCount, B, H] of this step
    const int16_t* masks;  // [B, H]
    const float* hPrev;    // [B, H] h_{t-1}
    float* da;             // [B, 3H] gradient of the recurrent projection h_{t-1} W_hh^T + b_hh
    float* dih;            // [B, 3H] gradient of the input projection x_t W_ih^T + b_ih
    float* dhDirect;       // [B, H] the part of dL/dh_{t-1} that does not go through W_hh
    float* dbHh;           // [3H] sum of da over the rows and steps so far (the b_hh gradient)
    float* dbIh;           // [3H] sum of dih (the b_ih gradient)
    int64_t B, H;
};

// Backward through the cell for one batch row: straight-through gradients masked where a quantizer
// clamped, sigmoid' = s (1 - s), tanh' = 1 - t^2. (Plain restrict parameters: GCC does not vectorise
// the same loop written over pointers taken from a struct.)
GRUQ_ISA_CLONES void backwardCell(int64_t H, const float* __restrict g, const int16_t* __restrict m,
                                  const float* __restrict hp, const float* __restrict hNs, const float* __restrict rPres,
                                  const float* __restrict rs, const float* __restrict zPres, const float* __restrict zs,
                                  const float* __restrict nPres, const float* __restrict ns, float* __restrict da,
                                  float* __restrict dih, float* __restrict direct, float* __restrict dbHh,
                                  float* __restrict dbIh) {
    for (int64_t j = 0; j < H; ++j) {
        const int mk = m[j];
        auto pass = [mk](int p) { return float((mk >> p) & 1); };
        const float hN = hNs[j], rPre = rPres[j], r = rs[j], zPre = zPres[j], z = zs[j], nPre = nPres[j], n = ns[j];
        const float dhPre = g[j] * pass(kH);
        const float dzhPre = dhPre * pass(kMulZH);
        const float dznPre = dhPre * pass(kMulZN);
        const float dz = (dzhPre * hp[j] - dznPre * n) * pass(kSigZ);
        const float dn = dznPre * (1.0f - z);
        const float dsNPre = dn * pass(kTanhN) * (1.0f - nPre * nPre) * pass(kSumN);
        const float drnPre = dsNPre * pass(kMulRN);
        const float dr = drnPre * hN;
        const float dhN = drnPre * r;
        const float dsZPre = dz * zPre * (1.0f - zPre) * pass(kSumZ);
        const float dsRPre = dr * pass(kSigR) * rPre * (1.0f - rPre) * pass(kSumR);
        dih[j] = dsRPre * pass(kIHr);
        dih[H + j] = dsZPre * pass(kIHz);
        dih[2 * H + j] = dsNPre * pass(kIHn);
        da[j] = dsRPre * pass(kHHr);
        da[H + j] = dsZPre * pass(kHHz);
        da[2 * H + j] = dhN * pass(kHHn);
        direct[j] = dzhPre * z;
    }
    for (int64_t j = 0; j < 3 * H; ++j) dbHh[j] += da[j];
    for (int64_t j = 0; j < 3 * H; ++j) dbIh[j] += dih[j];
}

void backwardRow(const BackwardStep& s, int64_t bi) {
    const int64_t H = s.H, BH = s.B * H, row = bi * H;
    const float* sv = s.saved;
    backwardCell(H, s.g + row, s.masks + row, s.hPrev + row, sv + kHN * BH + row, sv + kRPre * BH + row,
                 sv + kR * BH + row, sv + kZPre * BH + row, sv + kZ * BH + row, sv + kNPre * BH + row,
                 sv + kN * BH + row, s.da + bi * 3 * H, s.dih + bi * 3 * H, s.dhDirect + row, s.dbHh, s.dbIh);
}

// Sequence-sized buffers (saved activations, masks, hidden states: ~250 MB at B=128, T=784, H=64) are
// reused from one training step to the next instead of being mapped, page-faulted and zeroed by the
// kernel every time (measured: ~25% of a pixel-wise step). A set is reused only when nothing but this
// cache still refers to it (neither the tensor, as a saved variable of a live graph does, nor its storage, as
// a view does), i.e. the previous step's graph is gone; a stack of layers, each of whose graphs is alive
// until backward, takes one set per layer.
struct SequenceBuffers {
    torch::Tensor hs, saved, masks;
};
bool unreferenced(const torch::Tensor& t) { return !t.defined() || (t.use_count() == 1 && t.storage().use_count() == 1); }
SequenceBuffers& threadBuffers() {
    thread_local std::vector<std::unique_ptr<SequenceBuffers>> sets;
    for (auto& set : sets) {
        if (unreferenced(set->hs) && unreferenced(set->saved) && unreferenced(set->masks)) return *set;
    }
    sets.push_back(std::make_unique<SequenceBuffers>());
    return *sets.back();
}
torch::Tensor reuse(torch::Tensor& slot, torch::IntArrayRef sizes, const torch::TensorOptions& options) {
    if (!unreferenced(slot) || !slot.defined() || slot.sizes() != sizes || slot.dtype() != options.dtype()) {
        slot = torch::empty(sizes, options);
    }
    return slot;
}

// C = A B^T or similar on row-major float matrices, straight to the BLAS (no tensor views per step).
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), 1.0f, a, int(lda), b, int(ldb), beta, c, int(ldc));
}

class FusedGruFunction : public torch::autograd::Function<FusedGruFunction> {
public:
    static variable_list forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor wI, torch::Tensor bI,
                                 torch::Tensor wH, torch::Tensor bH, const CellQuantizers* quantizers,
                                 const torch::Tensor* lengthsIn) {
        x = x.contiguous();
        wI = wI.contiguous();
        bI = bI.contiguous();
        wH = wH.contiguous();
        bH = bH.contiguous();
        const int64_t B = x.size(0), T = x.size(1), F = x.size(2), H = wH.size(1);
        const auto options = x.options();
        SequenceBuffers& buffers = threadBuffers();
        torch::Tensor hs = reuse(buffers.hs, {T + 1, B, H}, options);
        hs[0].zero_();
        torch::Tensor saved = reuse(buffers.saved, {T, kSavedCount, B, H}, options);
        torch::Tensor masks = reuse(buffers.masks, {T, B, H}, options.dtype(torch::kInt16));
        std::vector<float> ihStep(size_t(B * 3 * H)), hhStep(size_t(B * 3 * H));

        const CellQuantizers& cq = *quantizers;
        const ActivationLut sigR = buildLut(cq.q[kSumR], cq.q[kSigR], kSigR, Activation::Sigmoid);
        const ActivationLut sigZ = buildLut(cq.q[kSumZ], cq.q[kSigZ], kSigZ, Activation::Sigmoid);
        const ActivationLut tanhN = buildLut(cq.q[kSumN], cq.q[kTanhN], kTanhN, Activation::Tanh);
        MinMax observed;
        const float* xData = x.data_ptr<float>();
        const float* wIData = wI.data_ptr<float>();
        const float* wHData = wH.data_ptr<float>();
        float* hsData = hs.data_ptr<float>();
        float* savedData = saved.data_ptr<float>();
        int16_t* masksData = masks.data_ptr<int16_t>();
        const int64_t BH = B * H;

        // Valid steps per row (zero-padded rows): kept for backward, which must skip the same steps.
        const torch::Tensor lengths =
            lengthsIn && lengthsIn->defined() ? lengthsIn->to(torch::kInt32).contiguous().clone() : torch::Tensor();
        TORCH_CHECK(!lengths.defined() || lengths.numel() == B, "fusedGruSequence: lengths must have one value per row");
        const int32_t* valid = lengths.defined() ? lengths.data_ptr<int32_t>() : nullptr;
        if (lengths.defined()) ctx->saved_data["lengths"] = lengths;

        std::vector<float> rowScratch(size_t(kRowScratchFloats * H));
        std::vector<int32_t> rowCodes(static_cast<size_t>(H));
        ForwardStep step{&cq, &sigR, &sigZ, &tanhN, ihStep.data(), hhStep.data(), bI.data_ptr<float>(),
                         bH.data_ptr<float>(), nullptr, nullptr, nullptr, nullptr, rowScratch.data(), rowCodes.data(), B, H};
        for (int64_t t = 0; t < T; ++t) {
            step.hPrev = hsData + t * BH;
            step.hOut = hsData + (t + 1) * BH;
            step.saved = savedData + t * kSavedCount * BH;
            step.masks = masksData + t * BH;
            // x_t W_ih^T (x_t: rows of x, T*F apart) and h_{t-1} W_hh^T for the whole batch.
            gemm(CblasNoTrans, CblasTrans, B, 3 * H, F, xData + t * F, T * F, wIData, F, 0.0f, ihStep.data(), 3 * H);
            gemm(CblasNoTrans, CblasTrans, B, 3 * H, H, step.hPrev, H, wHData, H, 0.0f, hhStep.data(), 3 * H);
            // The rows one after the other, on the calling thread. Splitting them over threads needs a
            // parallel region per step, which costs more than it saves at these sizes (measured with
            // OpenMP on 2 threads: pixel-wise 607 vs 861 sequences/s); searches run one single-threaded
            // evaluation per core instead.
            for (int64_t bi = 0; bi < B; ++bi) {
                if (valid && t >= valid[bi]) {  // padding: the state stays, nothing is computed or observed
                    std::memcpy(step.hOut + bi * H, step.hPrev + bi * H, size_t(H) * sizeof(float));
                    continue;
                }
                if (cq.observe) {
                    forwardRowObserved(step, bi, observed);
                } else {
                    forwardRowPlain(step, bi, observed);
                }
            }
        }

        torch::Tensor minMax = torch::empty({kCellPointCount, 2}, options);
        float* mm = minMax.data_ptr<float>();
        for (int p = 0; p < kCellPointCount; ++p) {
            mm[2 * p] = observed.lo[size_t(p)];
            mm[2 * p + 1] = observed.hi[size_t(p)];
        }
        ctx->save_for_backward({x, wI, wH, hs, saved, masks});
        ctx->mark_non_differentiable({minMax});
        if (cq.hiddenSequence) return {hs.narrow(0, 1, T).transpose(0, 1).contiguous(), minMax};
        return {hs[T], minMax};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto s = ctx->get_saved_variables();
        const torch::Tensor& x = s[0];
        const torch::Tensor& wI = s[1];
        const torch::Tensor& wH = s[2];
        const torch::Tensor& hs = s[3];
        const torch::Tensor& saved = s[4];
        const torch::Tensor& masks = s[5];
        const int64_t T = saved.size(0), B = saved.size(2), H = saved.size(3), F = x.size(2), BH = B * H;
        const auto options = hs.options();
        const bool needX = ctx->needs_input_grad(0);
        const auto padded = ctx->saved_data.find("lengths");
        const torch::Tensor lengths = padded != ctx->saved_data.end() ? padded->second.toTensor() : torch::Tensor();
        const int32_t* valid = lengths.defined() ? lengths.data_ptr<int32_t>() : nullptr;

        // dh ping-pongs between two buffers: each step reads dL/dh_t and writes dL/dh_{t-1}. With the hidden
        // sequence as output, step t's own gradient joins dL/dh_t as the loop reaches it.
        const bool sequenceOut = grads[0].defined() && grads[0].dim() == 3;
        const torch::Tensor dSequence = sequenceOut ? grads[0].contiguous() : torch::Tensor();
        torch::Tensor dhA = grads[0].defined() && !sequenceOut ? grads[0].contiguous().clone() : torch::zeros({B, H}, options);
        torch::Tensor dhB = torch::empty({B, H}, options);
        std::vector<float> da(size_t(B * 3 * H)), dih(size_t(B * 3 * H));
        torch::Tensor dbH = torch::zeros({3 * H}, options), dbI = torch::zeros({3 * H}, options);
        torch::Tensor dWh = torch::zeros({3 * H, H}, options);
        torch::Tensor dWi = torch::zeros({3 * H, F}, options);
        torch::Tensor dx = needX ? torch::empty({B, T, F}, options) : torch::Tensor();
        const float* xData = x.data_ptr<float>();
        const float* wIData = wI.data_ptr<float>();
        const float* wHData = wH.data_ptr<float>();
        const float* hsData = hs.data_ptr<float>();
        const float* savedData = saved.data_ptr<float>();
        const int16_t* masksData = masks.data_ptr<int16_t>();
        float* dWhData = dWh.data_ptr<float>();
        float* dWiData = dWi.data_ptr<float>();
        float* dhIn = dhA.data_ptr<float>();
        float* dhOut = dhB.data_ptr<float>();

        BackwardStep step{nullptr, nullptr, nullptr, nullptr, da.data(), dih.data(), nullptr,
                          dbH.data_ptr<float>(), dbI.data_ptr<float>(), B, H};
        for (int64_t t = T - 1; t >= 0; --t) {
            if (sequenceOut) {
                const float* dStep = dSequence.data_ptr<float>() + t * H;  // [B, T, H]: row b at b * T * H
                for (int64_t bi = 0; bi < B; ++bi) {
                    for (int64_t k = 0; k < H; ++k) dhIn[bi * H + k] += dStep[bi * T * H + k];
                }
            }
            step.g = dhIn;
            step.saved = savedData + t * kSavedCount * BH;
            step.masks = masksData + t * BH;
            step.hPrev = hsData + t * BH;
            step.dhDirect = dhOut;
            for (int64_t bi = 0; bi < B; ++bi) {
                if (valid && t >= valid[bi]) {  // padding passes dL/dh unchanged and adds no gradient
                    std::fill_n(da.data() + bi * 3 * H, 3 * H, 0.0f);
                    std::fill_n(dih.data() + bi * 3 * H, 3 * H, 0.0f);
                    std::memcpy(dhOut + bi * H, dhIn + bi * H, size_t(H) * sizeof(float));
                    continue;
                }
                backwardRow(step, bi);
            }
            // dL/dh_{t-1} = direct part + da W_hh; the weight gradients accumulate step by step.
            gemm(CblasNoTrans, CblasNoTrans, B, H, 3 * H, da.data(), 3 * H, wHData, H, 1.0f, dhOut, H);
            gemm(CblasTrans, CblasNoTrans, 3 * H, H, B, da.data(), 3 * H, step.hPrev, H, 1.0f, dWhData, H);
            gemm(CblasTrans, CblasNoTrans, 3 * H, F, B, dih.data(), 3 * H, xData + t * F, T * F, 1.0f, dWiData, F);
            if (needX) {
                gemm(CblasNoTrans, CblasNoTrans, B, F, 3 * H, dih.data(), 3 * H, wIData, F, 0.0f,
                     dx.data_ptr<float>() + t * F, T * F);
            }
            std::swap(dhIn, dhOut);
        }
        return {dx, dWi, dbI, dWh, dbH, torch::Tensor(), torch::Tensor()};
    }
};

}  // namespace

torch::Tensor fusedGruSequence(const torch::Tensor& x, const torch::Tensor& wIh, const torch::Tensor& bIh,
                               const torch::Tensor& wHh, const torch::Tensor& bHh, const CellQuantizers& quantizers,
                               torch::Tensor* observed, const torch::Tensor& lengths) {
    TORCH_CHECK(x.dim() == 3 && wIh.dim() == 2 && wHh.dim() == 2 && wIh.size(1) == x.size(2) &&
                    wIh.size(0) == wHh.size(0) && wHh.size(0) == 3 * wHh.size(1) && bIh.numel() == wIh.size(0) &&
                    bHh.numel() == wHh.size(0),
                "fusedGruSequence: shapes");
    TORCH_CHECK(x.scalar_type() == torch::kFloat, "fusedGruSequence: float32 only");
    const variable_list out = FusedGruFunction::apply(x, wIh, bIh, wHh, bHh, &quantizers, &lengths);
    if (observed) *observed = out[1];
    return out[0];
}

}  // namespace gruq
