// Fixed-point rescaling, multiplier quantization, activation quantizers and sigmoid / tanh LUTs,
// each checked against an independent exact (or long double) reference.
#include "gruq/quant/fixed_point.h"
#include "gruq/data/split.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

using namespace gruq;

namespace {

using Int128 = __int128;

constexpr int64_t kTwoPow31 = int64_t(1) << 31;

// floor(a / b) for b > 0 (C++ division truncates towards zero).
Int128 floorDiv(Int128 a, Int128 b) {
    Int128 q = a / b;
    if (a % b != 0 && a < 0) --q;
    return q;
}

// floor(P / 2^n + 1/2) = floor((2P + 2^n) / 2^(n+1)), exact.
int64_t exactRoundShift(Int128 product, int shift) {
    return static_cast<int64_t>(floorDiv(2 * product + (Int128(1) << shift), Int128(1) << (shift + 1)));
}

int64_t exactRescale(int64_t v, int32_t mantissa, int shift) { return exactRoundShift(Int128(v) * mantissa, shift); }

// floor(m * 2^n + 1/2), exact: m = significand * 2^exponent with an integer 53-bit significand.
Int128 exactRoundScaled(double m, int shift) {
    if (m == 0.0) return 0;
    int exponent = 0;
    const double fraction = std::frexp(m, &exponent);
    const Int128 significand = static_cast<Int128>(std::ldexp(fraction, 53));
    const int k = exponent - 53 + shift;  // m * 2^n = significand * 2^k
    if (k >= 0) return significand << k;
    if (-k > 100) return 0;  // m * 2^n < 2^-47
    return floorDiv(2 * significand + (Int128(1) << -k), Int128(1) << (1 - k));
}

// 10^U(lo, hi): spans many decades with random low bits.
double randomMultiplier(StableRng& rng, double lowDecade, double highDecade) {
    return std::pow(10.0, rng.uniform(lowDecade, highDecade));
}

int64_t randomSigned(StableRng& rng, int64_t maxAbs) {
    return static_cast<int64_t>(rng.below(static_cast<uint64_t>(2 * maxAbs + 1))) - maxAbs;
}

template <typename Function>
bool throwsInvalidArgument(Function f) {
    try {
        f();
    } catch (const std::invalid_argument&) {
        return true;
    }
    return false;
}

// Independent formulations of the two functions (not the ones the implementation uses).
long double referenceSigmoid(long double x) { return 0.5L * (1.0L + std::tanh(0.5L * x)); }
long double referenceTanh(long double x) {
    const long double e = std::expm1(-2.0L * std::fabs(x));  // tanh|x| = -expm1(-2|x|) / (2 + expm1(-2|x|))
    const long double t = -e / (2.0L + e);
    return x < 0 ? -t : t;
}

struct NamedQuant {
    std::string name;
    ActivationQuant quant;
    bool symmetric = false;  // codes zeroPoint +- d are real +-x
};

std::vector<NamedQuant> lutInputQuants(int bits) {
    std::vector<NamedQuant> result;
    result.push_back({"wide[-8,8]", activationQuantFromRange(bits, -8.0, 8.0), true});
    result.push_back({"narrow[-0.1,0.05]", activationQuantFromRange(bits, -0.1, 0.05), false});
    result.push_back({"asym[-1,3]", activationQuantFromRange(bits, -1.0, 3.0), false});
    result.push_back({"positive[0.5,6]", activationQuantFromRange(bits, 0.5, 6.0), false});
    result.push_back({"negative[-20,-1]", activationQuantFromRange(bits, -20.0, -1.0), false});
    result.push_back({"degenerate[0,0]", activationQuantFromRange(bits, 0.0, 0.0), true});
    ActivationQuant symmetricSmall;
    symmetricSmall.bits = bits;
    symmetricSmall.scale = 0.0371;
    symmetricSmall.zeroPoint = int32_t(1) << (bits - 1);
    result.push_back({"symmetric(0.0371)", symmetricSmall, true});
    return result;
}

}  // namespace

