#include "integer_engine_lanes.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
// Compiled per instruction set; the loader picks the clone for this CPU (GNU ifunc).
#define GRUQ_LANE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define GRUQ_LANE_CLONES
#endif

#include <algorithm>
#include <atomic>
#include <string>

namespace gruq::lanes {
namespace {

constexpr int L = kLanes;

GRUQ_LANE_CLONES
void requantLanes(const int32_t* acc, const int32_t* bias, int64_t rows, const Requant requant, int32_t* result) {
    for (int64_t j = 0; j < rows; ++j) {
        const int64_t b = bias[j];
        for (int l = 0; l < L; ++l) result[j * L + l] = requant(int64_t(acc[j * L + l]) + b);
    }
}

// acc[j][l] = sum_p pair(w[j], p) . pair(in[p][l]), for rows [0, rows); in is [pairs][L][2] int16.
using PairKernel = void (*)(const int32_t* w, const int16_t* in, int64_t rows, int64_t pairs, int32_t* acc);

void pairsPortable(const int32_t* w, const int16_t* in, int64_t rows, int64_t pairs, int32_t* acc) {
    for (int64_t j = 0; j < rows; ++j) {
        int32_t sum[L] = {};
        for (int64_t p = 0; p < pairs; ++p) {
            const int32_t lo = int16_t(uint32_t(w[j * pairs + p]) & 0xffff), hi = int16_t(uint32_t(w[j * pairs + p]) >> 16);
            const int16_t* x = in + p * 2 * L;
            for (int l = 0; l < L; ++l) sum[l] += lo * int32_t(x[2 * l]) + hi * int32_t(x[2 * l + 1]);
        }
        for (int l = 0; l < L; ++l) acc[j * L + l] = sum[l];
    }
}

#if defined(__x86_64__) || defined(__i386__)
// 16 lanes x 2 inputs = four 128-bit vectors per pair (SSE2: every x86-64 CPU); four rows share each load.
void pairsSse2(const int32_t* w, const int16_t* in, int64_t rows, int64_t pairs, int32_t* acc) {
    int64_t j = 0;
    for (; j + 4 <= rows; j += 4) {
        __m128i a[4][4];
        for (auto& r : a) r[0] = r[1] = r[2] = r[3] = _mm_setzero_si128();
        for (int64_t p = 0; p < pairs; ++p) {
            __m128i x[4];
            for (int q = 0; q < 4; ++q) x[q] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + p * 2 * L + 8 * q));
            for (int r = 0; r < 4; ++r) {
                const __m128i wr = _mm_set1_epi32(w[(j + r) * pairs + p]);
                for (int q = 0; q < 4; ++q) a[r][q] = _mm_add_epi32(a[r][q], _mm_madd_epi16(x[q], wr));
            }
        }
        for (int r = 0; r < 4; ++r) {
            for (int q = 0; q < 4; ++q) _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + (j + r) * L + 4 * q), a[r][q]);
        }
    }
    if (j < rows) pairsPortable(w + j * pairs, in, rows - j, pairs, acc + j * L);
}

// 16 lanes x 2 inputs = two 256-bit vectors per pair; four rows share each load of the inputs.
__attribute__((target("avx2"))) void pairsAvx2(const int32_t* w, const int16_t* in, int64_t rows, int64_t pairs,
                                               int32_t* acc) {
    int64_t j = 0;
    for (; j + 4 <= rows; j += 4) {
        __m256i a[4][2];
        for (auto& r : a) r[0] = r[1] = _mm256_setzero_si256();
        for (int64_t p = 0; p < pairs; ++p) {
            const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + p * 2 * L));
            const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + p * 2 * L + 16));
            for (int r = 0; r < 4; ++r) {
                const __m256i wr = _mm256_set1_epi32(w[(j + r) * pairs + p]);
                a[r][0] = _mm256_add_epi32(a[r][0], _mm256_madd_epi16(x0, wr));
                a[r][1] = _mm256_add_epi32(a[r][1], _mm256_madd_epi16(x1, wr));
            }
        }
        for (int r = 0; r < 4; ++r) {
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + (j + r) * L), a[r][0]);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + (j + r) * L + 8), a[r][1]);
        }
    }
    if (j < rows) pairsPortable(w + j * pairs, in, rows - j, pairs, acc + j * L);
}

