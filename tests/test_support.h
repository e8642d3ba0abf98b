#pragma once
// Helpers shared by the Qt Test executables: temporary folders and tiny MNIST-format datasets.
#include "gruq/quant/evaluate.h"
#include "gruq/model/float_training.h"
#include "gruq/data/idx_reader.h"

#include <QTemporaryDir>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

namespace gruq::test {

inline std::string readBytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A tiny MNIST-format folder: images are 28x28 with one bright stripe at a row (or column) that
// depends on the label, so a small GRU can learn them; labels cycle 0..9.
inline void writeTinyMnist(const std::string& dir, int64_t trainCount, int64_t testCount, bool gzip,
                           uint32_t noiseSeed = 1) {
    auto make = [&](int64_t n, const std::string& prefix) {
        IdxArray images, labels;
        images.dims = {n, 28, 28};
        labels.dims = {n};
        images.data.assign(static_cast<size_t>(n * 28 * 28), 0);
        uint32_t s = noiseSeed + static_cast<uint32_t>(n);
        for (int64_t i = 0; i < n; ++i) {
            const int label = static_cast<int>(i % 10);
            labels.data.push_back(static_cast<uint8_t>(label));
            uint8_t* img = images.data.data() + i * 28 * 28;
            for (int p = 0; p < 28 * 28; ++p) {
                s = s * 1664525u + 1013904223u;
                img[p] = static_cast<uint8_t>((s >> 24) & 0x3f);  // background noise 0..63
            }
            const int band = 2 + label * 2 + static_cast<int>((s >> 8) % 2);
            for (int k = 0; k < 28; ++k) {
                if (label % 2 == 0) img[band * 28 + k] = 255;  // horizontal stripe
                else img[k * 28 + band] = 255;                 // vertical stripe
            }
        }
        const std::string ext = gzip ? ".gz" : "";
        writeIdxFile(dir + "/" + prefix + "-images-idx3-ubyte" + ext, images, gzip);
        writeIdxFile(dir + "/" + prefix + "-labels-idx1-ubyte" + ext, labels, gzip);
    };
    make(trainCount, "train");
    make(testCount, "t10k");
}

// The float GRU the tiny-task tests train (H=16, single-threaded, cached in cacheDir): > 80% test accuracy
// on writeTinyMnist data in a few seconds.
inline FloatTrainConfig tinyFloatConfig(const std::string& cacheDir) {
    FloatTrainConfig c;
    c.hiddenSize = 16;
    c.epochs = 6;
    c.batchSize = 32;
    c.learningRate = 1e-2;
    c.threads = 1;
    c.cacheDir = cacheDir;
    return c;
}

// A small, single-threaded QAT budget for the tiny task.
inline QatConfig tinyQat() {
    QatConfig c;
    c.epochs = 1;
    c.samplesPerEpoch = 256;
    c.batchSize = 64;
    c.calibrationBatches = 4;
    c.learningRate = 2e-4;
    c.threads = 1;
    return c;
}

}  // namespace gruq::test