class TestFixedPoint : public QObject {
    Q_OBJECT
private slots:
    void randomRescaleMatchesExactRounding() {
        StableRng rng(20240611);
        const int multiplierCount = 1000000;
        int64_t rescaleCases = 0, mismatches = 0, badMantissas = 0, badBounds = 0, notMaximal = 0;
        int shiftSeen[kMaxShift + 1] = {};
        for (int i = 0; i < multiplierCount; ++i) {
            double m;
            if (i % 8 == 7) {
                // Exactly half-way between two mantissas at some shift: the mantissa must round up.
                const int64_t k = (int64_t(1) << 29) + static_cast<int64_t>(rng.below((int64_t(3) << 29) - 1));
                const int n = 1 + static_cast<int>(rng.below(kMaxShift));
                m = std::ldexp(static_cast<double>(2 * k + 1), -(n + 1));
            } else {
                // Mostly [1e-9, 1e9); one decade lower reaches the kMaxShift cap (m < 2^-31).
                m = randomMultiplier(rng, i % 8 == 6 ? -13.0 : -9.0, 9.0);
            }
            const FixedMultiplier fm = quantizeMultiplier(m);
            const int n = fm.shift;
            if (n < kMinShift || n > kMaxShift || fm.mantissa < 0) {
                ++badMantissas;
                continue;
            }
            ++shiftSeen[n];
            if (Int128(fm.mantissa) != exactRoundScaled(m, n)) ++badMantissas;
            // |M - m 2^n| <= 1/2: exact in long double (m 2^n has 53 significant bits; when M != 0 it is
            // >= 1/2, so the difference spans < 64 bits).
            if (std::fabs(static_cast<long double>(fm.mantissa) - std::ldexp(static_cast<long double>(m), n)) > 0.5L) {
                ++badBounds;
            }
            // Maximal: one more shift would not fit the int32 mantissa.
            if (n != kMaxShift && (exactRoundScaled(m, n + 1) < kTwoPow31 || 2 * int64_t(fm.mantissa) < kTwoPow31)) {
                ++notMaximal;
            }
            if (fm.value() != std::ldexp(static_cast<double>(fm.mantissa), -n)) ++badMantissas;

            // One accumulator-sized and one element-wise-product-sized value per multiplier.
            const int64_t values[2] = {randomSigned(rng, kTwoPow31 - 1), randomSigned(rng, (int64_t(1) << 17) - 1)};
            for (int64_t v : values) {
                ++rescaleCases;
                const int64_t got = rescale(v, fm);
                const int64_t want = exactRescale(v, fm.mantissa, n);
                if (got != want) {
                    if (++mismatches <= 5) {
                        qWarning("rescale mismatch: v=%lld M=%d n=%d got %lld want %lld", static_cast<long long>(v),
                                 fm.mantissa, n, static_cast<long long>(got), static_cast<long long>(want));
                    }
                }
            }
        }
        int distinctShifts = 0;
        for (int n = kMinShift; n <= kMaxShift; ++n) distinctShifts += shiftSeen[n] > 0;
        qInfo("%d multipliers (%d distinct shifts, %d at the cap %d), %lld rescale cases", multiplierCount,
              distinctShifts, shiftSeen[kMaxShift], kMaxShift, static_cast<long long>(rescaleCases));
        QVERIFY(rescaleCases >= 1000000);
        QVERIFY(distinctShifts >= 40);
        QVERIFY(shiftSeen[kMaxShift] > 0);
        QCOMPARE(mismatches, int64_t(0));
        QCOMPARE(badMantissas, int64_t(0));
        QCOMPARE(badBounds, int64_t(0));
        QCOMPARE(notMaximal, int64_t(0));
    }

