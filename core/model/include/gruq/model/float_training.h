#pragma once
// Trains (or loads from the on-disk cache) the float GRU baseline that every genome starts from.
#include "gruq/data/dataset.h"
#include "gruq/model/float_model.h"
#include "gruq/model/model_import.h"
#include "gruq/base/progress.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gruq {

struct FloatTrainConfig {
    int64_t hiddenSize = 64;         // 1..kMaxHiddenSize
    int64_t numLayers = 1;           // stacked GRU layers, 1..kMaxGruLayers
    int epochs = 20;
    int batchSize = 128;
    double learningRate = 2e-3;  // Adam; cosine decay to 5% over the epochs
    double weightDecay = 0.0;
    double gradClipNorm = 1.0;
    uint64_t seed = 0;           // weight init and batch order
    int threads = 0;             // torch intra-op threads; 0 = hardware concurrency
    std::string cacheDir;        // empty = userCacheDir()/models
    bool useCache = true;
    ModelImportOptions importModel;  // path set: the float model is this file's (imported, never trained;
                                     // hiddenSize, numLayers and the training settings above are then unused)

    bool imports() const { return !importModel.path.empty(); }
    // Identity of a trained model: task + data identity + shape + every training setting + seed. Of an
    // imported one: data identity + the model file's content hash + the names picked in it.
    std::string cacheKey(const TaskData& data) const;
};

struct EpochReport {
    int epoch = 0;  // 1-based
    double trainLoss = 0;
    double trainAccuracy = 0;
    double validationAccuracy = 0;
    double seconds = 0;
    double samplesPerSecond = 0;
};

struct FloatTrainReport {
    FloatGruWeights weights;
    double validationAccuracy = 0;
    double testAccuracy = 0;
    double trainSeconds = 0;        // 0 when loaded from the cache
    double samplesPerSecond = 0;    // training throughput (sequences / s), from the epochs run
    bool fromCache = false;
    std::string cachePath;
    std::string importedFormat;     // "PyTorch state_dict", "TorchScript", "ONNX" when imported, else empty
    std::vector<EpochReport> epochs;
};

// Observer for training progress; every member optional.
struct TrainObserver {
    ProgressFn progress;                                   // per batch: stage "epoch e/E", done/total batches
    std::function<void(const EpochReport&)> epochFinished;
    const CancelFlag* cancel = nullptr;
};

// With config.imports(): the imported model, its accuracies measured on the data (InputError naming
// the model file when its input size or class count does not match the data).
FloatTrainReport trainFloatBaseline(const TaskData& data, const FloatTrainConfig& config,
                                    const TrainObserver& observer = {});

// The cached result for exactly these data and settings, if one exists (never trains).
std::optional<FloatTrainReport> findCachedFloatBaseline(const TaskData& data, const FloatTrainConfig& config);

// Accuracy of float weights on a set (batched float forward).
double evaluateFloatAccuracy(const FloatGruWeights& weights, const SequenceSet& set, int threads = 0);

// The float model's logits for every sequence of `set`: [count x classes], row-major.
std::vector<float> evaluateFloatLogits(const FloatGruWeights& weights, const SequenceSet& set, int threads = 0);

}  // namespace gruq
