// gruq-cli train: the float GRU baseline every genome starts from (cached on disk).
#include "cli_common.h"
#include "commands.h"

#include "gruq/model/float_training.h"
#include "gruq/data/task_registry.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace gruq::cli {
namespace {

struct TrainArgs {
    std::string task = defaultTaskName();
    TaskLoadOptions load;
    FloatTrainConfig train;
    bool noCache = false;
    bool json = false;
};

int runTrain(TrainArgs args) {
    args.train.useCache = !args.noCache;
    args.train.threads = args.load.threads;
    ProgressBar bar;
    const TaskData data = loadTask(args.task, args.load, std::ref(bar), interruptFlag());
    bar.finish();
    std::fprintf(stderr, "%s: %lld train / %lld validation / %lld test sequences of %lld x %lld\n", data.task.c_str(),
                 static_cast<long long>(data.train.count), static_cast<long long>(data.validation.count),
                 static_cast<long long>(data.test.count), static_cast<long long>(data.train.steps),
                 static_cast<long long>(data.train.features));

    TrainObserver observer;
    observer.progress = std::ref(bar);
    observer.cancel = interruptFlag();
    observer.epochFinished = [&bar](const EpochReport& e) {
        bar.finish();
        std::fprintf(stderr, "epoch %3d  loss %.4f  train %.2f%%  validation %.2f%%  %.1f s  %.0f seq/s\n", e.epoch,
                     e.trainLoss, 100 * e.trainAccuracy, 100 * e.validationAccuracy, e.seconds, e.samplesPerSecond);
    };
    const FloatTrainReport r = trainFloatBaseline(data, args.train, observer);
    bar.finish();

    if (args.json) {
        std::cout << printableJson(nlohmann::json{{"task", data.task},
                                    {"shape", r.weights.shape.key()},
                                    {"parameters", r.weights.parameterCount()},
                                    {"validation_accuracy", r.validationAccuracy},
                                    {"test_accuracy", r.testAccuracy},
                                    {"train_seconds", r.trainSeconds},
                                    {"samples_per_second", r.samplesPerSecond},
                                    {"from_cache", r.fromCache},
                                    {"imported_format", r.importedFormat},
                                    {"model", r.cachePath}})
                  << '\n';
        return 0;
    }
    std::printf("float GRU %s (%lld parameters)%s\n", r.weights.shape.key().c_str(),
                static_cast<long long>(r.weights.parameterCount()), r.fromCache ? ", loaded from cache" : "");
    std::printf("validation accuracy  %.2f%%\n", 100 * r.validationAccuracy);
    std::printf("test accuracy        %.2f%%\n", 100 * r.testAccuracy);
    if (!r.importedFormat.empty()) {
        std::printf("imported             %s (not trained here)\n", r.importedFormat.c_str());
    } else {
        std::printf("training             %s, %.0f sequences/s\n", formatSeconds(r.trainSeconds).c_str(), r.samplesPerSecond);
    }
    if (!r.cachePath.empty()) std::printf("model                %s\n", r.cachePath.c_str());
    return 0;
}

}  // namespace

void addTrainCommand(CLI::App& app, CommandRunner& runner) {
    auto args = std::make_shared<TrainArgs>();
    CLI::App* cmd = app.add_subcommand("train", "train (or load from cache) the float GRU baseline of a task");
    cmd->add_option("--task", args->task, "task name")->capture_default_str();
    addTaskOptions(*cmd, args->load);
    addUserDataOptions(*cmd, args->task, args->load);
    addModelImportOptions(*cmd, args->train, args->load);
    cmd->add_option("--hidden", args->train.hiddenSize, "GRU hidden size (1..256)")->capture_default_str();
    cmd->add_option("--layers", args->train.numLayers, "stacked GRU layers (1..3)")->capture_default_str();
    cmd->add_option("--epochs", args->train.epochs, "training epochs")->capture_default_str();
    cmd->add_option("--batch", args->train.batchSize, "batch size")->capture_default_str();
    cmd->add_option("--lr", args->train.learningRate, "Adam learning rate (cosine decay)")->capture_default_str();
    cmd->add_option("--train-seed", args->train.seed, "weight-init / batch-order seed")->capture_default_str();
    cmd->add_option("--cache-dir", args->train.cacheDir, "model cache folder");
    cmd->add_flag("--no-cache", args->noCache, "always train, do not read or write the cache");
    cmd->add_flag("--json", args->json, "print the result as JSON");
    cmd->callback([&runner, args] { runner = [args] { return runTrain(*args); }; });
}

}  // namespace gruq::cli
