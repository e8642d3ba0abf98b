#pragma once
// Shared pieces of the gruq-cli subcommands: a terminal progress bar and task options.
#include "gruq/quant/evaluate.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/genome.h"
#include "gruq/base/progress.h"
#include "gruq/base/text.h"
#include "gruq/data/task_registry.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace gruq::cli {

// Draws "stage [#####.....] 45% 12/26 detail ETA 0:13" on stderr, redrawn in place when stderr is a
// terminal, one line per stage (or every few seconds) otherwise so logs stay readable.
class ProgressBar {
public:
    void operator()(const Progress& p);
    void finish();  // ends the current line

private:
    std::string lastStage_;
    double lastPrinted_ = -1e9;
    bool open_ = false;
};

// --path, --seed, --max-train, --max-test, --threads on a subcommand.
void addTaskOptions(CLI::App& command, TaskLoadOptions& options);
// --data FILE (the user's NumPy data: sets the task to "npz") and its split / normalisation options.
void addUserDataOptions(CLI::App& command, std::string& task, TaskLoadOptions& options);

// --model FILE (a float GRU trained elsewhere, imported instead of trained; turns normalisation off),
// --gru NAME, --head NAME (which tensors, when the file holds several candidates).
void addModelImportOptions(CLI::App& command, FloatTrainConfig& floatConfig, TaskLoadOptions& options);

// --genome / --bits / --layout: one genome from the command line.
struct GenomeArgs {
    std::string text;
    std::string layout = "default17";
    int bits = 0;
    // For a model of `layers` GRU layers (the layout's stacked form). InputError("arguments" / "genome", ...)
    // on bad or missing input.
    Genome parse(int64_t layers) const;
};
void addGenomeOptions(CLI::App& command, GenomeArgs& args);

// The --qat-* budget and schedule of one genome evaluation (eval, export, search).
void addQatOptions(CLI::App& command, QatConfig& qat);
// --hidden, --layers, --float-epochs, addQatOptions and --qat-seed.
void addModelOptions(CLI::App& command, FloatTrainConfig& floatConfig, QatConfig& qat);

// One genome evaluated from the command line: task data, cached float baseline, QAT + integer model,
// with the terminal progress bar and Ctrl-C. Shared by `eval` and `export --genome/--bits`. The genome is
// read for the float model's layer count: --layers for a model trained here (checked before any data is
// loaded), the file's own for an imported one (--model).
struct CommandLineEvaluation {
    TaskData data;
    FloatTrainReport baseline;
    GenomeEvaluation evaluation;
};
CommandLineEvaluation evaluateOnCommandLine(const std::string& task, const TaskLoadOptions& load,
                                            FloatTrainConfig floatConfig, QatConfig qat, const GenomeArgs& genome,
                                            bool withTest);

// JSON text for stdout. File names are bytes and not always UTF-8: invalid sequences print as U+FFFD
// instead of failing the command after its work is done.
std::string printableJson(const nlohmann::json& j);

std::string formatSeconds(double seconds);  // "1:05:03" / "4:07" / "12.3 s"

}  // namespace gruq::cli

namespace gruq::cli {
// A cancel flag raised by Ctrl-C (SIGINT) / SIGTERM, so long work stops cleanly between units.
const CancelFlag* interruptFlag();
}  // namespace gruq::cli
