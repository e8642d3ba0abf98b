#pragma once
// Sequential MNIST tasks over any MNIST-format IDX folder (default: Debian's Fashion-MNIST).
#include "gruq/data/dataset.h"

#include <cstdint>
#include <string>

namespace gruq {

enum class MnistView {
    Rows,    // 28 steps x 28 features (one image row per step)
    Pixels,  // 784 steps x 1 feature (one pixel per step, row-major)
};

struct MnistTaskOptions {
    std::string directory;            // empty = defaultFashionMnistDir()
    MnistView view = MnistView::Rows;
    double validationFraction = 0.1;  // of the training files, stratified
    uint64_t seed = 0;                // split seed
    int64_t maxTrain = 0;             // cap on training+validation images read (0 = all)
    int64_t maxTest = 0;              // cap on test images read (0 = all)
};

// Finds {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] in the folder, checks image and label
// counts agree, scales pixels to [0,1], then normalises with the training split's mean / std.
// Task name "smnist-row" / "smnist-pixel". InputError naming the file on any problem.
TaskData loadMnistTask(const MnistTaskOptions& options);

// The IDX file of `stem` (e.g. "train-images-idx3-ubyte") in dir, raw or .gz; InputError if neither.
std::string findIdxFile(const std::string& dir, const std::string& stem);

// Class names: the Fashion-MNIST names when the folder is a Fashion-MNIST copy, else digits "0".."9".
std::vector<std::string> mnistClassNames(const std::string& dir);

}  // namespace gruq
