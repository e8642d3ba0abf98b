// gruq-cli eval: quantize one genome (calibrate + QAT fine-tune) and report integer-engine accuracy,
// fake-quant accuracy, size and timings.
#include "cli_common.h"
#include "commands.h"

#include "gruq/base/errors.h"
#include "gruq/quant/evaluate.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/genome.h"
#include "gruq/data/task_registry.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>

namespace gruq::cli {
namespace {

struct EvalArgs {
    std::string task = defaultTaskName();
    TaskLoadOptions load;
    FloatTrainConfig floatConfig;
    QatConfig qat;
    GenomeArgs genome;
    bool noTest = false;
    bool json = false;
};

int runEval(const EvalArgs& args) {
    const CommandLineEvaluation run =
        evaluateOnCommandLine(args.task, args.load, args.floatConfig, args.qat, args.genome, !args.noTest);
    const TaskData& data = run.data;
    const FloatTrainReport& baseline = run.baseline;
    const GenomeEvaluation& e = run.evaluation;

    const GruShape& shape = baseline.weights.shape;
    const ModelSize eight = modelSize(shape, uniformGenome(stackedLayout(homogeneousLayout(), int(shape.numLayers)), 8).resolve());
    if (args.json) {
        std::cout << printableJson(nlohmann::json{{"task", data.task},
                                    {"shape", baseline.weights.shape.key()},
                                    {"genome", e.genome.toText()},
                                    {"layout", e.genome.layout->name},
                                    {"float_validation_accuracy", baseline.validationAccuracy},
                                    {"float_test_accuracy", baseline.testAccuracy},
                                    {"validation_accuracy", e.validationAccuracy},
                                    {"fake_quant_validation_accuracy", e.fakeQuantValidationAccuracy},
                                    {"test_accuracy", e.testAccuracy},
                                    {"fake_quant_test_accuracy", e.fakeQuantTestAccuracy},
                                    {"agreement", e.agreement},
                                    {"size_bits", e.size.totalBits()},
                                    {"size_bytes", e.size.totalBytes()},
                                    {"size_fraction_of_8bit", e.size.fractionOf8Bit},
                                    {"weight_bits", e.size.weightBits},
                                    {"bias_bits", e.size.biasBits},
                                    {"lut_bits", e.size.lutBits},
                                    {"calibrate_seconds", e.calibrateSeconds},
                                    {"train_seconds", e.trainSeconds},
                                    {"evaluate_seconds", e.evaluateSeconds},
                                    {"total_seconds", e.totalSeconds}})
                  << '\n';
        return 0;
    }
    std::printf("genome       %s  (layout %s)\n", e.genome.toText().c_str(), e.genome.layout->name.c_str());
    std::printf("model        %s float GRU: validation %s, test %s\n", baseline.weights.shape.key().c_str(),
                formatPercent(baseline.validationAccuracy).c_str(), formatPercent(baseline.testAccuracy).c_str());
    std::printf("                       integer engine   fake-quant\n");
    std::printf("validation   %18s %12s\n", formatPercent(e.validationAccuracy).c_str(), formatPercent(e.fakeQuantValidationAccuracy).c_str());
    std::printf("test         %18s %12s\n", formatPercent(e.testAccuracy).c_str(), formatPercent(e.fakeQuantTestAccuracy).c_str());
    std::printf("agreement    %s of %s predictions identical\n", formatPercent(e.agreement).c_str(), args.noTest ? "validation" : "test");
    std::printf("size         %lld bits = %lld bytes = %.1f%% of the 8-bit model (%lld bytes)\n",
                static_cast<long long>(e.size.totalBits()), static_cast<long long>(e.size.totalBytes()),
                100 * e.size.fractionOf8Bit, static_cast<long long>(eight.totalBytes()));
    std::printf("             weights %lld, biases %lld, LUTs %lld bits\n", static_cast<long long>(e.size.weightBits),
                static_cast<long long>(e.size.biasBits), static_cast<long long>(e.size.lutBits));
    std::printf("time         %.1f s (calibrate %.1f, QAT %.1f, evaluate %.1f)\n", e.totalSeconds, e.calibrateSeconds,
                e.trainSeconds, e.evaluateSeconds);
    return 0;
}

}  // namespace

void addEvalCommand(CLI::App& app, CommandRunner& runner) {
    auto a = std::make_shared<EvalArgs>();
    CLI::App* cmd = app.add_subcommand("eval", "quantize one genome: calibrate, QAT fine-tune, integer-engine accuracy, size");
    cmd->add_option("--task", a->task, "task name")->capture_default_str();
    addTaskOptions(*cmd, a->load);
    addUserDataOptions(*cmd, a->task, a->load);
    addModelImportOptions(*cmd, a->floatConfig, a->load);
    addGenomeOptions(*cmd, a->genome);
    addModelOptions(*cmd, a->floatConfig, a->qat);
    cmd->add_flag("--no-test", a->noTest, "skip the test split");
    cmd->add_flag("--json", a->json, "print JSON");
    cmd->callback([&runner, a] { runner = [a] { return runEval(*a); }; });
}

}  // namespace gruq::cli
