#pragma once
// Seeded, platform-independent train/validation splits (no std::distributions: their output
// differs between standard libraries, and a split must be the same everywhere).
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace gruq {

struct SplitIndices {
    std::vector<int64_t> train;
    std::vector<int64_t> validation;
};

// Stratified by label: each class contributes round(fraction * its count) sequences to validation.
// Both index lists are sorted ascending. Same labels + fraction + seed -> same split, always.
SplitIndices stratifiedSplit(const std::vector<int32_t>& labels, double validationFraction, uint64_t seed);

// SplitMix64-based generator with a fixed, documented output sequence.
class StableRng {
public:
    explicit StableRng(uint64_t seed) : state_(seed) {}
    uint64_t next();
    uint64_t below(uint64_t bound);  // uniform in [0, bound), bound > 0 (rejection sampling)
    double uniform();                // uniform in [0, 1), 53 random bits
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    double normal();                 // standard normal (Box-Muller)

private:
    uint64_t state_;
};

// Fisher-Yates shuffle of v driven by rng.
template <typename T>
void stableShuffle(std::vector<T>& v, StableRng& rng) {
    for (std::size_t i = v.size(); i > 1; --i) {
        std::size_t j = static_cast<std::size_t>(rng.below(i));
        std::swap(v[i - 1], v[j]);
    }
}

}  // namespace gruq
