#pragma once
// Internal: the integer engine's batched path. kLanes sequences advance together, one step at a time;
// every array is [row][lane], so each operation runs over the lanes in vector registers (the kernels are
// compiled per instruction set and chosen at run time, integer_engine_lanes.cpp). The arithmetic is the
// per-sequence engine's, element for element, so results are bit-identical.
#include "gruq/quant/quantized_gru.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq::lanes {

constexpr int kLanes = 16;

// The rescale parameters copied into plain values: the kernels' int32 outputs cannot alias them, so
// the compiler keeps them in registers and vectorises the lane loops.
struct Requant {
    int64_t multiplier;
    int shift;
    int32_t zeroPoint, qmax;
    Requant(const FixedMultiplier& m, const ActivationQuant& out)
        : multiplier(m.mantissa), shift(m.shift), zeroPoint(out.zeroPoint), qmax(out.qmax()) {}
    int32_t operator()(int64_t v) const {
        return clampCode(zeroPoint + roundingShiftRight(v * multiplier, shift), 0, qmax);
    }
};

struct AddCodes {
    int64_t a, b;
    int shift;
    int32_t zeroPoint, qmax;
    AddCodes(const AddRescale& r, const ActivationQuant& out)
        : a(r.multiplierA), b(r.multiplierB), shift(r.shift), zeroPoint(out.zeroPoint), qmax(out.qmax()) {}
    int32_t operator()(int32_t x, int32_t y) const {
        return clampCode(zeroPoint + roundingShiftRight(int64_t(x) * a + int64_t(y) * b, shift), 0, qmax);
    }
};

// Weights of consecutive input pairs (k = 2p, 2p + 1) packed as one int32 (low half: k even), per row:
// one broadcast feeds a pairwise multiply-add (pmaddwd / vpdpwssd) over every lane. Odd widths get a zero.
std::vector<int32_t> packWeightPairs(const std::vector<int8_t>& w, int64_t rows, int64_t cols);

// What the kernels read of one layer and of the model: the packed weights and the biases with the input
// zero point folded.
struct LaneLayer {
    const QuantizedGruLayer* layer;
    const int32_t *wIhPairs, *wHhPairs;
    const int32_t *bIh, *bHh;
};
struct PreparedModel {
    const QuantizedGru* model;
    std::vector<LaneLayer> layers;
    const int32_t *wFcPairs, *bFc;
};

// Working memory of one worker, sized once.
struct Workspace {
    explicit Workspace(const GruShape& shape);
    std::vector<int16_t> x, h16, hShifted;  // input pairs [max(F, H)/2][L][2], hidden pairs [H/2][L][2], [H][L]
    std::vector<int32_t> ih, hh, acc;        // [3H][L], [3H][L], [L]
    std::vector<std::vector<int32_t>> h;     // per layer [H][L]
    std::vector<int32_t> logits;             // [C][L]
};

// Runs up to kLanes sequences: codes[l] points to steps[l] x F input codes (lanes >= count are idle).
// Writes count x C logit codes, sequence-major.
void runLanes(const PreparedModel& p, const uint8_t* const* codes, const int64_t* steps, int count, Workspace& w,
              int32_t* logits);

// codes[i] = quantizeValue(values[i], q), vectorised for this CPU.
void quantizeCodes(const float* values, int64_t count, const ActivationQuant& q, uint8_t* codes);

// The instruction set the kernels run with on this CPU ("avx512-vnni", "avx2", "sse2" or "portable").
const char* laneKernelIsa();
// Makes the batched path use the named kernel ("avx512-vnni", "avx2", "sse2", "portable") from now on; false
// (nothing changed) when this CPU cannot run it. For tests and benchmarks of every path.
bool useKernelIsa(const std::string& name);

}  // namespace gruq::lanes
