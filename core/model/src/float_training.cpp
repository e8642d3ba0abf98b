#include "gruq/model/float_training.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"
#include "gruq/base/paths.h"
#include "gruq/data/split.h"
#include "gruq/model/learning_rate.h"
#include "gruq/model/torch_convert.h"
#include "gruq/model/torch_training.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace gruq {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A GRU of 1..3 stacked layers (torch's fused kernel) followed by a linear head on the last layer's last
// hidden state, or on its output at each row's last valid step when the rows are zero-padded (lengths defined).
struct FloatGruNetImpl : torch::nn::Module {
    explicit FloatGruNetImpl(const GruShape& shape)
        : gru(register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(shape.inputSize, shape.hiddenSize)
                                                        .num_layers(shape.numLayers)
                                                        .batch_first(true)))),
          fc(register_module("fc", torch::nn::Linear(shape.hiddenSize, shape.numClasses))) {}

    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& lengths = {}) {
        auto [out, hN] = gru->forward(x);
        return fc->forward(lengths.defined() ? lastValidStep(out, lengths) : hN[hN.size(0) - 1]);
    }

    torch::nn::GRU gru;
    torch::nn::Linear fc;
};
TORCH_MODULE(FloatGruNet);

FloatGruWeights extractWeights(FloatGruNet& net, const GruShape& shape) {
    FloatGruWeights w;
    w.shape = shape;
    auto params = net->gru->named_parameters();
    for (int64_t l = 0; l < shape.numLayers; ++l) {
        const std::string k = std::to_string(l);
        w.layers.push_back({tensorToVector(params["weight_ih_l" + k]), tensorToVector(params["weight_hh_l" + k]),
                            tensorToVector(params["bias_ih_l" + k]), tensorToVector(params["bias_hh_l" + k])});
    }
    w.wFc = tensorToVector(net->fc->weight);
    w.bFc = tensorToVector(net->fc->bias);
    return w;
}

void loadWeightsInto(FloatGruNet& net, const FloatGruWeights& w) {
    torch::NoGradGuard noGrad;
    const int64_t H = w.shape.hiddenSize, C = w.shape.numClasses;
    auto params = net->gru->named_parameters();
    for (int64_t l = 0; l < w.shape.numLayers; ++l) {
        const std::string k = std::to_string(l);
        const FloatGruLayer& layer = w.layers[size_t(l)];
        params["weight_ih_l" + k].copy_(vectorToTensor(layer.wIh, {3 * H, w.shape.layerInputSize(l)}));
        params["weight_hh_l" + k].copy_(vectorToTensor(layer.wHh, {3 * H, H}));
        params["bias_ih_l" + k].copy_(vectorToTensor(layer.bIh, {3 * H}));
        params["bias_hh_l" + k].copy_(vectorToTensor(layer.bHh, {3 * H}));
    }
    net->fc->weight.copy_(vectorToTensor(w.wFc, {C, H}));
    net->fc->bias.copy_(vectorToTensor(w.bFc, {C}));
}

// Accuracy of the float network on a split whose tensor x is already made.
double floatAccuracy(FloatGruNet& net, const torch::Tensor& x, const SequenceSet& set) {
    net->eval();
    const LogitsFn logits = [&net](const torch::Tensor& batch, const torch::Tensor& lengths) { return net->forward(batch, lengths); };
    return accuracyOf(predictionsOf(logits, x, lengthsToTensor(set), 1024), set);
}

// Identity of the data: task, source, sizes, all labels and a stride of the feature values.
std::string dataFingerprint(const TaskData& data) {
    std::ostringstream os;
    os << data.task << '|' << data.source << '|';
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const SequenceSet* s : {&data.train, &data.validation, &data.test}) {
        os << s->count << 'x' << s->steps << 'x' << s->features << '|';
        h = fnv1a64(std::string(reinterpret_cast<const char*>(s->y.data()), s->y.size() * sizeof(int32_t)), h);
        std::string sample;
        for (size_t i = 0; i < s->x.size(); i += 61) sample.append(reinterpret_cast<const char*>(&s->x[i]), sizeof(float));
        h = fnv1a64(sample, h);
        // Padded sets: the lengths are part of the data (unpadded sets hash exactly as before).
        if (s->padded()) h = fnv1a64(std::string(reinterpret_cast<const char*>(s->lengths.data()), s->lengths.size() * sizeof(int32_t)), h);
    }
    os << hex64(h);
    return os.str();
}

std::string reportPath(const std::string& modelPath) { return modelPath.substr(0, modelPath.size() - 4) + ".json"; }