    void roundingEdgesRoundHalfUp() {
        // The documented examples: m = 1/2 halves the value.
        const FixedMultiplier half = quantizeMultiplier(0.5);
        QCOMPARE(half.mantissa, int32_t(1) << 30);
        QCOMPARE(half.shift, 31);
        QCOMPARE(rescale(5, half), int64_t(3));    // 2.5 -> 3
        QCOMPARE(rescale(-5, half), int64_t(-2));  // -2.5 -> -2
        QCOMPARE(rescale(-7, half), int64_t(-3));  // -3.5 -> -3
        QCOMPARE(rescale(7, half), int64_t(4));    // 3.5 -> 4
        QCOMPARE(rescale(1, half), int64_t(1));    // 0.5 -> 1
        QCOMPARE(rescale(-1, half), int64_t(0));   // -0.5 -> 0
        QCOMPARE(rescale(0, half), int64_t(0));

        // Products P = k 2^n + 2^(n-1) + delta at shifts 1..62, reached both as v * 1 and as v * odd M.
        const int shifts[] = {1, 2, 3, 7, 16, 30, 31, 32, 33, 45, 60, 61, 62};
        const int32_t oddMantissas[] = {1, 3, 5, 12345, (int32_t(1) << 30) + 1, int32_t(kTwoPow31 - 1)};
        int checked = 0, halfCases = 0;
        for (int n : shifts) {
            const int64_t halfStep = int64_t(1) << (n - 1);
            // M = 1: v is the product itself; k limited so that |P| + 2^(n-1) fits int64.
            for (int64_t k : {int64_t(-3), int64_t(-2), int64_t(-1), int64_t(0), int64_t(1), int64_t(2)}) {
                if (n >= 61 && (k < -1 || k > 0)) continue;
                for (int64_t delta : {int64_t(-1), int64_t(0), int64_t(1)}) {
                    const int64_t v = static_cast<int64_t>(Int128(k) * (Int128(1) << n) + halfStep + delta);
                    FixedMultiplier one;
                    one.mantissa = 1;
                    one.shift = n;
                    const int64_t expected = delta < 0 ? k : k + 1;  // exact half and above round up
                    QCOMPARE(rescale(v, one), expected);
                    QCOMPARE(exactRescale(v, 1, n), expected);
                    QCOMPARE(roundingShiftRight(v, n), expected);
                    ++checked;
                    halfCases += delta == 0;
                }
            }
            // Odd M: v = u 2^(n-1) with u odd gives an exact half (u M odd); v -+ 1 are just below/above
            // the half for positive products (and the other way round for negative ones).
            for (int32_t mantissa : oddMantissas) {
                FixedMultiplier fm;
                fm.mantissa = mantissa;
                fm.shift = n;
                for (int64_t u : {int64_t(-5), int64_t(-3), int64_t(-1), int64_t(1), int64_t(3), int64_t(7)}) {
                    const Int128 v128 = Int128(u) * halfStep;
                    const Int128 product = v128 * mantissa;
                    const Int128 limit = (Int128(1) << 62) - 1;  // leaves room for |P| + 2^(n-1) + M
                    if (product > limit || product < -limit) continue;
                    const int64_t v = static_cast<int64_t>(v128);
                    const Int128 quotient = floorDiv(product, Int128(1) << n);  // P = q 2^n + 2^(n-1)
                    QCOMPARE(rescale(v, fm), static_cast<int64_t>(quotient + 1));
                    QCOMPARE(rescale(v, fm), exactRescale(v, mantissa, n));
                    QCOMPARE(rescale(v - 1, fm), exactRescale(v - 1, mantissa, n));
                    QCOMPARE(rescale(v + 1, fm), exactRescale(v + 1, mantissa, n));
                    checked += 3;
                    ++halfCases;
                }
            }
        }
        // quantizeMultiplier of exact powers of two reaches both ends of the shift range.
        const FixedMultiplier top = quantizeMultiplier(std::ldexp(1.0, -32));
        QCOMPARE(top.shift, kMaxShift);
        QCOMPARE(top.mantissa, int32_t(1) << 30);
        QCOMPARE(rescale(int64_t(1) << 31, top), int64_t(1));               // 2^31 * 2^-32 = 0.5 -> 1
        QCOMPARE(rescale(-(int64_t(1) << 31), top), int64_t(0));             // -0.5 -> 0
        QCOMPARE(rescale(-(int64_t(3) << 31), top), int64_t(-1));            // -1.5 -> -1
        const FixedMultiplier bottom = quantizeMultiplier(std::ldexp(1.0, 29) + 0.5);
        QCOMPARE(bottom.shift, kMinShift);
        QCOMPARE(bottom.mantissa, (int32_t(1) << 30) + 1);
        QCOMPARE(rescale(1, bottom), int64_t((1 << 29) + 1));   // 2^29 + 0.5 -> 2^29 + 1
        QCOMPARE(rescale(-1, bottom), int64_t(-(1 << 29)));     // -2^29 - 0.5 -> -2^29
        qInfo("%d rounding-edge cases (%d exact halves)", checked, halfCases);
    }

