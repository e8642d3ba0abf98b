// gruq-cli data info | data generate-speech
#include "cli_common.h"
#include "commands.h"

#include "gruq/base/errors.h"
#include "gruq/base/paths.h"
#include "gruq/speechgen/speech_generator.h"
#include "gruq/data/task_registry.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

namespace gruq::cli {
namespace {

struct DataInfoArgs {
    std::string task;
    TaskLoadOptions load;
    bool json = false;
};

// Sequences shorter than the steps (zero-padded) and their shortest length.
struct Padding {
    int64_t shorter = 0, shortest = 0;
};
Padding paddingOf(const SequenceSet& set) {
    Padding p{0, set.steps};
    for (int64_t i = 0; i < set.count; ++i) {
        p.shorter += set.lengthOf(i) < set.steps;
        p.shortest = std::min(p.shortest, set.lengthOf(i));
    }
    return p;
}

nlohmann::json splitJson(const SequenceSet& set, int numClasses) {
    const Padding p = paddingOf(set);
    return {{"count", set.count},          {"steps", set.steps},
            {"features", set.features},    {"class_counts", classCounts(set, numClasses)},
            {"padded_sequences", p.shorter}, {"shortest_length", p.shortest}};
}

void printSplit(const char* name, const SequenceSet& set) {
    std::printf("  %-10s %7lld sequences of %lld steps x %lld features", name, static_cast<long long>(set.count),
                static_cast<long long>(set.steps), static_cast<long long>(set.features));
    const Padding p = paddingOf(set);
    if (p.shorter > 0) {
        std::printf(", %lld zero-padded (shortest %lld steps; each is classified at its last valid step)",
                    static_cast<long long>(p.shorter), static_cast<long long>(p.shortest));
    }
    std::printf("\n");
}

int runDataInfo(const DataInfoArgs& args) {
    if (args.task.empty()) throw InputError("arguments", "give a task name or --data FILE");
    ProgressBar bar;
    const TaskData data = loadTask(args.task, args.load, std::ref(bar), interruptFlag());
    bar.finish();
    const int nc = data.numClasses();
    if (args.json) {
        nlohmann::json j = {{"task", data.task},
                            {"description", data.description},
                            {"source", data.source},
                            {"classes", data.classNames},
                            {"normalization", {{"mean", data.normalization.mean}, {"std", data.normalization.stdDev}}},
                            {"train", splitJson(data.train, nc)},
                            {"validation", splitJson(data.validation, nc)},
                            {"test", splitJson(data.test, nc)}};
        std::cout << printableJson(j) << '\n';
        return 0;
    }
    std::printf("task        %s: %s\n", data.task.c_str(), data.description.c_str());
    std::printf("source      %s\n", data.source.c_str());
    std::printf("classes     %d\n", nc);
    if (data.normalization.perFeature()) {
        std::printf("normalised  per feature with training split statistics (mean / std):\n           ");
        for (size_t f = 0; f < data.normalization.mean.size(); ++f) {
            std::printf(" %.2f/%.2f", data.normalization.mean[f], data.normalization.stdDev[f]);
        }
        std::printf("\n");
    } else {
        std::printf("normalised  (x - %.4f) / %.4f (training split statistics)\n", data.normalization.mean[0],
                    data.normalization.stdDev[0]);
    }
    std::printf("splits\n");
    printSplit("train", data.train);
    printSplit("validation", data.validation);
    printSplit("test", data.test);
    std::printf("class balance (train / validation / test)\n");
    const auto tr = classCounts(data.train, nc), va = classCounts(data.validation, nc), te = classCounts(data.test, nc);
    for (int c = 0; c < nc; ++c) {
        const auto i = static_cast<size_t>(c);
        std::printf("  %2d %-14s %7lld %7lld %7lld\n", c, data.classNames[i].c_str(), static_cast<long long>(tr[i]),
                    static_cast<long long>(va[i]), static_cast<long long>(te[i]));
    }
    return 0;
}

int runGenerateSpeech(const SpeechGeneratorOptions& options) {
    SpeechGeneratorOptions o = options;
    if (o.outputDir.empty()) o.outputDir = defaultSpeechCommandsDir();
    ProgressBar bar;
    const SpeechGeneratorReport report = generateSpeechCommands(o, std::ref(bar), interruptFlag());
    bar.finish();
    std::printf("wrote %lld utterances from %d speakers to %s in %s\n", static_cast<long long>(report.utterances),
                report.speakers, report.outputDir.c_str(), formatSeconds(report.seconds).c_str());
    return 0;
}

}  // namespace

void addDataCommands(CLI::App& app, CommandRunner& runner) {
    CLI::App* data = app.add_subcommand("data", "inspect datasets and make the synthetic speech set");
    data->require_subcommand(1);

    auto infoArgs = std::make_shared<DataInfoArgs>();
    CLI::App* info = data->add_subcommand("info", "counts, shapes and class balance of a task's data");
    std::string taskHelp = "task:";
    for (const TaskInfo& t : knownTasks()) taskHelp += " " + t.name;
    info->add_option("task", infoArgs->task, taskHelp + " (or --data FILE)");
    addTaskOptions(*info, infoArgs->load);
    addUserDataOptions(*info, infoArgs->task, infoArgs->load);
    info->add_flag("--json", infoArgs->json, "print JSON");
    info->callback([&runner, infoArgs] { runner = [infoArgs] { return runDataInfo(*infoArgs); }; });

    auto genArgs = std::make_shared<SpeechGeneratorOptions>();
    CLI::App* gen = data->add_subcommand(
        "generate-speech", "write a Speech Commands-layout folder of espeak-ng utterances (KWS stand-in data)");
    gen->add_option("--out", genArgs->outputDir, "output folder (default: " + defaultSpeechCommandsDir() + ")");
    gen->add_option("--per-word", genArgs->utterancesPerWord, "utterances per word")->capture_default_str()->check(CLI::PositiveNumber);
    gen->add_option("--seed", genArgs->seed, "random seed")->capture_default_str();
    gen->add_option("--threads", genArgs->threads, "worker threads (0 = all cores)");
    gen->callback([&runner, genArgs] { runner = [genArgs] { return runGenerateSpeech(*genArgs); }; });
}

}  // namespace gruq::cli
