#include "gruq/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace gruq {

SequenceSet subset(const SequenceSet& set, const std::vector<int64_t>& indices) {
    SequenceSet out;
    out.count = static_cast<int64_t>(indices.size());
    out.steps = set.steps;
    out.features = set.features;
    const int64_t n = set.sequenceSize();
    out.x.resize(static_cast<size_t>(out.count * n));
    out.y.resize(static_cast<size_t>(out.count));
    for (size_t k = 0; k < indices.size(); ++k) {
        const int64_t i = indices[k];
        std::memcpy(out.x.data() + static_cast<int64_t>(k) * n, set.sequence(i), static_cast<size_t>(n) * sizeof(float));
        out.y[k] = set.y[static_cast<size_t>(i)];
    }
    return out;
}

std::vector<int64_t> classCounts(const SequenceSet& set, int numClasses) {
    std::vector<int64_t> counts(static_cast<size_t>(std::max(numClasses, 0)), 0);
    for (int32_t label : set.y) {
        if (label >= 0 && label < numClasses) ++counts[static_cast<size_t>(label)];
    }
    return counts;
}

Normalization computeNormalization(const SequenceSet& set) {
    double sum = 0.0, sumSq = 0.0;
    for (float v : set.x) {
        sum += v;
        sumSq += static_cast<double>(v) * v;
    }
    const double n = std::max<double>(1.0, static_cast<double>(set.x.size()));
    const double mean = sum / n;
    const double var = std::max(0.0, sumSq / n - mean * mean);
    Normalization norm;
    norm.mean = static_cast<float>(mean);
    norm.stdDev = static_cast<float>(std::max(std::sqrt(var), 1e-6));
    return norm;
}

void applyNormalization(SequenceSet& set, const Normalization& norm) {
    const float inv = 1.0f / norm.stdDev;
    for (float& v : set.x) v = (v - norm.mean) * inv;
}

}  // namespace gruq