// 16 lanes x 2 inputs = one 512-bit vector per pair; vpdpwssd multiplies and accumulates in one step.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void pairsAvx512(const int32_t* w, const int16_t* in,
                                                                        int64_t rows, int64_t pairs, int32_t* acc) {
    int64_t j = 0;
    for (; j + 4 <= rows; j += 4) {
        __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
        for (int64_t p = 0; p < pairs; ++p) {
            const __m512i x = _mm512_loadu_si512(in + p * 2 * L);
            for (int r = 0; r < 4; ++r) a[r] = _mm512_dpwssd_epi32(a[r], x, _mm512_set1_epi32(w[(j + r) * pairs + p]));
        }
        for (int r = 0; r < 4; ++r) _mm512_storeu_si512(acc + (j + r) * L, a[r]);
    }
    if (j < rows) pairsPortable(w + j * pairs, in, rows - j, pairs, acc + j * L);
}
#endif

void initCpuFeatures() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
#endif
}

struct Isa {
    PairKernel kernel;
    const char* name;
    bool (*supported)();
};

const Isa kIsas[] = {
#if defined(__x86_64__) || defined(__i386__)
    {pairsAvx512, "avx512-vnni", [] { return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"); }},
    {pairsAvx2, "avx2", [] { return bool(__builtin_cpu_supports("avx2")); }},
    {pairsSse2, "sse2", [] { return bool(__builtin_cpu_supports("sse2")); }},
#endif
    {pairsPortable, "portable", [] { return true; }},
};

// The best kernel this CPU runs, unless a test chose another (useKernelIsa).
std::atomic<const Isa*> g_isa{nullptr};

const Isa& isa() {
    const Isa* chosen = g_isa.load(std::memory_order_relaxed);
    if (!chosen) {
        initCpuFeatures();
        for (const Isa& candidate : kIsas) {
            if (candidate.supported()) {
                chosen = &candidate;
                break;
            }
        }
        g_isa.store(chosen);
    }
    return *chosen;
}

// out[j][l] = requant(bias[j] + sum_k w[j,k] * in[k][l]) for rows [0, rows).
void matLanes(const int32_t* wPairs, const int32_t* bias, const int16_t* inPairs, int64_t rows, int64_t cols,
              const FixedMultiplier& m, const ActivationQuant& out, int32_t* acc, int32_t* result) {
    isa().kernel(wPairs, inPairs, rows, (cols + 1) / 2, acc);
    requantLanes(acc, bias, rows, Requant(m, out), result);
}

// The cell's element-wise part for every hidden unit and lane; lanes past their length keep h.
GRUQ_LANE_CLONES
void cellLanes(const QuantizedGruLayer& m, const int32_t* ih, const int32_t* hh, const int16_t* hShifted, const bool* active,
               int64_t H, int32_t* h) {
    const int32_t zSigR = m.quant(QuantPoint::SigR).zeroPoint, zSigZ = m.quant(QuantPoint::SigZ).zeroPoint;
    const int32_t oneZ = m.quant(QuantPoint::SigZ).qmax() + zSigZ;  // code of (1 - z) = oneZ - z
    const int32_t zTanhN = m.quant(QuantPoint::TanhN).zeroPoint, zMulRN = m.quant(QuantPoint::MulRN).zeroPoint;
    const int32_t zMulZN = m.quant(QuantPoint::MulZN).zeroPoint, zMulZH = m.quant(QuantPoint::MulZH).zeroPoint;
    const AddCodes addR(m.sumRRescale, m.quant(QuantPoint::SumR)), addZ(m.sumZRescale, m.quant(QuantPoint::SumZ));
    const AddCodes addN(m.sumNRescale, m.quant(QuantPoint::SumN)), addH(m.hRescale, m.quant(QuantPoint::H));
    const Requant mulRN(m.mulRNRescale, m.quant(QuantPoint::MulRN)), mulZN(m.mulZNRescale, m.quant(QuantPoint::MulZN));
    const Requant mulZH(m.mulZHRescale, m.quant(QuantPoint::MulZH));
    const int32_t zIhR = m.ihQuant(GateR).zeroPoint, zHhR = m.hhQuant(GateR).zeroPoint;
    const int32_t zIhZ = m.ihQuant(GateZ).zeroPoint, zHhZ = m.hhQuant(GateZ).zeroPoint;
    const int32_t zIhN = m.ihQuant(GateN).zeroPoint, zHhN = m.hhQuant(GateN).zeroPoint;
    const uint8_t* sigRLut = m.sigRLut.data();
    const uint8_t* sigZLut = m.sigZLut.data();
    const uint8_t* tanhNLut = m.tanhNLut.data();
    for (int64_t j = 0; j < H; ++j) {
        const int32_t* ihR = ih + j * L;
        const int32_t* ihZ = ih + (H + j) * L;
        const int32_t* ihN = ih + (2 * H + j) * L;
        const int32_t* hhR = hh + j * L;
        const int32_t* hhZ = hh + (H + j) * L;
        const int32_t* hhN = hh + (2 * H + j) * L;
        int32_t* hj = h + j * L;
        const int16_t* hs = hShifted + j * L;
        // Arithmetic in lane loops that vectorise, table lookups in loops of their own.
        int32_t sr[L], sz[L], r[L], z[L], sn[L], n[L], rn[L];
        for (int l = 0; l < L; ++l) {
            sr[l] = addR(ihR[l] - zIhR, hhR[l] - zHhR);
            sz[l] = addZ(ihZ[l] - zIhZ, hhZ[l] - zHhZ);
        }
        for (int l = 0; l < L; ++l) {
            r[l] = sigRLut[sr[l]];
            z[l] = sigZLut[sz[l]];
        }
        for (int l = 0; l < L; ++l) {
            rn[l] = mulRN(int64_t(r[l] - zSigR) * (hhN[l] - zHhN));
            sn[l] = addN(ihN[l] - zIhN, rn[l] - zMulRN);
        }
        for (int l = 0; l < L; ++l) n[l] = tanhNLut[sn[l]];
        int32_t next[L];
        for (int l = 0; l < L; ++l) {
            // 1 - z exactly: the sigmoid quantizer has 1 = qmax * S_z, so (1 - z) has code qmax + Z_z - z.
            const int32_t zn = mulZN(int64_t(oneZ - z[l]) * (n[l] - zTanhN));
            const int32_t zh = mulZH(int64_t(z[l] - zSigZ) * hs[l]);
            next[l] = addH(zn - zMulZN, zh - zMulZH);
        }
        for (int l = 0; l < L; ++l) hj[l] = active[l] ? next[l] : hj[l];
    }
}

// Position of input k of lane l in a [pairs][L][2] array.
inline int64_t pairIndex(int64_t k, int l) { return (k / 2) * 2 * L + 2 * l + (k & 1); }

// h [H][L] (int32 codes) -> [H/2][L][2] int16, the odd tail's partner zero.
void toPairs(const int32_t* h, int64_t H, int16_t* pairs) {
    for (int64_t k = 0; k < H; ++k) {
        for (int l = 0; l < L; ++l) pairs[pairIndex(k, l)] = int16_t(h[k * L + l]);
    }
}

}  // namespace

GRUQ_LANE_CLONES
void quantizeCodes(const float* values, int64_t count, const ActivationQuant& quant, uint8_t* codes) {
    const double scale = quant.scale;  // values the output bytes cannot alias
    const int32_t zeroPoint = quant.zeroPoint, qmax = quant.qmax();
    for (int64_t i = 0; i < count; ++i) codes[i] = static_cast<uint8_t>(quantizeValue(values[i], scale, zeroPoint, qmax));
}

std::vector<int32_t> packWeightPairs(const std::vector<int8_t>& w, int64_t rows, int64_t cols) {
    const int64_t pairs = (cols + 1) / 2;
    std::vector<int32_t> packed(size_t(rows * pairs));
    for (int64_t j = 0; j < rows; ++j) {
        for (int64_t p = 0; p < pairs; ++p) {
            const int16_t lo = w[size_t(j * cols + 2 * p)];
            const int16_t hi = 2 * p + 1 < cols ? w[size_t(j * cols + 2 * p + 1)] : 0;
            packed[size_t(j * pairs + p)] = int32_t(uint32_t(uint16_t(lo)) | (uint32_t(uint16_t(hi)) << 16));
        }
    }
    return packed;
}

// Pair arrays hold an even number of inputs: the partner of an odd tail stays zero.
Workspace::Workspace(const GruShape& s)
    : x(size_t((std::max(s.inputSize, s.hiddenSize) + 1) / 2 * 2 * L), 0), h16(size_t((s.hiddenSize + 1) / 2 * 2 * L), 0),
      hShifted(size_t(s.hiddenSize * L)), ih(size_t(3 * s.hiddenSize * L)), hh(size_t(3 * s.hiddenSize * L)),
      acc(size_t(3 * std::max(s.hiddenSize, s.numClasses) * L)),
      h(size_t(s.numLayers), std::vector<int32_t>(size_t(s.hiddenSize * L))), logits(size_t(s.numClasses * L)) {}

void runLanes(const PreparedModel& p, const uint8_t* const* codes, const int64_t* steps, int count, Workspace& w,
              int32_t* logits) {
    const QuantizedGru& m = *p.model;
    const int64_t F = m.shape.inputSize, H = m.shape.hiddenSize, C = m.shape.numClasses;
    for (size_t i = 0; i < p.layers.size(); ++i) {
        std::fill(w.h[i].begin(), w.h[i].end(), p.layers[i].layer->quant(QuantPoint::H).zeroPoint);
    }
    int64_t longest = 0;
    for (int l = 0; l < count; ++l) longest = std::max(longest, steps[l]);
    bool active[L];
    for (int64_t t = 0; t < longest; ++t) {
        for (int l = 0; l < L; ++l) active[l] = l < count && t < steps[l];
        for (int l = 0; l < L; ++l) {
            const uint8_t* x = active[l] ? codes[l] + t * F : nullptr;
            for (int64_t k = 0; k < F; ++k) w.x[size_t(pairIndex(k, l))] = x ? int16_t(x[k]) : 0;
        }
        for (size_t i = 0; i < p.layers.size(); ++i) {
            const LaneLayer& layer = p.layers[i];
            const QuantizedGruLayer& q = *layer.layer;
            const int64_t in = m.shape.layerInputSize(int64_t(i));
            // Layer i >= 1 reads the h codes layer i - 1 has just computed (x pairs are free by then).
            if (i > 0) toPairs(w.h[i - 1].data(), H, w.x.data());
            std::vector<int32_t>& h = w.h[i];
            const int32_t zh = q.quant(QuantPoint::H).zeroPoint;
            toPairs(h.data(), H, w.h16.data());
            for (size_t k = 0; k < h.size(); ++k) w.hShifted[k] = int16_t(h[k] - zh);
            const int64_t pin = (in + 1) / 2, ph = (H + 1) / 2;
            for (int g = 0; g < 3; ++g) {
                matLanes(layer.wIhPairs + g * H * pin, layer.bIh + g * H, w.x.data(), H, in, q.ihRescale[size_t(g)],
                         q.ihQuant(g), w.acc.data(), w.ih.data() + g * H * L);
                matLanes(layer.wHhPairs + g * H * ph, layer.bHh + g * H, w.h16.data(), H, H, q.hhRescale[size_t(g)],
                         q.hhQuant(g), w.acc.data(), w.hh.data() + g * H * L);
            }
            cellLanes(q, w.ih.data(), w.hh.data(), w.hShifted.data(), active, H, h.data());
        }
    }
    toPairs(w.h.back().data(), H, w.h16.data());
    matLanes(p.wFcPairs, p.bFc, w.h16.data(), C, H, m.fcRescale, m.logitQuant(), w.acc.data(), w.logits.data());
    for (int l = 0; l < count; ++l) {
        for (int64_t c = 0; c < C; ++c) logits[l * C + c] = w.logits[size_t(c * L + l)];
    }
}

const char* laneKernelIsa() { return isa().name; }

bool useKernelIsa(const std::string& name) {
    initCpuFeatures();
    for (const Isa& candidate : kIsas) {
        if (name == candidate.name && candidate.supported()) {
            g_isa.store(&candidate);
            return true;
        }
    }
    return false;
}

}  // namespace gruq::lanes