    void multiplierMantissaRounding() {
        // Mantissa halves round up; the mantissa never reaches 2^31 (the shift drops instead).
        const FixedMultiplier a = quantizeMultiplier(std::ldexp(double((int64_t(1) << 31) + 11), -32));  // 2^30 + 5.5 at n=31
        QCOMPARE(a.shift, 31);
        QCOMPARE(a.mantissa, (int32_t(1) << 30) + 6);
        const FixedMultiplier b = quantizeMultiplier(std::ldexp(double((int64_t(1) << 32) - 1), -33));  // 2^31 - 0.5 at n=32
        QCOMPARE(b.shift, 31);
        QCOMPARE(b.mantissa, int32_t(1) << 30);
        const FixedMultiplier largest = quantizeMultiplier(std::ldexp(1.0, 30) - 0.5);
        QCOMPARE(largest.shift, 1);
        QCOMPARE(largest.mantissa, int32_t(kTwoPow31 - 1));
        // m = 0 -> mantissa 0 (and any valid shift), tiny m -> mantissa 0 at the cap.
        const FixedMultiplier zero = quantizeMultiplier(0.0);
        QCOMPARE(zero.mantissa, 0);
        QVERIFY(zero.shift >= kMinShift && zero.shift <= kMaxShift);
        QCOMPARE(rescale(123456789, zero), int64_t(0));
        const FixedMultiplier tiny = quantizeMultiplier(1e-300);
        QCOMPARE(tiny.mantissa, 0);
        QCOMPARE(tiny.shift, kMaxShift);
        const FixedMultiplier denormal = quantizeMultiplier(std::numeric_limits<double>::denorm_min());
        QCOMPARE(denormal.mantissa, 0);
        QCOMPARE(quantizeMultiplier(1.0).mantissa, int32_t(1) << 30);
        QCOMPARE(quantizeMultiplier(1.0).shift, 30);
    }

    void multiplierRefusals() {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const double inf = std::numeric_limits<double>::infinity();
        for (double bad : {-1.0, -1e-300, nan, inf, -inf, std::ldexp(1.0, 30), std::ldexp(1.0, 30) - 0.25, 1e300}) {
            QVERIFY2(throwsInvalidArgument([&] { quantizeMultiplier(bad); }), std::to_string(bad).c_str());
            QVERIFY(throwsInvalidArgument([&] { quantizeMultipliersSharedShift({0.5, bad}); }));
        }
    }

    void sharedShiftMultipliers() {
        StableRng rng(77);
        const int pairCount = 200000;
        int64_t sumMismatches = 0, badMantissas = 0, notMaximal = 0, sumCases = 0;
        for (int i = 0; i < pairCount; ++i) {
            // Usually nearby decades (the scales of two summed operands), sometimes far apart.
            const double ma = randomMultiplier(rng, -9.0, 9.0);
            const double mb = i % 4 == 0 ? randomMultiplier(rng, -9.0, 9.0) : ma * rng.uniform(0.05, 20.0);
            if (mb >= std::ldexp(1.0, 30) - 0.5) continue;
            const SharedShiftMultipliers shared = quantizeMultipliersSharedShift({ma, mb});
            const int n = shared.shift;
            if (shared.mantissas.size() != 2 || n < kMinShift || n > kMaxShift) {
                ++badMantissas;
                continue;
            }
            const double ms[2] = {ma, mb};
            bool oneMoreFits = n < kMaxShift;
            for (int j = 0; j < 2; ++j) {
                const int32_t mantissa = shared.mantissas[static_cast<size_t>(j)];
                if (mantissa < 0 || Int128(mantissa) != exactRoundScaled(ms[j], n)) ++badMantissas;
                if (exactRoundScaled(ms[j], n + 1) >= kTwoPow31) oneMoreFits = false;
                // The shared shift is at most each multiplier's own.
                if (n > quantizeMultiplier(ms[j]).shift) ++notMaximal;
            }
            if (oneMoreFits) ++notMaximal;

            const int64_t range = i % 2 == 0 ? (int64_t(1) << 30) - 1 : (int64_t(1) << 9);
            const int64_t a = randomSigned(rng, range), b = randomSigned(rng, range);
            const int64_t sum = a * shared.mantissas[0] + b * shared.mantissas[1];
            const int64_t got = roundingShiftRight(sum, n);
            const int64_t want =
                exactRoundShift(Int128(a) * shared.mantissas[0] + Int128(b) * shared.mantissas[1], n);
            ++sumCases;
            if (got != want && ++sumMismatches <= 5) {
                qWarning("shared-shift sum mismatch: a=%lld b=%lld n=%d", static_cast<long long>(a),
                         static_cast<long long>(b), n);
            }
        }
        qInfo("%lld shared-shift sum cases", static_cast<long long>(sumCases));
        QVERIFY(sumCases >= 100000);
        QCOMPARE(sumMismatches, int64_t(0));
        QCOMPARE(badMantissas, int64_t(0));
        QCOMPARE(notMaximal, int64_t(0));

        // Three multipliers, one of them 0; the empty list keeps the maximal shift.
        const SharedShiftMultipliers three = quantizeMultipliersSharedShift({0.25, 3.0, 0.0});
        QCOMPARE(three.shift, 29);  // 3 * 2^29 < 2^31 <= 3 * 2^30
        QCOMPARE(three.mantissas, (std::vector<int32_t>{int32_t(1) << 27, 3 * (int32_t(1) << 29), 0}));
        const SharedShiftMultipliers none = quantizeMultipliersSharedShift({});
        QVERIFY(none.mantissas.empty());
        QVERIFY(none.shift >= kMinShift && none.shift <= kMaxShift);
    }

