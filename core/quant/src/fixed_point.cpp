// Fixed-point multipliers, activation quantizers and sigmoid / tanh lookup tables (see fixed_point.h).
#include "gruq/quant/fixed_point.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace gruq {

// floor(x + 1/2) exactly (see the double version in fixed_point.h).
long double roundHalfUp(long double x) {
    const long double fl = std::floor(x);
    return x >= fl + 0.5L ? fl + 1.0L : fl;
}

namespace {

constexpr double kTwoPow31 = 2147483648.0;
constexpr double kTwoPow30 = 1073741824.0;
constexpr double kDegenerateScale = 1e-8;

void checkBits(int bits, const char* what) {
    if (bits < 2 || bits > 8) {
        throw std::invalid_argument(std::string(what) + ": bit width " + std::to_string(bits) +
                                    " is outside [2, 8]");
    }
}

void checkMultiplier(double m) {
    if (!std::isfinite(m) || m < 0.0 || m >= kTwoPow30) {
        throw std::invalid_argument("quantizeMultiplier: multiplier " + std::to_string(m) +
                                    " is not finite and in [0, 2^30)");
    }
}

// round(m * 2^n) for a valid m; ldexp is exact here (m * 2^n < 2^32, no overflow; scaling up never
// loses bits of a finite double).
double roundedScaled(double m, int shift) { return roundHalfUp(std::ldexp(m, shift)); }

// The largest shift n <= kMaxShift with round(m * 2^n) < 2^31 (m already validated).
int largestShift(double m) {
    if (m == 0.0) return kMaxShift;
    int exponent = 0;
    std::frexp(m, &exponent);  // m = f * 2^exponent, f in [0.5, 1)
    // m * 2^(31 - exponent) = f * 2^31 < 2^31, and one shift more is >= 2^31: the answer is this shift
    // or (when f * 2^31 rounds up to 2^31) the one below it.
    int shift = 31 - exponent;
    if (shift > kMaxShift) shift = kMaxShift;
    if (roundedScaled(m, shift) >= kTwoPow31) --shift;
    if (shift < kMinShift) {
        throw std::invalid_argument("quantizeMultiplier: multiplier " + std::to_string(m) +
                                    " is too large for a shift >= 1 (2*m rounds to 2^31)");
    }
    return shift;
}

void checkQuant(const ActivationQuant& q, const char* what) {
    checkBits(q.bits, what);
    if (!std::isfinite(q.scale) || q.scale <= 0.0) {
        throw std::invalid_argument(std::string(what) + ": scale must be finite and positive");
    }
}

template <typename Function>
std::vector<uint8_t> buildLut(const ActivationQuant& in, const ActivationQuant& out, Function f,
                              const char* what) {
    checkQuant(in, what);
    checkQuant(out, what);
    const int32_t size = int32_t(1) << in.bits;
    std::vector<uint8_t> table(static_cast<size_t>(size));
    // long double so that the only rounding that matters is the final half-up one.
    const long double inScale = in.scale;
    // Fixed-range outputs (sigmoid 1/(2^b-1), tanh 1/(2^(b-1)-1)) have an integer reciprocal: multiply
    // by it exactly, so that ties such as sigmoid(0) * (2^b - 1) = 2^(b-1) - 1/2 are exact ties.
    const long double reciprocal = 1.0L / static_cast<long double>(out.scale);
    const long double levels = std::round(reciprocal);
    const long double outFactor = std::fabs(levels * out.scale - 1.0L) < 1e-12L ? levels : reciprocal;
    for (int32_t i = 0; i < size; ++i) {
        const long double x = inScale * static_cast<long double>(i - in.zeroPoint);
        const long double code = roundHalfUp(f(x) * outFactor) + static_cast<long double>(out.zeroPoint);
        const long double clamped = code < 0.0L ? 0.0L : (code > out.qmax() ? out.qmax() : code);
        table[static_cast<size_t>(i)] = static_cast<uint8_t>(clamped);
    }
    return table;
}

}  // namespace

