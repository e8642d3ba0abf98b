#include "gruq/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace gruq {

double accuracyOf(const std::vector<int32_t>& predictions, const SequenceSet& set) {
    if (set.count == 0) return 0.0;
    if (predictions.size() != size_t(set.count)) throw std::logic_error("accuracyOf: one prediction per sequence");
    int64_t correct = 0;
    for (int64_t i = 0; i < set.count; ++i) correct += predictions[size_t(i)] == set.y[size_t(i)];
    return double(correct) / double(set.count);
}

SequenceSet subset(const SequenceSet& set, const std::vector<int64_t>& indices) {
    SequenceSet out;
    out.count = static_cast<int64_t>(indices.size());
    out.steps = set.steps;
    out.features = set.features;
    const int64_t n = set.sequenceSize();
    out.x.resize(static_cast<size_t>(out.count * n));
    out.y.resize(static_cast<size_t>(out.count));
    if (set.padded()) out.lengths.resize(static_cast<size_t>(out.count));
    for (size_t k = 0; k < indices.size(); ++k) {
        const int64_t i = indices[k];
        std::memcpy(out.x.data() + static_cast<int64_t>(k) * n, set.sequence(i), static_cast<size_t>(n) * sizeof(float));
        out.y[k] = set.y[static_cast<size_t>(i)];
        if (set.padded()) out.lengths[k] = set.lengths[static_cast<size_t>(i)];
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

Normalization computeNormalization(const SequenceSet& set, bool perFeature) {
    const size_t groups = perFeature ? static_cast<size_t>(std::max<int64_t>(1, set.features)) : 1;
    std::vector<double> sum(groups, 0.0), sumSq(groups, 0.0);
    size_t counted = 0;
    const size_t perStep = static_cast<size_t>(std::max<int64_t>(1, set.features));
    for (int64_t s = 0; s < set.count; ++s) {
        const size_t valid = static_cast<size_t>(set.lengthOf(s)) * perStep;  // padding steps are not data
        const float* row = set.sequence(s);
        for (size_t i = 0; i < valid; ++i) {
            const size_t g = perFeature ? i % groups : 0;
            const double v = row[i];
            sum[g] += v;
            sumSq[g] += v * v;
        }
        counted += valid;
    }
    const double perGroup = std::max<double>(1.0, static_cast<double>(counted / groups));
    Normalization norm;
    norm.mean.assign(groups, 0.0f);
    norm.stdDev.assign(groups, 1.0f);
    for (size_t g = 0; g < groups; ++g) {
        const double mean = sum[g] / perGroup;
        const double var = std::max(0.0, sumSq[g] / perGroup - mean * mean);
        norm.mean[g] = static_cast<float>(mean);
        norm.stdDev[g] = static_cast<float>(std::max(std::sqrt(var), 1e-6));
    }
    return norm;
}

void applyNormalization(SequenceSet& set, const Normalization& norm) {
    const int64_t features = std::max<int64_t>(1, set.features);
    for (size_t i = 0; i < set.x.size(); ++i) {
        const int64_t f = static_cast<int64_t>(i % static_cast<size_t>(features));
        set.x[i] = (set.x[i] - norm.meanOf(f)) / norm.stdDevOf(f);
    }
}

}  // namespace gruq