    void activationQuantFromRanges() {
        StableRng rng(5);
        for (int bits = 2; bits <= 8; ++bits) {
            for (int i = 0; i < 2000; ++i) {
                double lo = std::pow(10.0, rng.uniform(-6, 3)) * (rng.below(4) == 0 ? 1.0 : -1.0);
                double hi = std::pow(10.0, rng.uniform(-6, 3)) * (rng.below(4) == 0 ? -1.0 : 1.0);
                if (lo > hi) std::swap(lo, hi);
                const ActivationQuant q = activationQuantFromRange(bits, lo, hi);
                const double wideLo = std::min(lo, 0.0), wideHi = std::max(hi, 0.0);
                QCOMPARE(q.bits, bits);
                QCOMPARE(q.qmax(), (1 << bits) - 1);
                QVERIFY(q.zeroPoint >= 0 && q.zeroPoint <= q.qmax());
                QCOMPARE(q.scale, (wideHi - wideLo) / q.qmax());
                // Real 0 is a code, and that code decodes to exactly 0.
                const int32_t zeroCode = quantizeValue(0.0, q);
                QCOMPARE(zeroCode, q.zeroPoint);
                QCOMPARE(q.scale * (zeroCode - q.zeroPoint), 0.0);
                // The nudged range still covers the widened one to within half a step.
                QVERIFY(q.scale * (0 - q.zeroPoint) <= wideLo + 0.5 * q.scale * (1 + 1e-9));
                QVERIFY(q.scale * (q.qmax() - q.zeroPoint) >= wideHi - 0.5 * q.scale * (1 + 1e-9));
                QVERIFY(quantizeValue(wideLo, q) <= 1);
                QVERIFY(quantizeValue(wideHi, q) >= q.qmax() - 1);
            }
            // Ranges not containing 0 are widened.
            const ActivationQuant positive = activationQuantFromRange(bits, 2.0, 5.0);
            QCOMPARE(positive.zeroPoint, 0);
            QCOMPARE(positive.scale, 5.0 / positive.qmax());
            const ActivationQuant negative = activationQuantFromRange(bits, -5.0, -2.0);
            QCOMPARE(negative.zeroPoint, negative.qmax());
            QCOMPARE(negative.scale, 5.0 / negative.qmax());
            const ActivationQuant symmetric = activationQuantFromRange(bits, -8.0, 8.0);
            QCOMPARE(symmetric.zeroPoint, 1 << (bits - 1));  // (2^b - 1) / 2 rounds half up
            // Degenerate ranges.
            for (auto range : {std::pair<double, double>{0.0, 0.0}, {3e-9, 3e-9}, {-3e-9, 0.0}, {-2e-9, 5e-9}}) {
                const ActivationQuant d = activationQuantFromRange(bits, range.first, range.second);
                QCOMPARE(d.scale, 1e-8);
                QVERIFY(d.zeroPoint >= 0 && d.zeroPoint <= 1);
                QCOMPARE(d.scale * (quantizeValue(0.0, d) - d.zeroPoint), 0.0);
            }
            QCOMPARE(activationQuantFromRange(bits, 0.0, 0.0).zeroPoint, 0);
        }
        for (int bad : {-1, 0, 1, 9, 16}) {
            QVERIFY(throwsInvalidArgument([&] { activationQuantFromRange(bad, -1.0, 1.0); }));
            QVERIFY(throwsInvalidArgument([&] { sigmoidOutputQuant(bad); }));
            QVERIFY(throwsInvalidArgument([&] { tanhOutputQuant(bad); }));
            QVERIFY(throwsInvalidArgument([&] { symmetricWeightScale(bad, 1.0); }));
        }
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const double inf = std::numeric_limits<double>::infinity();
        QVERIFY(throwsInvalidArgument([&] { activationQuantFromRange(8, nan, 1.0); }));
        QVERIFY(throwsInvalidArgument([&] { activationQuantFromRange(8, -1.0, inf); }));
        QVERIFY(throwsInvalidArgument([&] { activationQuantFromRange(8, 1.0, -1.0); }));
    }

