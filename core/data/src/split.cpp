#include "gruq/data/split.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace gruq {

uint64_t StableRng::next() {
    // SplitMix64 (Steele, Lea, Flood 2014): fixed output for a given seed on every platform.
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t StableRng::below(uint64_t bound) {
    // Lemire-free rejection: discard the top partial bucket so every residue is equally likely.
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    uint64_t r;
    do {
        r = next();
    } while (r >= limit);
    return r % bound;
}

double StableRng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double StableRng::normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

SplitIndices stratifiedSplit(const std::vector<int32_t>& labels, double validationFraction, uint64_t seed) {
    std::map<int32_t, std::vector<int64_t>> byClass;
    for (size_t i = 0; i < labels.size(); ++i) byClass[labels[i]].push_back(static_cast<int64_t>(i));

    StableRng rng(seed);
    SplitIndices split;
    for (auto& [label, indices] : byClass) {
        stableShuffle(indices, rng);
        const auto nVal = static_cast<size_t>(std::llround(validationFraction * static_cast<double>(indices.size())));
        split.validation.insert(split.validation.end(), indices.begin(), indices.begin() + static_cast<std::ptrdiff_t>(nVal));
        split.train.insert(split.train.end(), indices.begin() + static_cast<std::ptrdiff_t>(nVal), indices.end());
    }
    std::sort(split.train.begin(), split.train.end());
    std::sort(split.validation.begin(), split.validation.end());
    return split;
}

}  // namespace gruq
