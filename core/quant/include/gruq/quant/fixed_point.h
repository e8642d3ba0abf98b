#pragma once
// Integer rescaling defined once for the whole product (integer engine, exporter, C runtime).
//
// A real multiplier m > 0 is represented as an int32 mantissa M in [0, 2^31) and a right shift n in
// [kMinShift, kMaxShift]:   m ~= M / 2^n.
// Rounding rule (the only one): rescale(v) = floor(v * M / 2^n + 1/2), i.e. round half up (towards
// +infinity), computed exactly in 64-bit integers as (v*M + 2^(n-1)) >> n with an arithmetic shift.
// Saturation rule: after adding the output zero point, clamp to [0, 2^bits - 1] (activation codes)
// or [-(2^(b-1)-1), 2^(b-1)-1] (symmetric weight codes).
#include <cmath>
#include <cstdint>
#include <vector>

namespace gruq {

constexpr int kMinShift = 1;
constexpr int kMaxShift = 62;

struct FixedMultiplier {
    int32_t mantissa = 0;  // M, in [0, 2^31)
    int32_t shift = kMinShift;  // n, in [kMinShift, kMaxShift]
    double value() const;  // M / 2^n
};

// The most precise representation of m: the largest n <= kMaxShift with round(m * 2^n) < 2^31
// (round half up). m must be finite and in [0, 2^30); throws std::invalid_argument otherwise.
FixedMultiplier quantizeMultiplier(double m);

// Several multipliers sharing one shift (for the sum of two rescaled inputs: one rounding only).
// The shift is the largest n <= kMaxShift for which every round(m_i * 2^n) < 2^31.
struct SharedShiftMultipliers {
    std::vector<int32_t> mantissas;
    int32_t shift = kMinShift;
};
SharedShiftMultipliers quantizeMultipliersSharedShift(const std::vector<double>& ms);

// floor(x + 1/2) computed exactly: the rounding of every real value to an integer code (weights,
// biases, activations, multipliers, lookup tables, the exporter's input tables). Without the
// double-rounding trap of std::floor(x + 0.5) (0.49999999999999994 + 0.5 rounds to 1.0): fl + 0.5 is
// exact for |x| < 2^52, so the comparison decides the half exactly. Inline: input quantization runs it
// per value.
inline double roundHalfUp(double x) {
    const double fl = std::floor(x);
    return x >= fl + 0.5 ? fl + 1.0 : fl;
}
long double roundHalfUp(long double x);

// floor(x / 2^n + 1/2) for n in [kMinShift, kMaxShift] (>> of a negative int64 is arithmetic in GCC
// and Clang, and in every C++20 compiler). The caller guarantees x + 2^(n-1) fits int64.
inline int64_t roundingShiftRight(int64_t x, int n) {
    return (x + (int64_t(1) << (n - 1))) >> n;
}

// floor(v * M / 2^n + 1/2): v * M must fit int64 (|v| < 2^32 is always safe).
inline int64_t rescale(int64_t v, const FixedMultiplier& m) { return roundingShiftRight(v * m.mantissa, m.shift); }

inline int32_t clampCode(int64_t v, int32_t lo, int32_t hi) {
    return static_cast<int32_t>(v < lo ? lo : (v > hi ? hi : v));
}

// Asymmetric activation quantization parameters (r = scale * (q - zeroPoint), q in [0, 2^bits - 1]).
struct ActivationQuant {
    int bits = 8;
    double scale = 1.0;
    int32_t zeroPoint = 0;
    int32_t qmax() const { return (int32_t(1) << bits) - 1; }
};

// TFLite-style choice from a calibrated range: the range is widened to include 0, scale =
// (max - min) / (2^bits - 1), zero point = round(-min / scale) clamped to the codes, so that real 0 is
// exactly representable (the GRU's initial hidden state). A degenerate range gets scale 1e-8.
ActivationQuant activationQuantFromRange(int bits, double minValue, double maxValue);

// Fixed ranges: sigmoid output [0, 1] -> scale 1/(2^b - 1), zero point 0 (0 and 1 exact).
ActivationQuant sigmoidOutputQuant(int bits);
// tanh output [-1, 1] -> scale 1/(2^(b-1) - 1), zero point 2^(b-1) - 1 (-1, 0, 1 exact; the top code is unused).
ActivationQuant tanhOutputQuant(int bits);

// Symmetric narrow-range weight scale: max|w| / (2^(b-1) - 1) (1e-8 when all weights are 0).
double symmetricWeightScale(int bits, double maxAbs);
inline int32_t weightQmax(int bits) { return (int32_t(1) << (bits - 1)) - 1; }

// Real value -> activation code, with the rounding rule above (floor(x/scale + 1/2) + zeroPoint, clamped).
// NaN gives the zero point (deterministic); values beyond the code range are clamped before the integer
// conversion, so none can overflow it. Branch-free, so loops over many values vectorise (not for files
// compiled with -ffast-math, which may assume that no NaN exists).
// The same with the quantizer's fields passed as values (loops over many values keep them in registers).
inline int32_t quantizeValue(double x, double scale, int32_t zeroPoint, int32_t qmax) {
    const double scaled = x / scale;
    const double limit = static_cast<double>(qmax) + 1.0;
    const double bounded = scaled >= limit ? limit : (scaled <= -limit ? -limit : scaled);  // NaN stays NaN
    const bool isNan = scaled != scaled;
    // |rounded| <= qmax + 1, so int32 holds it and its sum with the zero point (and the loop vectorises).
    const int32_t shifted = static_cast<int32_t>(roundHalfUp(isNan ? 0.0 : bounded)) + zeroPoint;
    const int32_t code = shifted < 0 ? 0 : (shifted > qmax ? qmax : shifted);
    return isNan ? zeroPoint : code;
}
inline int32_t quantizeValue(double x, const ActivationQuant& q) { return quantizeValue(x, q.scale, q.zeroPoint, q.qmax()); }

// Lookup tables for sigmoid / tanh: entry i is the output code for input code i, i in [0, 2^in.bits):
// out = clamp(floor(f(in.scale * (i - in.zeroPoint)) / out.scale + 1/2) + out.zeroPoint, 0, out.qmax()).
std::vector<uint8_t> sigmoidLut(const ActivationQuant& in, const ActivationQuant& out);
std::vector<uint8_t> tanhLut(const ActivationQuant& in, const ActivationQuant& out);

}  // namespace gruq