std::string reportText(const FloatTrainReport& r, const std::string& key) {
    nlohmann::json j;
    j["key"] = key;
    j["validation_accuracy"] = r.validationAccuracy;
    j["test_accuracy"] = r.testAccuracy;
    j["train_seconds"] = r.trainSeconds;
    j["samples_per_second"] = r.samplesPerSecond;
    for (const EpochReport& e : r.epochs) {
        j["epochs"].push_back({{"epoch", e.epoch}, {"train_loss", e.trainLoss}, {"train_accuracy", e.trainAccuracy},
                               {"validation_accuracy", e.validationAccuracy}, {"seconds", e.seconds},
                               {"samples_per_second", e.samplesPerSecond}});
    }
    return j.dump(2) + "\n";
}

// A cache entry is the weights plus a JSON report. Both are staged beside their final names, the weights
// read back (their checksum catches a write cut short by a full disk), and only then renamed into place:
// a failed write never leaves a damaged entry, a replaced good one, or temporary files.
void storeCacheEntry(const std::string& modelPath, const FloatTrainReport& r, const std::string& key) {
    namespace fs = std::filesystem;
    const std::string suffix = ".staged-" + std::to_string(::getpid());
    const std::string stagedModel = modelPath + suffix, stagedReport = reportPath(modelPath) + suffix;
    auto removeStaged = [&] {
        std::error_code ignored;
        for (const std::string& p : {stagedModel, stagedModel + ".tmp", stagedReport}) fs::remove(p, ignored);
    };
    try {
        writeWholeFile(stagedReport, reportText(r, key));  // first: its error carries the system's reason
        saveFloatWeights(stagedModel, r.weights);
        try {
            loadFloatWeights(stagedModel);
        } catch (const InputError&) {
            throw InputError(stagedModel, "the written file is incomplete (disk full or file size limit?)");
        }
        std::error_code ec;
        fs::rename(stagedModel, modelPath, ec);
        if (!ec) fs::rename(stagedReport, reportPath(modelPath), ec);
        if (ec) throw InputError(modelPath, ec.message());
    } catch (const InputError& e) {
        removeStaged();
        throw InputError(modelPath, "cannot store the float model in the cache: " + e.problem() +
                                        " (free space, or choose another cache folder: GRUQ_CACHE_DIR, --cache-dir)");
    } catch (...) {
        removeStaged();
        throw;
    }
}

// A cache hit needs both files, a matching key and readable weights; anything else is a miss.
bool loadCached(const std::string& modelPath, const std::string& key, FloatTrainReport& report) {
    namespace fs = std::filesystem;
    if (!fs::exists(modelPath) || !fs::exists(reportPath(modelPath))) return false;
    try {
        std::ifstream f(reportPath(modelPath));
        const nlohmann::json j = nlohmann::json::parse(f);
        if (j.at("key").get<std::string>() != key) return false;
        report.weights = loadFloatWeights(modelPath);
        report.validationAccuracy = j.at("validation_accuracy").get<double>();
        report.testAccuracy = j.at("test_accuracy").get<double>();
        report.samplesPerSecond = j.at("samples_per_second").get<double>();
        report.trainSeconds = j.at("train_seconds").get<double>();
        if (j.contains("epochs")) {
            for (const auto& e : j["epochs"]) {
                report.epochs.push_back({e.at("epoch").get<int>(), e.at("train_loss").get<double>(),
                                         e.at("train_accuracy").get<double>(), e.at("validation_accuracy").get<double>(),
                                         e.at("seconds").get<double>(), e.at("samples_per_second").get<double>()});
            }
        }
        report.fromCache = true;
        report.cachePath = modelPath;
        return true;
    } catch (const std::exception&) {
        return false;  // damaged cache entry: retrain and overwrite it
    }
}

void validateConfig(const FloatTrainConfig& c) {
    auto bad = [](const std::string& what) { throw InputError("training settings", what); };
    if (c.hiddenSize < 1 || c.hiddenSize > kMaxHiddenSize) bad("hidden size must be in 1.." + std::to_string(kMaxHiddenSize));
    if (c.numLayers < 1 || c.numLayers > kMaxGruLayers) bad("layers must be in 1.." + std::to_string(kMaxGruLayers));
    if (c.epochs < 1) bad("epochs must be >= 1");
    if (c.batchSize < 1) bad("batch size must be >= 1");
    if (!(c.learningRate > 0.0)) bad("learning rate must be > 0");
}

}  // namespace

