#pragma once
// The user's own sequences as a task: a NumPy .npz (or a folder holding x.npy and y.npy) with
//   x [N, T, F]  float32 / float64 / int8 / uint8 / int16 features,
//   y [N]        integer class ids 0..C-1,
//   lengths [N]  optional, valid steps per sequence (1..T) of sequences zero-padded at the end; every
//                model classifies at the last valid step,
//   class_names  optional [C] strings.
// One file is split by gruq (seeded, stratified: test, then validation from the rest); or separate
// train / validation / test files. Features are normalised per feature with training-split statistics,
// or left as they are.
#include "gruq/data/dataset.h"

#include <cstdint>
#include <map>
#include <string>

namespace gruq {

struct NumpyTaskOptions {
    std::string path;                // .npz file or folder of .npy files (the training data, or all of it)
    std::string validationPath;      // optional: separate validation file (then testPath is needed too)
    std::string testPath;            // optional: separate test file
    double validationFraction = 0.1; // share of the non-test sequences held out for validation (one file)
    double testFraction = 0.2;       // share of all sequences held out for testing (one file)
    uint64_t seed = 0;               // split seed
    bool normalize = true;           // per-feature (x - mean) / std with training-split statistics
};

TaskData loadNumpyTask(const NumpyTaskOptions& options);

// The arrays of one file, checked: members by name ("x", "y", "lengths", "class_names") as read from an
// .npz or a folder. InputError(where, ...) names what is wrong.
struct NumpySequences {
    SequenceSet set;
    std::vector<std::string> classNames;  // empty when the file has none
    int64_t largestLabel = -1;
};
NumpySequences numpySequencesFromMembers(const std::map<std::string, std::string>& members, const std::string& where);

}  // namespace gruq
