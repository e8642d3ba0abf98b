#include "cli_common.h"

#include "gruq/base/errors.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace gruq::cli {

std::string printableJson(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string formatSeconds(double seconds) {
    if (seconds < 60.0) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f s", seconds);
        return buf;
    }
    const auto total = static_cast<long>(std::lround(seconds));
    char buf[32];
    if (total >= 3600) {
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, (total / 60) % 60, total % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
    }
    return buf;
}

void ProgressBar::operator()(const Progress& p) {
    static const bool tty = isatty(STDERR_FILENO);
    const bool newStage = p.stage != lastStage_;
    const bool last = p.total > 0 && p.done >= p.total;
    const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (!tty && !newStage && !last && now - lastPrinted_ < 5.0) return;
    if (tty && !newStage && !last && now - lastPrinted_ < 0.1) return;  // redraw at most 10x per second
    lastPrinted_ = now;
    if (newStage && open_) std::fputc('\n', stderr);
    lastStage_ = p.stage;

    std::string line = p.stage;
    if (p.total > 0) {
        const double fraction = std::min(1.0, static_cast<double>(p.done) / static_cast<double>(p.total));
        const int width = 30, filled = static_cast<int>(fraction * width);
        line += " [" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '.') + "] ";
        char pct[64];
        std::snprintf(pct, sizeof pct, "%3.0f%% %lld/%lld", 100.0 * fraction, static_cast<long long>(p.done),
                      static_cast<long long>(p.total));
        line += pct;
        if (p.done > 0 && p.done < p.total) {
            const double eta = p.etaSeconds >= 0 ? p.etaSeconds
                                                 : p.elapsedSeconds / static_cast<double>(p.done) *
                                                       static_cast<double>(p.total - p.done);
            line += " ETA " + formatSeconds(eta);
        }
    } else if (p.done > 0) {
        line += " " + std::to_string(p.done);
    }
    if (!p.detail.empty()) line += "  " + p.detail;
    if (tty) {
        std::fprintf(stderr, "\r\033[K%s", line.c_str());
        open_ = true;
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
        open_ = false;
    }
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
    lastStage_.clear();
}

void addTaskOptions(CLI::App& command, TaskLoadOptions& options) {
    command.add_option("--path", options.path, "data folder (default: the task's default folder)");
    command.add_option("--seed", options.seed, "split / selection seed")->capture_default_str();
    command.add_option("--validation-fraction", options.validationFraction,
                       "MNIST tasks: share of the training files held out for validation")
        ->check(CLI::Range(0.0, 0.9))
        ->capture_default_str();
    command.add_option("--max-train", options.maxTrain, "MNIST tasks: read at most N training images (0 = all)");
    command.add_option("--max-test", options.maxTest, "MNIST tasks: read at most N test images (0 = all)");
    command.add_option("--threads", options.threads, "worker threads (0 = all cores)");
    command.add_flag("--unknown", options.kwsUnknown, "KWS tasks: add an _unknown_ class made of the other words");
    command.add_flag("--silence", options.kwsSilence, "KWS tasks: add a _silence_ class of background-noise crops");
}

void addUserDataOptions(CLI::App& command, std::string& task, TaskLoadOptions& options) {
    command
        .add_option_function<std::string>(
            "--data",
            [&task, &options](const std::string& file) {
                task = "npz";
                options.path = file;
            },
            "your data: an .npz with x [N, T, F] and y [N] (or a folder of x.npy + y.npy); sets the task to npz")
        ->type_name("FILE");
    command.add_option("--validation-data", options.validationPath, "npz task: a separate validation file (with --test-data)");
    command.add_option("--test-data", options.testPath, "npz task: a separate test file (with --validation-data)");
    command.add_option("--test-fraction", options.testFraction, "npz task from one file: share held out for testing")
        ->check(CLI::Range(0.01, 0.9))
        ->capture_default_str();
    command.add_flag_function(
        "--no-normalize", [&options](int64_t) { options.normalize = false; },
        "npz task: feed the features as they are (default: per-feature normalisation with training statistics)");
}

void addModelImportOptions(CLI::App& command, FloatTrainConfig& floatConfig, TaskLoadOptions& options) {
    command
        .add_option_function<std::string>(
            "--model",
            [&floatConfig, &options](const std::string& file) {
                // Absolute: archives record it, and are reopened from other folders.
                floatConfig.importModel.path = std::filesystem::absolute(file).lexically_normal().string();
                options.normalize = false;  // the model was trained on the features as the file holds them
            },
            "a float GRU trained elsewhere (PyTorch state_dict, TorchScript or ONNX file), imported instead of "
            "trained; needs --data, feeds the features unnormalised")
        ->type_name("FILE");
    command.add_option("--gru", floatConfig.importModel.gruName, "with --model: the GRU module's name when the file holds several");
    command.add_option("--head", floatConfig.importModel.headName,
                       "with --model: the linear head's name (e.g. fc) when several layers could be the head");
}

}  // namespace gruq::cli

