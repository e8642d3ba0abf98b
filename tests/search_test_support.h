#pragma once
// A tiny search configuration over a tiny MNIST-format folder, shared by the search tests.
#include "gruq/search/search.h"
#include "test_support.h"

#include <QDir>

#include <string>

namespace gruq::test {

// data/ (a tiny MNIST-format folder) and cache/ inside root.
struct TinySearchFolders {
    std::string data, cache;
    explicit TinySearchFolders(const std::string& root) : data(root + "/data"), cache(root + "/cache") {
        QDir().mkpath(QString::fromStdString(data));
        writeTinyMnist(data, 400, 100, true);
    }
};

inline SearchSettings tinySearchSettings(const std::string& dataDir, const std::string& cacheDir) {
    SearchSettings s;
    s.task = "smnist-row";
    s.data.path = dataDir;
    s.floatModel.hiddenSize = 8;
    s.floatModel.epochs = 3;
    s.floatModel.batchSize = 32;
    s.floatModel.learningRate = 1e-2;
    s.floatModel.cacheDir = cacheDir;
    s.qat.epochs = 1;
    s.qat.samplesPerEpoch = 64;
    s.qat.batchSize = 32;
    s.qat.calibrationBatches = 2;
    s.nsga2.population = 8;
    s.nsga2.generations = 3;
    s.workers = 1;
    s.seed = 7;
    return s;
}

}  // namespace gruq::test