double FixedMultiplier::value() const { return std::ldexp(static_cast<double>(mantissa), -shift); }

FixedMultiplier quantizeMultiplier(double m) {
    checkMultiplier(m);
    FixedMultiplier result;
    result.shift = largestShift(m);
    result.mantissa = static_cast<int32_t>(roundedScaled(m, result.shift));
    return result;
}

SharedShiftMultipliers quantizeMultipliersSharedShift(const std::vector<double>& ms) {
    SharedShiftMultipliers result;
    // Validity of a shift is monotone (if round(m*2^n) < 2^31 then round(m*2^(n-1)) <= 2^30), so the
    // shared shift is the smallest of the individual ones.
    int shift = kMaxShift;
    for (double m : ms) {
        checkMultiplier(m);
        const int own = largestShift(m);
        if (own < shift) shift = own;
    }
    result.shift = shift;
    result.mantissas.reserve(ms.size());
    for (double m : ms) result.mantissas.push_back(static_cast<int32_t>(roundedScaled(m, shift)));
    return result;
}

ActivationQuant activationQuantFromRange(int bits, double minValue, double maxValue) {
    checkBits(bits, "activationQuantFromRange");
    if (!std::isfinite(minValue) || !std::isfinite(maxValue) || minValue > maxValue) {
        throw std::invalid_argument("activationQuantFromRange: range [" + std::to_string(minValue) + ", " +
                                    std::to_string(maxValue) + "] is not a finite, ordered range");
    }
    // Widened to contain 0 so that the zero initial hidden state (and padding) is exact.
    const double lo = minValue < 0.0 ? minValue : 0.0;
    const double hi = maxValue > 0.0 ? maxValue : 0.0;
    ActivationQuant q;
    q.bits = bits;
    q.scale = (hi - lo < kDegenerateScale) ? kDegenerateScale : (hi - lo) / static_cast<double>(q.qmax());
    // Nudge: the zero point is an integer code, so real 0 maps exactly onto it.
    const double zero = roundHalfUp(-lo / q.scale);
    q.zeroPoint = clampCode(static_cast<int64_t>(zero), 0, q.qmax());
    return q;
}

ActivationQuant sigmoidOutputQuant(int bits) {
    checkBits(bits, "sigmoidOutputQuant");
    ActivationQuant q;
    q.bits = bits;
    q.scale = 1.0 / static_cast<double>(q.qmax());
    q.zeroPoint = 0;
    return q;
}

ActivationQuant tanhOutputQuant(int bits) {
    checkBits(bits, "tanhOutputQuant");
    ActivationQuant q;
    q.bits = bits;
    const int32_t half = (int32_t(1) << (bits - 1)) - 1;
    q.scale = 1.0 / static_cast<double>(half);
    q.zeroPoint = half;
    return q;
}

double symmetricWeightScale(int bits, double maxAbs) {
    checkBits(bits, "symmetricWeightScale");
    if (!std::isfinite(maxAbs) || maxAbs < 0.0) {
        throw std::invalid_argument("symmetricWeightScale: max|w| must be finite and >= 0");
    }
    // Same degenerate rule as activations: an all-zero (or negligible) tensor must not produce a
    // scale so small that the rescale multipliers overflow.
    if (maxAbs < kDegenerateScale) return kDegenerateScale;
    return maxAbs / static_cast<double>(weightQmax(bits));
}

std::vector<uint8_t> sigmoidLut(const ActivationQuant& in, const ActivationQuant& out) {
    return buildLut(in, out, [](long double x) { return 1.0L / (1.0L + std::exp(-x)); }, "sigmoidLut");
}

std::vector<uint8_t> tanhLut(const ActivationQuant& in, const ActivationQuant& out) {
    return buildLut(in, out, [](long double x) { return std::tanh(x); }, "tanhLut");
}

}  // namespace gruq