    // quantizeValue rounds and clamps in int32 since 0e350ae (so loops over it vectorise); before, it clamped
    // an int64. Every bit width and zero point, halves of the step, values beyond the range, NaN and the
    // infinities give the same code as that int64 formula.
    void quantizeValueEqualsTheInt64Formula() {
        auto int64Formula = [](double x, const ActivationQuant& q) {
            const double scaled = x / q.scale;
            const double limit = static_cast<double>(q.qmax()) + 1.0;
            const double bounded = scaled >= limit ? limit : (scaled <= -limit ? -limit : scaled);
            const bool isNan = scaled != scaled;
            const int32_t code = clampCode(static_cast<int64_t>(roundHalfUp(isNan ? 0.0 : bounded)) + q.zeroPoint, 0, q.qmax());
            return isNan ? q.zeroPoint : code;
        };
        StableRng rng(29);
        int64_t checked = 0;
        for (int bits = 2; bits <= 8; ++bits) {
            ActivationQuant q;
            q.bits = bits;
            for (int32_t zero : {0, 1, q.qmax() / 2, q.qmax() - 1, q.qmax()}) {
                q.zeroPoint = zero;
                q.scale = 0.1 + rng.uniform(0.0, 1.0);
                std::vector<double> xs = {0.0, -0.0, 1e300, -1e300, std::numeric_limits<double>::infinity(),
                                          -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()};
                for (int k = -2 * q.qmax() - 4; k <= 2 * q.qmax() + 4; ++k) {
                    const double half = q.scale * (k + 0.5);
                    xs.insert(xs.end(), {half, std::nextafter(half, -1e9), std::nextafter(half, 1e9), q.scale * k});
                }
                for (int i = 0; i < 200; ++i) xs.push_back(rng.uniform(-3.0, 3.0) * q.scale * q.qmax());
                for (double x : xs) {
                    QCOMPARE(quantizeValue(x, q), int64Formula(x, q));
                    ++checked;
                }
            }
        }
        QVERIFY(checked > 20000);
    }

    void quantizeValueClampsAndRoundsHalfUp() {
        ActivationQuant q;
        q.bits = 4;
        q.scale = 0.25;
        q.zeroPoint = 3;
        QCOMPARE(quantizeValue(0.125, q), 4);   // 0.5 -> 1
        QCOMPARE(quantizeValue(-0.125, q), 3);  // -0.5 -> 0
        QCOMPARE(quantizeValue(-0.375, q), 2);  // -1.5 -> -1
        QCOMPARE(quantizeValue(0.375, q), 5);   // 1.5 -> 2
        QCOMPARE(quantizeValue(std::nextafter(0.125, 0.0), q), 3);
        QCOMPARE(quantizeValue(std::nextafter(-0.125, -1.0), q), 2);
        QCOMPARE(quantizeValue(-0.75, q), 0);
        QCOMPARE(quantizeValue(-0.875, q), 0);  // -3.5 -> -3 + 3 = 0
        QCOMPARE(quantizeValue(-1.0, q), 0);    // clamped
        QCOMPARE(quantizeValue(3.0, q), 15);
        QCOMPARE(quantizeValue(1e300, q), 15);
        QCOMPARE(quantizeValue(-1e300, q), 0);
        QCOMPARE(quantizeValue(std::numeric_limits<double>::infinity(), q), 15);
        QCOMPARE(quantizeValue(-std::numeric_limits<double>::infinity(), q), 0);
        QCOMPARE(quantizeValue(std::numeric_limits<double>::quiet_NaN(), q), 3);  // the zero point, deterministically
        // floor(x + 0.5) in double would round 0.49999999999999994 up; the rule must not.
        ActivationQuant unit;
        unit.bits = 8;
        unit.scale = 1.0;
        unit.zeroPoint = 10;
        QCOMPARE(quantizeValue(0.49999999999999994, unit), 10);
        QCOMPARE(quantizeValue(0.5, unit), 11);
        QCOMPARE(quantizeValue(-0.5, unit), 10);
        QCOMPARE(quantizeValue(-0.5000000000000001, unit), 9);
        QCOMPARE(quantizeValue(244.5, unit), 255);
        QCOMPARE(quantizeValue(-10.5, unit), 0);
    }