#include <csignal>

namespace gruq::cli {
namespace {
CancelFlag g_interrupt;
extern "C" void onInterrupt(int) { g_interrupt.requested.store(true); }
}  // namespace

const CancelFlag* interruptFlag() {
    static const bool installed = [] {
        std::signal(SIGINT, onInterrupt);
        std::signal(SIGTERM, onInterrupt);
        return true;
    }();
    (void)installed;
    return &g_interrupt;
}

}  // namespace gruq::cli

namespace gruq::cli {

Genome GenomeArgs::parse(int64_t layers) const {
    if (bits != 0 && !text.empty()) throw InputError("arguments", "give either --genome or --bits, not both");
    if (layers < 1 || layers > kMaxGruLayers) {
        throw InputError("--layers", std::to_string(layers) + " is outside 1.." + std::to_string(kMaxGruLayers));
    }
    const GenomeLayout& base = layoutByName(layout);
    if (base.layers != 1) throw InputError("--layout", "give the one-layer layout (" + base.baseName + ") and --layers");
    const GenomeLayout& stacked = stackedLayout(base, int(layers));
    if (bits != 0) return uniformGenome(stacked, bits);
    if (text.empty()) throw InputError("arguments", "give --genome \"<text>\" or --bits N");
    if (text.front() == '{') {
        const Genome genome = parseGenomeJson(text);
        checkGenomeLayers(genome, layers);  // the JSON names its layout: it must be for this many layers
        return genome;
    }
    return parseGenomeText(text, stacked);
}

void addGenomeOptions(CLI::App& cmd, GenomeArgs& a) {
    cmd.add_option("--genome", a.text, "genome text, e.g. \"x8 w_ih4 w_hh6 ...\" (or its JSON form)");
    cmd.add_option("--bits", a.bits, "homogeneous genome: every gene at N bits")->check(CLI::Range(2, 8));
    cmd.add_option("--layout", a.layout, "genome layout: default17, homogeneous, per-gate")->capture_default_str();
}

void addQatOptions(CLI::App& cmd, QatConfig& qat) {
    cmd.add_option("--qat-epochs", qat.epochs, "QAT fine-tuning epochs (per genome in a search)")->capture_default_str();
    cmd.add_option("--qat-samples", qat.samplesPerEpoch, "QAT sequences per epoch (0 = all)")->capture_default_str();
    cmd.add_option("--qat-lr", qat.learningRate, "QAT learning rate")->capture_default_str();
    cmd.add_option("--qat-batch", qat.batchSize, "QAT batch size")->capture_default_str();
    cmd.add_option("--calibration-batches", qat.calibrationBatches, "float batches for range calibration")
        ->capture_default_str();
    cmd.add_option("--qat-range-tracking", qat.freezeRangesAfter,
                   "share of the QAT steps during which activation ranges follow the batches (EMA); frozen after "
                   "(0 = the calibrated ranges throughout)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
}

void addModelOptions(CLI::App& cmd, FloatTrainConfig& floatConfig, QatConfig& qat) {
    cmd.add_option("--hidden", floatConfig.hiddenSize, "GRU hidden size (1..256)")->capture_default_str();
    cmd.add_option("--layers", floatConfig.numLayers, "stacked GRU layers (1..3; an imported model (--model) has its own)")
        ->capture_default_str();
    cmd.add_option("--float-epochs", floatConfig.epochs, "float baseline epochs (cached)")->capture_default_str();
    addQatOptions(cmd, qat);
    cmd.add_option("--qat-seed", qat.seed, "QAT seed")->capture_default_str();
}

}  // namespace gruq::cli

namespace gruq::cli {

CommandLineEvaluation evaluateOnCommandLine(const std::string& task, const TaskLoadOptions& load,
                                            FloatTrainConfig floatConfig, QatConfig qat, const GenomeArgs& genomeArgs,
                                            bool withTest) {
    if (!floatConfig.imports()) genomeArgs.parse(floatConfig.numLayers);  // bad genomes fail before any data is loaded
    floatConfig.threads = qat.threads = load.threads;
    CommandLineEvaluation out;
    ProgressBar bar;
    out.data = loadTask(task, load, std::ref(bar), interruptFlag());
    bar.finish();
    TrainObserver observer;
    observer.progress = std::ref(bar);
    observer.cancel = interruptFlag();
    out.baseline = trainFloatBaseline(out.data, floatConfig, observer);
    bar.finish();
    const Genome genome = genomeArgs.parse(out.baseline.weights.shape.numLayers);
    EvaluateOptions options;
    options.withTest = withTest;
    options.progress = std::ref(bar);
    options.cancel = interruptFlag();
    out.evaluation = evaluateGenome(out.data, out.baseline.weights, genome, qat, options);
    bar.finish();
    return out;
}

}  // namespace gruq::cli