std::string FloatTrainConfig::cacheKey(const TaskData& data) const {
    std::ostringstream os;
    if (imports()) {
        os << "imported-gru-v1|" << dataFingerprint(data) << "|" << hex64(fnv1a64(readWholeFile(importModel.path))) << "|gru "
           << importModel.gruName << "|head " << importModel.headName;
        return os.str();
    }
    os << "float-gru-v1|" << dataFingerprint(data) << "|H" << hiddenSize << "|C" << data.numClasses() << "|e" << epochs
       << "|b" << batchSize << "|lr" << learningRate << "|wd" << weightDecay << "|clip" << gradClipNorm << "|seed" << seed;
    if (numLayers != 1) os << "|L" << numLayers;  // one layer keeps the keys of models cached before stacking
    return os.str();
}

namespace {

std::string cacheDirOf(const FloatTrainConfig& config) {
    return config.cacheDir.empty() ? userCacheDir() + "/models" : config.cacheDir;
}

std::string modelPathOf(const TaskData& data, const FloatTrainConfig& config, const std::string& key) {
    const GruShape shape{data.train.features, config.hiddenSize, data.numClasses(), config.numLayers};
    return cacheDirOf(config) + "/float-" + data.task + "-" + shape.key() + "-s" + std::to_string(config.seed) + "-" +
           hex64(fnv1a64(key)) + ".bin";
}

}  // namespace

namespace {

// A float network holding `weights`, checked against the data it will see.
FloatGruNet networkFor(const FloatGruWeights& weights, const SequenceSet& set, int threads) {
    weights.validate("float model");
    if (set.features != weights.shape.inputSize) {
        throw InputError("float model", "input size " + std::to_string(weights.shape.inputSize) +
                                            " does not match the data's " + std::to_string(set.features) + " features");
    }
    configureTorchThreads(threads);
    FloatGruNet net(weights.shape);
    loadWeightsInto(net, weights);
    return net;
}

// Checks the imported model fits the data, then measures it where a trained one would be measured.
FloatTrainReport importedBaseline(const TaskData& data, const FloatTrainConfig& config, const TrainObserver& observer) {
    const std::string& path = config.importModel.path;
    if (data.task != "npz") {
        throw InputError(path, "an imported model needs your own data (task npz: --data FILE); task " + data.task +
                                   " feeds features prepared for gruq's own models");
    }
    if (observer.progress) observer.progress({"importing " + path, 0, 1, 0.0, ""});
    const ImportedModel model = importFloatModel(config.importModel);
    const GruShape& shape = model.weights.shape;
    if (shape.inputSize != data.train.features) {
        throw InputError(path, "the model takes " + std::to_string(shape.inputSize) + " input features per step, the data have " +
                                   std::to_string(data.train.features) + " (" + data.source + ")");
    }
    if (shape.inputSize + shape.hiddenSize > 2048 || shape.numClasses > 1024) {
        throw InputError(path, "shape " + shape.key() + " is outside what gruq quantizes and exports (features + hidden "
                                                        "size <= 2048, classes <= 1024)");
    }
    if (shape.numClasses != data.numClasses()) {
        throw InputError(path, "the model has " + std::to_string(shape.numClasses) + " outputs, the data have " +
                                   std::to_string(data.numClasses()) + " classes (" + data.source + ")");
    }
    FloatGruNet net = networkFor(model.weights, data.validation, config.threads);
    FloatTrainReport report;
    report.weights = model.weights;
    report.importedFormat = model.format;
    report.cachePath = path;
    report.validationAccuracy = floatAccuracy(net, sequencesToTensor(data.validation), data.validation);
    report.testAccuracy = floatAccuracy(net, sequencesToTensor(data.test), data.test);
    if (observer.progress) observer.progress({"importing " + path, 1, 1, 0.0, ""});
    return report;
}

}  // namespace

std::optional<FloatTrainReport> findCachedFloatBaseline(const TaskData& data, const FloatTrainConfig& config) {
    if (config.imports()) return importedBaseline(data, config, {});  // nothing to train: import it
    FloatTrainReport report;
    const std::string key = config.cacheKey(data);  // hashes the data: compute it once
    if (loadCached(modelPathOf(data, config, key), key, report)) return report;
    return std::nullopt;
}

