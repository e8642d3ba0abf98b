#include "gruq/data/mnist_task.h"

#include "gruq/base/errors.h"
#include "gruq/data/idx_reader.h"
#include "gruq/base/paths.h"
#include "gruq/data/split.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <unistd.h>

namespace gruq {
namespace {

SequenceSet readPair(const std::string& dir, const std::string& prefix, MnistView view, int64_t cap) {
    const std::string imagesPath = findIdxFile(dir, prefix + "-images-idx3-ubyte");
    const std::string labelsPath = findIdxFile(dir, prefix + "-labels-idx1-ubyte");
    const IdxArray images = readIdxFile(imagesPath);
    const IdxArray labels = readIdxFile(labelsPath);
    if (images.dims.size() != 3) {
        throw InputError(imagesPath, "expected 3 dimensions (count x rows x cols), found " + std::to_string(images.dims.size()));
    }
    if (labels.dims.size() != 1) {
        throw InputError(labelsPath, "expected 1 dimension (count), found " + std::to_string(labels.dims.size()));
    }
    if (images.dims[0] != labels.dims[0]) {
        throw InputError(labelsPath, "label count " + std::to_string(labels.dims[0]) + " does not match the " +
                                         std::to_string(images.dims[0]) + " images of " + imagesPath);
    }
    for (size_t i = 0; i < labels.data.size(); ++i) {
        if (labels.data[i] > 9) {
            throw InputError(labelsPath, "label " + std::to_string(labels.data[i]) + " at index " + std::to_string(i) +
                                             " is outside 0..9");
        }
    }
    const int64_t rows = images.dims[1], cols = images.dims[2];
    const int64_t count = cap > 0 ? std::min(cap, images.dims[0]) : images.dims[0];

    SequenceSet set;
    set.count = count;
    set.steps = view == MnistView::Rows ? rows : rows * cols;
    set.features = view == MnistView::Rows ? cols : 1;
    set.x.resize(static_cast<size_t>(count * rows * cols));
    set.y.resize(static_cast<size_t>(count));
    // Both views are the same row-major pixel order; only steps x features differs.
    for (size_t i = 0; i < set.x.size(); ++i) set.x[i] = images.data[i] * (1.0f / 255.0f);
    for (int64_t i = 0; i < count; ++i) set.y[static_cast<size_t>(i)] = labels.data[static_cast<size_t>(i)];
    return set;
}

}  // namespace

std::string findIdxFile(const std::string& dir, const std::string& stem) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw InputError(dir, "dataset folder not found");
    if (!fs::is_directory(dir, ec)) throw InputError(dir, "is a file, expected an MNIST-format folder");
    if (::access(dir.c_str(), R_OK | X_OK) != 0) {
        throw InputError(dir, std::string("cannot read the dataset folder (") + std::strerror(errno) + ")");
    }
    for (const std::string& candidate : {dir + "/" + stem + ".gz", dir + "/" + stem, dir + "/" + stem + ".idx"}) {
        if (fs::is_regular_file(candidate, ec)) return candidate;
        if (fs::is_directory(candidate, ec)) throw InputError(candidate, "is a folder, expected an IDX file");
    }
    // Some copies use dots instead of dashes (train-images.idx3-ubyte).
    std::string dotted = stem;
    const auto pos = dotted.find("-idx");
    if (pos != std::string::npos) dotted[pos] = '.';
    for (const std::string& candidate : {dir + "/" + dotted + ".gz", dir + "/" + dotted}) {
        if (fs::is_regular_file(candidate, ec)) return candidate;
    }
    throw InputError(dir, "missing " + stem + " (or " + stem + ".gz): not an MNIST-format folder");
}

std::vector<std::string> mnistClassNames(const std::string& dir) {
    if (dir.find("fashion") != std::string::npos) {
        return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    }
    return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
}

TaskData loadMnistTask(const MnistTaskOptions& options) {
    const std::string dir = options.directory.empty() ? defaultFashionMnistDir() : options.directory;
    if (options.validationFraction < 0.0 || options.validationFraction >= 1.0) {
        throw InputError("validation fraction", "must be in [0, 1), got " + std::to_string(options.validationFraction));
    }
    SequenceSet trainAll = readPair(dir, "train", options.view, options.maxTrain);
    SequenceSet test = readPair(dir, "t10k", options.view, options.maxTest);
    // One model reads both splits: images of another size would only fail deep inside training.
    if (test.steps != trainAll.steps || test.features != trainAll.features) {
        throw InputError(findIdxFile(dir, "t10k-images-idx3-ubyte"),
                         "test images give sequences of " + std::to_string(test.steps) + " x " +
                             std::to_string(test.features) + ", the training images " + std::to_string(trainAll.steps) +
                             " x " + std::to_string(trainAll.features) + " (images of different sizes)");
    }

    TaskData data;
    data.task = options.view == MnistView::Rows ? "smnist-row" : "smnist-pixel";
    data.description = options.view == MnistView::Rows ? "row-wise sequential MNIST, 28 steps x 28"
                                                       : "pixel-wise sequential MNIST, 784 steps x 1";
    data.source = std::filesystem::absolute(dir).lexically_normal().string();
    data.classNames = mnistClassNames(data.source);

    const SplitIndices split = stratifiedSplit(trainAll.y, options.validationFraction, options.seed);
    data.train = subset(trainAll, split.train);
    data.validation = subset(trainAll, split.validation);
    data.test = std::move(test);

    data.normalization = computeNormalization(data.train);
    applyNormalization(data.train, data.normalization);
    applyNormalization(data.validation, data.normalization);
    applyNormalization(data.test, data.normalization);
    return data;
}

}  // namespace gruq
