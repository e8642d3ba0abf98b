#include "fused_gru_sequence.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace gruq {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// out = quantizer(in) over a row; bit `bit` of mask[j] = whether the straight-through gradient passes
// (the value was not clamped). in and out may alias.
// Cloned per ISA: rounding vectorises (roundps) only from SSE4.1 on; the baseline build is SSE2.
__attribute__((target_clones("avx2", "sse4.1", "default"))) void quantizeRow(const CellQuantizer& q, const float* in, float* out, int16_t* mask, int bit, int64_t n) {
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

// Values kept per step for the backward pass, [T, kSaved, B, H].
enum Saved : int { kHN, kRPre, kR, kZPre, kZ, kNPre, kN, kSavedCount };

struct MinMax {
    std::array<float, kCellPointCount> lo, hi;
    MinMax() {
        // Finite sentinels: this file is compiled with -ffast-math (finite math assumed).
        lo.fill(std::numeric_limits<float>::max());
        hi.fill(-std::numeric_limits<float>::max());
    }
    void note(int p, const float* v, int64_t n) {
        float a = lo[size_t(p)], b = hi[size_t(p)];
        for (int64_t j = 0; j < n; ++j) {
            a = std::min(a, v[j]);
            b = std::max(b, v[j]);
        }
        lo[size_t(p)] = a;
        hi[size_t(p)] = b;
    }
    void merge(const MinMax& o) {
        for (size_t p = 0; p < lo.size(); ++p) {
            lo[p] = std::min(lo[p], o.lo[p]);
            hi[p] = std::max(hi[p], o.hi[p]);
        }
    }
};

// The sequence-sized buffers (saved activations, masks, hidden states, gradients: ~350 MB at B=128,
// T=784, H=64) are reused from one training step to the next instead of being mapped, page-faulted and
// zeroed by the kernel every time (measured: ~25% of a pixel-wise step). A buffer is reused only when
// nothing but this cache still refers to its storage, i.e. the previous step's graph is gone.
struct SequenceBuffers {
    torch::Tensor hs, saved, masks, dih, da;
};
SequenceBuffers& threadBuffers() {
    thread_local SequenceBuffers buffers;
    return buffers;
}
torch::Tensor reuse(torch::Tensor& slot, torch::IntArrayRef sizes, const torch::TensorOptions& options) {
    if (!slot.defined() || slot.storage().use_count() != 1 || slot.sizes() != sizes ||
        slot.dtype() != options.dtype()) {
        slot = torch::empty(sizes, options);
    }
    return slot;
}

class FusedGruFunction : public torch::autograd::Function<FusedGruFunction> {
public:
    static variable_list forward(AutogradContext* ctx, torch::Tensor ih, torch::Tensor w, torch::Tensor b,
                                 const CellQuantizers* quantizers) {
        ih = ih.contiguous();
        w = w.contiguous();
        const int64_t B = ih.size(0), T = ih.size(1), H = w.size(1);
        const auto options = ih.options();
        SequenceBuffers& buffers = threadBuffers();
        torch::Tensor hs = reuse(buffers.hs, {T + 1, B, H}, options);
        hs[0].zero_();
        torch::Tensor saved = reuse(buffers.saved, {T, kSavedCount, B, H}, options);
        torch::Tensor masks = reuse(buffers.masks, {T, B, H}, options.dtype(torch::kInt16));
        torch::Tensor hh = torch::empty({B, 3 * H}, options);
        const torch::Tensor wT = w.t();

        const CellQuantizers& cq = *quantizers;
        const bool observe = cq.observe;
        MinMax observed;
        std::mutex observedMutex;
        const float* ihData = ih.data_ptr<float>();

        // Per-step scratch: the sums that feed sigmoid / tanh, which run as torch's vectorised kernels
        // on whole [B, H] arrays between the fused row passes.
        torch::Tensor sumR = torch::empty({B, H}, options), sumZ = torch::empty({B, H}, options);
        torch::Tensor sumN = torch::empty({B, H}, options), buf = torch::empty({B, H}, options);
        torch::Tensor ihQuantized = torch::empty({B, 3 * H}, options);
        float* ihq = ihQuantized.data_ptr<float>();
        float* sR = sumR.data_ptr<float>();
        float* sZ = sumZ.data_ptr<float>();
        float* sN = sumN.data_ptr<float>();
        float* tmp = buf.data_ptr<float>();
        const int64_t BH = B * H;
        // Runs fn(row, minMax) over the batch rows in parallel; folds the observed extremes.
        auto forRows = [&](auto fn) {
            at::parallel_for(0, B, 16, [&](int64_t b0, int64_t b1) {
                MinMax local;
                for (int64_t bi = b0; bi < b1; ++bi) fn(bi, local);
                if (observe) {
                    std::lock_guard<std::mutex> lock(observedMutex);
                    observed.merge(local);
                }
            });
        };

        for (int64_t t = 0; t < T; ++t) {
            const torch::Tensor hPrev = hs[t];
            torch::addmm_out(hh, b, hPrev, wT);
            const float* hhData = hh.data_ptr<float>();
            const float* hp = hPrev.data_ptr<float>();
            float* hOut = hs[t + 1].data_ptr<float>();
            const torch::Tensor step = saved[t];
            float* sv = step.data_ptr<float>();
            int16_t* mk = masks[t].data_ptr<int16_t>();
            // Every line below is one simple loop over a row (vectorised); a quantizer's kind is
            // decided once per loop, not per element.
            forRows([&](int64_t bi, MinMax& local) {
                const float* ihPre = ihData + (bi * T + t) * 3 * H;
                float* ihRow = ihq + bi * 3 * H;
                const float* hhRow = hhData + bi * 3 * H;
                const int64_t row = bi * H;
                float* hN = sv + kHN * BH + row;
                int16_t* m = mk + row;
                float* a = sR + row;
                float* z = sZ + row;
                for (int64_t j = 0; j < H; ++j) m[j] = 0;
                if (observe) {
                    local.note(kIHr, ihPre, H);
                    local.note(kIHz, ihPre + H, H);
                    local.note(kIHn, ihPre + 2 * H, H);
                }
                quantizeRow(cq.q[kIHr], ihPre, ihRow, m, kIHr, H);
                quantizeRow(cq.q[kIHz], ihPre + H, ihRow + H, m, kIHz, H);
                quantizeRow(cq.q[kIHn], ihPre + 2 * H, ihRow + 2 * H, m, kIHn, H);
                if (observe) {
                    local.note(kHHr, hhRow, H);
                    local.note(kHHz, hhRow + H, H);
                    local.note(kHHn, hhRow + 2 * H, H);
                }
                quantizeRow(cq.q[kHHr], hhRow, a, m, kHHr, H);
                quantizeRow(cq.q[kHHz], hhRow + H, z, m, kHHz, H);
                quantizeRow(cq.q[kHHn], hhRow + 2 * H, hN, m, kHHn, H);
                for (int64_t j = 0; j < H; ++j) a[j] += ihRow[j];
                for (int64_t j = 0; j < H; ++j) z[j] += ihRow[H + j];
                if (observe) {
                    local.note(kSumR, a, H);
                    local.note(kSumZ, z, H);
                }
                quantizeRow(cq.q[kSumR], a, a, m, kSumR, H);
                quantizeRow(cq.q[kSumZ], z, z, m, kSumZ, H);
            });
            torch::Tensor rPreOut = step[kRPre], zPreOut = step[kZPre], nPreOut = step[kNPre];
            torch::sigmoid_out(rPreOut, sumR);
            torch::sigmoid_out(zPreOut, sumZ);
            forRows([&](int64_t bi, MinMax& local) {
                const float* ihRow = ihq + bi * 3 * H;
                const int64_t row = bi * H;
                const float* hN = sv + kHN * BH + row;
                const float* rPre = sv + kRPre * BH + row;
                const float* zPre = sv + kZPre * BH + row;
                float* r = sv + kR * BH + row;
                float* z = sv + kZ * BH + row;
                float* a = sN + row;
                int16_t* m = mk + row;
                if (observe) {
                    local.note(kSigR, rPre, H);
                    local.note(kSigZ, zPre, H);
                }
                quantizeRow(cq.q[kSigR], rPre, r, m, kSigR, H);
                quantizeRow(cq.q[kSigZ], zPre, z, m, kSigZ, H);
                for (int64_t j = 0; j < H; ++j) a[j] = r[j] * hN[j];
                if (observe) local.note(kMulRN, a, H);
                quantizeRow(cq.q[kMulRN], a, a, m, kMulRN, H);
                for (int64_t j = 0; j < H; ++j) a[j] += ihRow[2 * H + j];
                if (observe) local.note(kSumN, a, H);
                quantizeRow(cq.q[kSumN], a, a, m, kSumN, H);
            });
            torch::tanh_out(nPreOut, sumN);
            forRows([&](int64_t bi, MinMax& local) {
                const int64_t row = bi * H;
                const float* nPre = sv + kNPre * BH + row;
                const float* z = sv + kZ * BH + row;
                float* n = sv + kN * BH + row;
                float* a = sR + row;  // free again: reused for (1 - z) n and the new h
                float* c = tmp + row;
                int16_t* m = mk + row;
                const float* hPrev = hp + row;
                if (observe) local.note(kTanhN, nPre, H);
                quantizeRow(cq.q[kTanhN], nPre, n, m, kTanhN, H);
                for (int64_t j = 0; j < H; ++j) a[j] = (1.0f - z[j]) * n[j];
                for (int64_t j = 0; j < H; ++j) c[j] = z[j] * hPrev[j];
                if (observe) {
                    local.note(kMulZN, a, H);
                    local.note(kMulZH, c, H);
                }
                quantizeRow(cq.q[kMulZN], a, a, m, kMulZN, H);
                quantizeRow(cq.q[kMulZH], c, c, m, kMulZH, H);
                for (int64_t j = 0; j < H; ++j) a[j] += c[j];
                if (observe) local.note(kH, a, H);
                quantizeRow(cq.q[kH], a, hOut + row, m, kH, H);
            });
        }

        torch::Tensor minMax = torch::empty({kCellPointCount, 2}, options);
        float* mm = minMax.data_ptr<float>();
        for (int p = 0; p < kCellPointCount; ++p) {
            mm[2 * p] = observed.lo[size_t(p)];
            mm[2 * p + 1] = observed.hi[size_t(p)];
        }
        ctx->save_for_backward({w, hs, saved, masks});
        ctx->mark_non_differentiable({minMax});
        return {hs[T], minMax};
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto s = ctx->get_saved_variables();
        const torch::Tensor& w = s[0];
        const torch::Tensor& hs = s[1];
        const torch::Tensor& saved = s[2];
        const torch::Tensor& masks = s[3];
        const int64_t T = saved.size(0), B = saved.size(2), H = saved.size(3), BH = B * H;
        const auto options = hs.options();

        torch::Tensor dh = grads[0].defined() ? grads[0].contiguous().clone() : torch::zeros({B, H}, options);
        torch::Tensor dhDirect = torch::empty({B, H}, options);
        SequenceBuffers& buffers = threadBuffers();
        torch::Tensor dih = reuse(buffers.dih, {B, T, 3 * H}, options);
        torch::Tensor da = reuse(buffers.da, {T, B, 3 * H}, options);
        float* dihData = dih.data_ptr<float>();

        for (int64_t t = T - 1; t >= 0; --t) {
            const float* sv = saved[t].data_ptr<float>();
            const int16_t* mk = masks[t].data_ptr<int16_t>();
            const float* hp = hs[t].data_ptr<float>();
            const float* g = dh.data_ptr<float>();
            float* gDirect = dhDirect.data_ptr<float>();
            float* daRow0 = da[t].data_ptr<float>();
            at::parallel_for(0, B, 16, [&](int64_t b0, int64_t b1) {
                for (int64_t bi = b0; bi < b1; ++bi) {
                    float* daRow = daRow0 + bi * 3 * H;
                    float* dihRow = dihData + (bi * T + t) * 3 * H;
                    for (int64_t j = 0; j < H; ++j) {
                        const int64_t i = bi * H + j;
                        const int m = mk[i];
                        auto pass = [m](int p) { return float((m >> p) & 1); };
                        const float hN = sv[kHN * BH + i], rPre = sv[kRPre * BH + i], r = sv[kR * BH + i];
                        const float zPre = sv[kZPre * BH + i], z = sv[kZ * BH + i];
                        const float nPre = sv[kNPre * BH + i], n = sv[kN * BH + i];

                        const float dhPre = g[i] * pass(kH);
                        const float dzhPre = dhPre * pass(kMulZH);
                        const float dznPre = dhPre * pass(kMulZN);
                        float dz = dzhPre * hp[i] - dznPre * n;
                        const float dn = dznPre * (1.0f - z);
                        const float dsN = dn * pass(kTanhN) * (1.0f - nPre * nPre);
                        const float dsNPre = dsN * pass(kSumN);
                        const float drnPre = dsNPre * pass(kMulRN);
                        const float dr = drnPre * hN;
                        const float dhN = drnPre * r;
                        dz *= pass(kSigZ);
                        const float dsZPre = dz * zPre * (1.0f - zPre) * pass(kSumZ);
                        const float dsRPre = dr * pass(kSigR) * rPre * (1.0f - rPre) * pass(kSumR);

                        dihRow[j] = dsRPre * pass(kIHr);
                        dihRow[H + j] = dsZPre * pass(kIHz);
                        dihRow[2 * H + j] = dsNPre * pass(kIHn);
                        daRow[j] = dsRPre * pass(kHHr);
                        daRow[H + j] = dsZPre * pass(kHHz);
                        daRow[2 * H + j] = dhN * pass(kHHn);
                        gDirect[i] = dzhPre * z;
                    }
                }
            });
            // dh_{t-1} = direct part + da_t W_hh (one GEMM per step).
            torch::addmm_out(dh, dhDirect, da[t], w);
        }
        // Weight and bias gradients of every step at once.
        const torch::Tensor dW = torch::mm(da.view({T * B, 3 * H}).t(), hs.narrow(0, 0, T).reshape({T * B, H}));
        const torch::Tensor db = da.sum(torch::IntArrayRef{0, 1});
        return {dih, dW, db, torch::Tensor()};
    }
};

}  // namespace

torch::Tensor fusedGruSequence(const torch::Tensor& ih, const torch::Tensor& wHh, const torch::Tensor& bHh,
                               const CellQuantizers& quantizers, torch::Tensor* observed) {
    TORCH_CHECK(ih.dim() == 3 && wHh.dim() == 2 && ih.size(2) == wHh.size(0) && wHh.size(0) == 3 * wHh.size(1),
                "fusedGruSequence: shapes");
    TORCH_CHECK(ih.scalar_type() == torch::kFloat, "fusedGruSequence: float32 only");
    const variable_list out = FusedGruFunction::apply(ih, wHh, bHh, &quantizers);
    if (observed) *observed = out[1];
    return out[0];
}

}  // namespace gruq
