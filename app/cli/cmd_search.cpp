// gruq-cli search | search --resume | front: NSGA-II searches from the terminal.
#include "cli_common.h"
#include "commands.h"

#include "gruq/search/archive.h"
#include "gruq/base/errors.h"
#include "gruq/search/front_export.h"
#include "gruq/mpi/mpi_search.h"
#include "gruq/search/search.h"


#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace gruq::cli {
namespace {

// Turns search events into the terminal progress bar and log lines (called from worker threads).
class TerminalObserver : public SearchObserver {
public:
    // logEvaluations: one line per evaluation as it is committed to the archive (for scripts and logs).
    explicit TerminalObserver(bool logEvaluations) : logEvaluations_(logEvaluations) {}

    void individualEvaluated(const ArchivedIndividual& a, bool reused) override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (logEvaluations_ && !reused) {
            bar_.finish();
            std::fprintf(stderr, "evaluation committed: id %lld, validation %.6f, size %.6f, genome %s\n",
                         static_cast<long long>(a.id), a.validationAccuracy, a.sizeFraction, a.genome.c_str());
        }
        lastDetail_ = (reused ? "reused " : "") + std::to_string(a.id) + ": " + formatPercent(a.validationAccuracy) + " @ " +
                      std::to_string(static_cast<int>(100 * a.sizeFraction + 0.5)) + "%";
    }
    void generationFinished(const ArchivedGeneration& g) override {
        std::lock_guard<std::mutex> lock(mutex_);
        bar_.finish();
        std::fprintf(stderr, "generation %d done: front of %zu, hypervolume %.4f, %s elapsed\n", g.generation,
                     g.front.size(), g.hypervolume, formatSeconds(g.seconds).c_str());
    }
    void progress(const SearchProgress& p) override {
        std::lock_guard<std::mutex> lock(mutex_);
        Progress bar;
        bar.stage = p.stage;
        bar.done = p.evaluationsDone;
        bar.total = p.evaluationsPlanned;
        bar.elapsedSeconds = p.elapsedSeconds;
        bar.detail = lastDetail_;
        bar.etaSeconds = p.etaSeconds;
        bar_(bar);
    }
    void log(const std::string& line) override {
        std::lock_guard<std::mutex> lock(mutex_);
        bar_.finish();
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    void finish() {
        std::lock_guard<std::mutex> lock(mutex_);
        bar_.finish();
    }

private:
    const bool logEvaluations_;
    std::mutex mutex_;
    ProgressBar bar_;
    std::string lastDetail_;
};

void printFrontTable(const std::vector<ArchivedIndividual>& front, const std::vector<ArchivedIndividual>& baselines,
                     const std::vector<ArchivedIndividual>& fineTuned = {}) {
    // "M4 instr": instructions per GRU step of the exported runtime on a Cortex-M4 (docs/latency.md).
    std::printf("%5s %9s %9s %8s %7s %9s  %s\n", "id", "val acc", "test acc", "bytes", "% 8bit", "M4 instr", "genome");
    auto row = [](const ArchivedIndividual& a, const char* tag) {
        char instructions[32] = "-";
        if (a.stepInstructions >= 0) std::snprintf(instructions, sizeof instructions, "%.1fk", a.stepInstructions / 1000);
        std::printf("%5lld %8.2f%% %9s %8lld %6.1f%% %9s  %s%s\n", static_cast<long long>(a.id), 100 * a.validationAccuracy,
                    formatPercent(a.testAccuracy).c_str(), static_cast<long long>((a.sizeBits + 7) / 8), 100 * a.sizeFraction,
                    instructions, a.genome.c_str(), tag);
    };
    for (const auto& a : front) {
        const std::string tag = a.baseline     ? "  (homogeneous)"
                                : a.isPartial() ? "  (stopped at " + std::to_string(std::lround(100 * a.fidelity)) + "% of the QAT budget)"
                                                : "";
        row(a, tag.c_str());
    }
    if (!baselines.empty()) {
        std::printf("homogeneous baselines\n");
        for (const auto& a : baselines) row(a, "");
    }
    if (!fineTuned.empty()) {
        std::printf("fine-tuned (gruq-cli finetune)\n");
        for (const auto& a : fineTuned) {
            const std::string tag = "  (from #" + std::to_string(a.sourceId) + ", best epoch " + std::to_string(a.fineTune.bestEpoch) +
                                    " of " + std::to_string(a.fineTune.epochsRun) + ", " + a.fineTune.status + ")";
            row(a, tag.c_str());
        }
    }
}

int finishSearch(const SearchResult& r, TerminalObserver& observer) {
    observer.finish();
    if (r.cancelled) {
        std::fprintf(stderr, "search interrupted: %lld evaluations computed, all finished ones are in the archive; "
                             "continue with --resume\n",
                     static_cast<long long>(r.computed));
        return 130;
    }
    std::printf("search finished in %s: %lld evaluations computed, %lld reused, hypervolume %.4f\n",
                formatSeconds(r.seconds).c_str(), static_cast<long long>(r.computed), static_cast<long long>(r.reused),
                r.hypervolume);
    if (r.objectives.hasBudget() || r.objectives.latency) std::printf("objectives: %s\n", r.objectives.describe().c_str());
    printFrontTable(r.front, r.baselines);
    if (r.front.empty() && r.objectives.hasBudget()) {
        throw InputError("budget", "no evaluated scheme meets " + r.objectives.describe() +
                                       " (every evaluation is in the archive; loosen the budget and search again)");
    }
    return 0;
}

// Ctrl-C requests a cooperative cancel through SearchControl.
void cancelOnInterrupt(SearchControl& control) {
    std::thread([&control] {
        const CancelFlag* flag = interruptFlag();
        while (!flag->isRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        control.cancel();
    }).detach();
}

struct SearchArgs {
    SearchSettings settings;
    std::string settingsFile;
    std::string out;
    std::string resume;
    bool noBaselines = false;
    bool noRefine = false;
    bool fullFidelity = false;
    bool mpi = false;
    bool logEvaluations = false;
    std::string objectives;  // "error,flash,latency" (empty: the settings')
};

int runSearchCommand(const SearchArgs& a, EvaluationDispatcher* dispatcher = nullptr) {
    SearchControl control;
    cancelOnInterrupt(control);
    TerminalObserver observer(a.logEvaluations);
    if (!a.resume.empty()) {
        return finishSearch(resumeSearch(a.resume, &observer, &control, a.settings.workers, dispatcher), observer);
    }
    if (a.out.empty()) throw InputError("arguments", "give --out FILE.gruq for a new search (or --resume FILE.gruq)");
    SearchSettings settings = a.settings;
    if (!a.settingsFile.empty()) {
        std::error_code ec;
        if (std::filesystem::is_directory(a.settingsFile, ec)) throw InputError(a.settingsFile, "is a folder, expected a settings file");
        std::ifstream f(a.settingsFile);
        if (!f) throw InputError(a.settingsFile, "cannot read settings file");
        std::stringstream text;
        text << f.rdbuf();
        try {
            settings = SearchSettings::fromJson(text.str());
        } catch (const InputError& e) {
            throw InputError(a.settingsFile, e.problem());
        }
    }
    if (a.noBaselines) settings.baselines = false;
    if (a.noRefine) settings.refineBaselines = false;
    if (a.fullFidelity) settings.multiFidelity.enabled = false;
    if (!a.objectives.empty()) settings.objectives = parseObjectiveNames(a.objectives, settings.objectives);
    if (settings.objectives.maxLatencyUs > 0 && settings.objectives.cpuMhz <= 0) {
        throw InputError("--max-latency-us", "needs --cpu-mhz F: the clock of the microcontroller the budget is for");
    }
    settings.validate();
    return finishSearch(runSearch(settings, a.out, &observer, &control, dispatcher), observer);
}

// Under mpirun: rank 0 searches (archive, NSGA-II), every other rank evaluates what it is handed.
int runMpiSearchCommand(const SearchArgs& a) {
    mpi::Session session(nullptr, nullptr);
    if (session.rank() > 0) return mpi::serveEvaluations(session, interruptFlag(), a.settings.threadsPerWorkerLimit);
    if (session.size() < 2) {
        throw InputError("--mpi", "this is a single process: start it with mpirun -np N (N >= 2: rank 0 searches, "
                                  "the others evaluate), or drop --mpi");
    }
    std::fprintf(stderr, "gruq-cli: MPI search: rank 0 on %s runs NSGA-II and the archive, %d worker ranks evaluate\n",
                 session.hostName().c_str(), session.size() - 1);
    mpi::Dispatcher dispatcher(session);
    const int code = runSearchCommand(a, &dispatcher);
    dispatcher.stop();
    std::fprintf(stderr, "gruq-cli: rank 0 spent %.2f s in MPI communication\n", dispatcher.communicationSeconds());
    return code;
}

struct FrontArgs {
    std::string archive;
    bool csv = false, json = false, all = false;
};

int runFront(const FrontArgs& a) {
    const SearchArchive archive = SearchArchive::open(a.archive, /*readOnly=*/true);
    const auto everything = archive.individuals();
    std::vector<ArchivedIndividual> baselines, fineTuned;
    long long stopped = 0;
    for (const auto& i : everything) {
        if (i.baseline) baselines.push_back(i);
        if (i.isFineTune()) fineTuned.push_back(i);
        stopped += i.isPartial();
    }
    const SearchObjectives objectives = settingsOfArchive(archive).objectives;
    const auto rows = a.all ? everything : paretoFront(everything, objectives);
    if (a.json) {
        std::cout << individualsJson(rows);
    } else if (a.csv) {
        std::cout << individualsCsv(rows);
    } else {
        const auto status = archive.state("status");
        const std::string stoppedNote = stopped ? " (" + std::to_string(stopped) + " stopped at the multi-fidelity rung)" : "";
        std::printf("%s: %lld evaluations%s, %zu generations, status %s\n", a.archive.c_str(),
                    static_cast<long long>(everything.size()), stoppedNote.c_str(), archive.generations().size(),
                    status ? status->c_str() : "unknown");
        if (objectives.hasBudget() || objectives.latency) std::printf("objectives: %s\n", objectives.describe().c_str());
        printFrontTable(rows, baselines, a.all ? std::vector<ArchivedIndividual>{} : fineTuned);
    }
    return 0;
}

}  // namespace

void addSearchCommands(CLI::App& app, CommandRunner& runner) {
    auto a = std::make_shared<SearchArgs>();
    SearchSettings& s = a->settings;
    CLI::App* cmd = app.add_subcommand("search", "NSGA-II search over genomes into an archive (resumable)");
    cmd->add_option("--out", a->out, "new archive file (e.g. run.gruq)");
    cmd->add_option("--resume", a->resume, "continue the search stored in this archive");
    cmd->add_option("--settings", a->settingsFile, "settings JSON (as stored in archives); options below override nothing");
    cmd->add_option("--task", s.task, "task name")->capture_default_str();
    cmd->add_option("--path", s.data.path, "data folder (default: the task's)");
    addUserDataOptions(*cmd, s.task, s.data);
    addModelImportOptions(*cmd, s.floatModel, s.data);
    cmd->add_option("--max-train", s.data.maxTrain, "MNIST tasks: read at most N training images (0 = all)");
    cmd->add_option("--max-test", s.data.maxTest, "MNIST tasks: read at most N test images (0 = all)");
    cmd->add_option("--hidden", s.floatModel.hiddenSize, "GRU hidden size (1..256)")->capture_default_str();
    cmd->add_option("--layers", s.floatModel.numLayers, "stacked GRU layers (1..3; an imported model has its own)")
        ->capture_default_str();
    cmd->add_option("--float-epochs", s.floatModel.epochs, "float baseline epochs (cached)")->capture_default_str();
    cmd->add_option("--layout", s.layout, "genome layout: default17, homogeneous, per-gate")->capture_default_str();
    cmd->add_option("--min-bits", s.minBits, "lowest bit width")->capture_default_str();
    cmd->add_option("--max-bits", s.maxBits, "highest bit width")->capture_default_str();
    cmd->add_option("--algorithm", s.algorithm,
                    "nsga2, or random: the same budget of uniform random genomes (the baseline NSGA-II must beat)")
        ->check(CLI::IsMember({"nsga2", "random"}))
        ->capture_default_str();
    cmd->add_option("--population", s.nsga2.population, "NSGA-II population (multiple of 4)")->capture_default_str();
    cmd->add_option("--generations", s.nsga2.generations, "NSGA-II generations")->capture_default_str();
    cmd->add_option("--crossover", s.nsga2.crossoverProbability, "crossover probability")->capture_default_str();
    cmd->add_option("--eta-c", s.nsga2.crossoverDistributionIndex, "crossover distribution index")->capture_default_str();
    cmd->add_option("--mutation", s.nsga2.mutationProbability, "mutation probability")->capture_default_str();
    cmd->add_option("--eta-m", s.nsga2.mutationDistributionIndex, "mutation distribution index")->capture_default_str();
    addQatOptions(*cmd, s.qat);
    cmd->add_option("--seed", s.seed, "NSGA-II seed")->capture_default_str();
    cmd->add_option("--workers", s.workers, "parallel evaluations (0 = all cores)")->capture_default_str();
    cmd->add_flag("--no-baselines", a->noBaselines, "skip the homogeneous baselines");
    cmd->add_flag("--no-refine", a->noRefine, "skip the final evaluation of the neighbours of undominated baselines");
    cmd->add_flag("--full-fidelity", a->fullFidelity,
                  "train every genome on the whole QAT budget (default: multi-fidelity, genomes that cannot reach the "
                  "front stop at the rung)");
    cmd->add_option("--rung", s.multiFidelity.rungFraction,
                    "multi-fidelity: fraction of the QAT budget after which a genome must show it could still enter "
                    "the front")
        ->capture_default_str();
    cmd->add_option("--objectives", a->objectives,
                    "what to minimise besides the error: error,flash (default), error,latency or error,flash,latency "
                    "(latency: Cortex-M4 instructions per GRU step, docs/latency.md)");
    cmd->add_option("--max-flash", s.objectives.maxFlashBytes,
                    "flash budget in bytes of the model (weights, biases, tables; 0 = none): points over it never "
                    "enter the front");
    cmd->add_option("--max-latency-us", s.objectives.maxLatencyUs,
                    "latency budget per GRU step in microseconds on the Cortex-M4 at --cpu-mhz (0 = none)");
    cmd->add_option("--cpu-mhz", s.objectives.cpuMhz, "clock of the latency budget, MHz (one instruction per cycle)");
    cmd->add_option("--threads-per-worker", s.threadsPerWorkerLimit,
                    "torch threads per worker or MPI rank (0 = the cores shared out)")->capture_default_str();
    cmd->add_flag("--mpi", a->mpi, "run under mpirun: rank 0 searches, the other ranks evaluate genomes");
    cmd->add_flag("--log-evaluations", a->logEvaluations, "print a line for every evaluation as it is committed");
    cmd->callback([&runner, a] { runner = [a] { return a->mpi ? runMpiSearchCommand(*a) : runSearchCommand(*a); }; });

    auto f = std::make_shared<FrontArgs>();
    CLI::App* front = app.add_subcommand("front", "print the Pareto front (or every evaluation) of an archive");
    front->add_option("archive", f->archive, "archive file")->required();
    front->add_flag("--csv", f->csv, "CSV");
    front->add_flag("--json", f->json, "JSON");
    front->add_flag("--all", f->all, "every evaluated individual, not only the front");
    front->callback([&runner, f] { runner = [f] { return runFront(*f); }; });
}

}  // namespace gruq::cli