FloatTrainReport trainFloatBaseline(const TaskData& data, const FloatTrainConfig& config, const TrainObserver& observer) {
    if (config.imports()) return importedBaseline(data, config, observer);
    validateConfig(config);
    if (data.train.count == 0) throw InputError(data.source, "the training split is empty");
    const GruShape shape{data.train.features, config.hiddenSize, data.numClasses(), config.numLayers};
    const std::string key = config.cacheKey(data);
    const std::string cacheDir = cacheDirOf(config);
    const std::string modelPath = modelPathOf(data, config, key);

    FloatTrainReport report;
    if (config.useCache && loadCached(modelPath, key, report)) return report;

    configureTorchThreads(config.threads);
    torch::manual_seed(config.seed);
    FloatGruNet net(shape);
    torch::optim::Adam optimizer(net->parameters(),
                                 torch::optim::AdamOptions(config.learningRate).weight_decay(config.weightDecay));

    const torch::Tensor xTrain = sequencesToTensor(data.train), yTrain = labelsToTensor(data.train);
    const torch::Tensor lengthsTrain = lengthsToTensor(data.train);
    const torch::Tensor xVal = sequencesToTensor(data.validation);
    const torch::Tensor xTest = sequencesToTensor(data.test);

    const int64_t n = data.train.count;
    const int64_t batchesPerEpoch = (n + config.batchSize - 1) / config.batchSize;
    const int64_t totalSteps = batchesPerEpoch * config.epochs;
    std::vector<int64_t> order(static_cast<size_t>(n));
    StableRng rng(config.seed ^ 0x5eedba7c4ULL);

    FloatGruWeights best;
    double bestVal = -1.0;
    int64_t step = 0;
    double trainingSeconds = 0.0;
    const auto trainStart = Clock::now();
    for (int epoch = 1; epoch <= config.epochs; ++epoch) {
        const auto epochStart = Clock::now();
        for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
        stableShuffle(order, rng);
        const torch::Tensor perm = torch::from_blob(order.data(), {n}, torch::kInt64);

        net->train();
        double lossSum = 0.0;
        int64_t correct = 0;
        for (int64_t b = 0; b < batchesPerEpoch; ++b, ++step) {
            if (observer.cancel && observer.cancel->isRequested()) throw Cancelled();
            setLearningRate(optimizer, cosineLearningRate(config.learningRate, step, totalSteps));

            const int64_t start = b * config.batchSize, count = std::min<int64_t>(config.batchSize, n - start);
            const torch::Tensor idx = perm.narrow(0, start, count);
            const torch::Tensor x = xTrain.index_select(0, idx), y = yTrain.index_select(0, idx);
            const torch::Tensor lengths = lengthsTrain.defined() ? lengthsTrain.index_select(0, idx) : lengthsTrain;
            optimizer.zero_grad();
            const torch::Tensor logits = net->forward(x, lengths);
            const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
            loss.backward();
            if (config.gradClipNorm > 0) torch::nn::utils::clip_grad_norm_(net->parameters(), config.gradClipNorm);
            optimizer.step();
            lossSum += loss.item<double>() * static_cast<double>(count);
            correct += logits.argmax(1).eq(y).sum().item<int64_t>();
            if (observer.progress) {
                std::ostringstream detail;
                detail << "loss " << loss.item<double>();
                observer.progress({"epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs), b + 1,
                                   batchesPerEpoch, secondsSince(epochStart), detail.str()});
            }
        }
        const double epochTrainSeconds = secondsSince(epochStart);
        trainingSeconds += epochTrainSeconds;

        EpochReport e;
        e.epoch = epoch;
        e.trainLoss = lossSum / static_cast<double>(n);
        e.trainAccuracy = static_cast<double>(correct) / static_cast<double>(n);
        e.validationAccuracy = floatAccuracy(net, xVal, data.validation);
        e.seconds = secondsSince(epochStart);
        e.samplesPerSecond = static_cast<double>(n) / epochTrainSeconds;
        report.epochs.push_back(e);
        if (observer.epochFinished) observer.epochFinished(e);

        // Keep the weights of the best validation epoch (model selection on validation only).
        if (e.validationAccuracy > bestVal || data.validation.count == 0) {
            bestVal = e.validationAccuracy;
            best = extractWeights(net, shape);
        }
    }

    loadWeightsInto(net, best);
    report.weights = best;
    report.validationAccuracy = bestVal;
    report.testAccuracy = floatAccuracy(net, xTest, data.test);
    report.trainSeconds = secondsSince(trainStart);
    report.samplesPerSecond = static_cast<double>(n) * config.epochs / trainingSeconds;
    report.cachePath = modelPath;

    if (config.useCache) {
        ensureDirectory(cacheDir);
        storeCacheEntry(modelPath, report, key);
    }
    return report;
}


double evaluateFloatAccuracy(const FloatGruWeights& weights, const SequenceSet& set, int threads) {
    FloatGruNet net = networkFor(weights, set, threads);
    return floatAccuracy(net, sequencesToTensor(set), set);
}

std::vector<float> evaluateFloatLogits(const FloatGruWeights& weights, const SequenceSet& set, int threads) {
    FloatGruNet net = networkFor(weights, set, threads);
    net->eval();
    torch::NoGradGuard noGrad;
    return tensorToVector(net->forward(sequencesToTensor(set), lengthsToTensor(set)));
}

}  // namespace gruq