    void fixedOutputQuantizers() {
        for (int bits = 2; bits <= 8; ++bits) {
            const ActivationQuant s = sigmoidOutputQuant(bits);
            QCOMPARE(s.bits, bits);
            QCOMPARE(s.zeroPoint, 0);
            QCOMPARE(s.scale, 1.0 / ((1 << bits) - 1));
            QCOMPARE(quantizeValue(0.0, s), 0);
            QCOMPARE(quantizeValue(1.0, s), s.qmax());
            QCOMPARE(s.scale * (0 - s.zeroPoint), 0.0);
            QCOMPARE(s.scale * (s.qmax() - s.zeroPoint), 1.0);

            const ActivationQuant t = tanhOutputQuant(bits);
            const int32_t half = (1 << (bits - 1)) - 1;
            QCOMPARE(t.bits, bits);
            QCOMPARE(t.zeroPoint, half);
            QCOMPARE(t.scale, 1.0 / half);
            QCOMPARE(quantizeValue(0.0, t), half);
            QCOMPARE(quantizeValue(1.0, t), 2 * half);
            QCOMPARE(quantizeValue(-1.0, t), 0);
            QCOMPARE(t.scale * (half - t.zeroPoint), 0.0);
            QCOMPARE(t.scale * (2 * half - t.zeroPoint), 1.0);
            QCOMPARE(t.scale * (0 - t.zeroPoint), -1.0);
            QCOMPARE(t.qmax(), 2 * half + 1);  // the top code is unused

            QCOMPARE(symmetricWeightScale(bits, 2.5), 2.5 / weightQmax(bits));
            QCOMPARE(symmetricWeightScale(bits, 0.0), 1e-8);
        }
        QVERIFY(throwsInvalidArgument([] { symmetricWeightScale(8, -1.0); }));
        QVERIFY(throwsInvalidArgument([] { symmetricWeightScale(8, std::numeric_limits<double>::quiet_NaN()); }));
    }

