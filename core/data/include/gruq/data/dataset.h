#pragma once
// Torch-free containers for sequence classification data, shared by every task.
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

// count sequences of steps x features floats, row-major, with one integer label each.
struct SequenceSet {
    int64_t count = 0;
    int64_t steps = 0;
    int64_t features = 0;
    std::vector<float> x;    // count * steps * features
    std::vector<int32_t> y;  // count
    // Valid steps of each sequence (1..steps) when sequences are zero-padded at the end; empty when every
    // sequence uses all steps. Every model classifies at the last valid step: the padding is never read.
    std::vector<int32_t> lengths;

    const float* sequence(int64_t i) const { return x.data() + i * steps * features; }
    int64_t sequenceSize() const { return steps * features; }
    int64_t lengthOf(int64_t i) const { return lengths.empty() ? steps : lengths[static_cast<size_t>(i)]; }
    bool padded() const { return !lengths.empty(); }
};

// The one accuracy rule: the fraction of sequences whose predicted class is their label (0 for an
// empty set). Every model (float, fake-quant, integer) is scored through it.
double accuracyOf(const std::vector<int32_t>& predictions, const SequenceSet& set);

// How the raw inputs were normalised: x_model[f] = (x_raw[f] - mean[f]) / stdDev[f]. Either one value
// for every feature (images: all pixels alike) or one per feature (MFCCs: c0 dwarfs the others, and a
// single input quantizer would waste its codes on it). Kept so that deployment can normalise raw
// features the same way.
struct Normalization {
    std::vector<float> mean{0.0f};
    std::vector<float> stdDev{1.0f};

    bool perFeature() const { return mean.size() > 1; }
    float meanOf(int64_t feature) const { return mean[perFeature() ? static_cast<size_t>(feature) : 0]; }
    float stdDevOf(int64_t feature) const { return stdDev[perFeature() ? static_cast<size_t>(feature) : 0]; }
};

struct TaskData {
    std::string task;                     // registry name, e.g. "smnist-row"
    std::string description;              // human readable
    std::string source;                   // folder the data came from
    std::vector<std::string> classNames;  // index = label
    Normalization normalization;
    SequenceSet train, validation, test;

    int numClasses() const { return static_cast<int>(classNames.size()); }
};

// Rows of `set` picked by `indices`, in that order.
SequenceSet subset(const SequenceSet& set, const std::vector<int64_t>& indices);

// Number of sequences per label 0..numClasses-1 (labels outside are ignored).
std::vector<int64_t> classCounts(const SequenceSet& set, int numClasses);

// Mean and standard deviation over every valid value of set.x (padding steps excluded), or per feature
// when perFeature is set (stdDev floored to avoid division by 0).
Normalization computeNormalization(const SequenceSet& set, bool perFeature = false);
void applyNormalization(SequenceSet& set, const Normalization& norm);

}  // namespace gruq