    void lookupTablesAreExactlyRounded() {
        int64_t entries = 0, mismatches = 0, ties = 0, sigmoidZeroTies = 0;
        int tables = 0;
        for (int inBits = 2; inBits <= 8; ++inBits) {
            for (const NamedQuant& input : lutInputQuants(inBits)) {
                QString zeroTieSummary;
                for (int outBits = 2; outBits <= 8; ++outBits) {
                    for (int kind = 0; kind < 2; ++kind) {
                        const bool isSigmoid = kind == 0;
                        const ActivationQuant out = isSigmoid ? sigmoidOutputQuant(outBits) : tanhOutputQuant(outBits);
                        const std::vector<uint8_t> lut = isSigmoid ? sigmoidLut(input.quant, out) : tanhLut(input.quant, out);
                        ++tables;
                        QCOMPARE(lut.size(), size_t(1) << inBits);
                        std::vector<bool> tieAt(lut.size(), false);
                        for (size_t i = 0; i < lut.size(); ++i) {
                            ++entries;
                            const int code = lut[i];
                            QVERIFY(code >= 0 && code <= out.qmax());
                            if (i > 0) QVERIFY2(lut[i] >= lut[i - 1], "LUT not monotone");
                            const long double x = static_cast<long double>(input.quant.scale) *
                                                  (static_cast<long double>(i) - input.quant.zeroPoint);
                            const long double r =
                                (isSigmoid ? referenceSigmoid(x) : referenceTanh(x)) / static_cast<long double>(out.scale);
                            const long double fl = std::floor(r);
                            auto toCode = [&](long double k) {
                                const long double c = k + out.zeroPoint;
                                return static_cast<int>(c < 0 ? 0 : (c > out.qmax() ? out.qmax() : c));
                            };
                            const bool tie = std::fabs(r - (fl + 0.5L)) < 1e-12L;
                            const int expected = toCode(r - fl >= 0.5L ? fl + 1 : fl);
                            if (tie) {
                                tieAt[i] = true;
                                ++ties;
                                const bool ok = code == toCode(fl) || code == toCode(fl + 1);
                                if (!ok) ++mismatches;
                                if (isSigmoid && static_cast<int32_t>(i) == input.quant.zeroPoint) {
                                    // sigmoid(0) / (1/qmax) = qmax/2, off by the double rounding of 1/qmax;
                                    // pinned to the exact-arithmetic answer, half up = 2^(b-1).
                                    QCOMPARE(code, 1 << (outBits - 1));
                                    ++sigmoidZeroTies;
                                    zeroTieSummary += QStringLiteral(" out%1:%2").arg(outBits).arg(code);
                                } else {
                                    qInfo("tie: %s in%d %s out%d code %zu: r=%.20Lg -> %d", input.name.c_str(), inBits,
                                          isSigmoid ? "sigmoid" : "tanh", outBits, i, r, code);
                                }
                            } else if (code != expected) {
                                if (++mismatches <= 10) {
                                    qWarning("LUT mismatch: %s in%d %s out%d code %zu: got %d want %d (r=%.20Lg)",
                                             input.name.c_str(), inBits, isSigmoid ? "sigmoid" : "tanh", outBits, i,
                                             code, expected, r);
                                }
                            }
                        }
                        // tanh is odd: codes zeroPoint +- d map to outputs symmetric about the output zero point.
                        if (!isSigmoid && input.symmetric) {
                            const int zp = input.quant.zeroPoint;
                            QCOMPARE(int(lut[static_cast<size_t>(zp)]), out.zeroPoint);
                            for (int d = 1; zp - d >= 0 && zp + d < int(lut.size()); ++d) {
                                if (tieAt[size_t(zp + d)] || tieAt[size_t(zp - d)]) continue;
                                QCOMPARE(int(lut[size_t(zp + d)]) - out.zeroPoint, out.zeroPoint - int(lut[size_t(zp - d)]));
                            }
                        }
                    }
                }
                if (!zeroTieSummary.isEmpty()) {
                    qInfo("sigmoid(0) ties, %s in%d (code %d):%s", input.name.c_str(), inBits, input.quant.zeroPoint,
                          qPrintable(zeroTieSummary));
                }
            }
        }
        qInfo("%d LUTs, %lld entries, %lld ties within 1e-12 (%lld of them sigmoid(0))", tables,
              static_cast<long long>(entries), static_cast<long long>(ties), static_cast<long long>(sigmoidZeroTies));
        QCOMPARE(mismatches, int64_t(0));
        QCOMPARE(ties, sigmoidZeroTies);  // no tie other than sigmoid(0)
    }

    void lookupTableRefusals() {
        const ActivationQuant good = activationQuantFromRange(8, -4.0, 4.0);
        ActivationQuant badBits = good;
        badBits.bits = 9;
        ActivationQuant badScale = good;
        badScale.scale = 0.0;
        QVERIFY(throwsInvalidArgument([&] { sigmoidLut(badBits, sigmoidOutputQuant(8)); }));
        QVERIFY(throwsInvalidArgument([&] { tanhLut(good, badBits); }));
        QVERIFY(throwsInvalidArgument([&] { sigmoidLut(badScale, sigmoidOutputQuant(8)); }));
        // Saturation at the table ends: a wide input reaches the extreme output codes.
        const ActivationQuant wide = activationQuantFromRange(8, -50.0, 50.0);
        const std::vector<uint8_t> s = sigmoidLut(wide, sigmoidOutputQuant(8));
        QCOMPARE(int(s.front()), 0);
        QCOMPARE(int(s.back()), 255);
        const std::vector<uint8_t> t = tanhLut(wide, tanhOutputQuant(8));
        QCOMPARE(int(t.front()), 0);
        QCOMPARE(int(t.back()), 254);
    }
};

QTEST_APPLESS_MAIN(TestFixedPoint)
#include "test_fixed_point.moc"
