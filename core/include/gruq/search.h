#pragma once
// NSGA-II over genomes (pagmo2): parallel, cached, crash-safe evaluation into a SearchArchive; a plain
// observer interface (no Qt) for progress; cooperative pause / cancel; resume from an archive.
#include "gruq/archive.h"
#include "gruq/evaluate.h"
#include "gruq/float_training.h"
#include "gruq/progress.h"
#include "gruq/task_registry.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gruq {

struct Nsga2Settings {
    int population = 24;          // multiple of 4, >= 8 (pagmo's nsga2)
    int generations = 20;
    double crossoverProbability = 0.95;
    double crossoverDistributionIndex = 10.0;
    double mutationProbability = 0.1;
    double mutationDistributionIndex = 50.0;
};

// The per-genome QAT budget of a search: 4096 sequences of fine-tuning (a default search of 24 x 20
// genomes then takes about a quarter of an hour on 2 cores).
inline QatConfig defaultSearchQat() {
    QatConfig q;
    q.epochs = 1;
    q.samplesPerEpoch = 4096;
    return q;
}

struct SearchSettings {
    std::string task = "smnist-row";
    TaskLoadOptions data;                 // path, split seed, caps
    FloatTrainConfig floatModel;          // hidden size, epochs, seed (cached)
    QatConfig qat = defaultSearchQat();   // per-genome budget
    std::string layout = "default17";
    int minBits = 2, maxBits = 8;
    Nsga2Settings nsga2;
    uint64_t seed = 0;                    // NSGA-II seed (QAT batch order uses qat.seed)
    int workers = 0;                      // parallel evaluations; 0 = all cores
    int threadsPerWorkerLimit = 0;        // torch threads per worker; 0 = cores / workers (the cores shared out)
    bool baselines = true;                // evaluate every homogeneous bit width too
    bool seedWithBaselines = true;        // put them into the initial population (warm start of the
                                          // high-accuracy end; the rest of the population is random)
    bool refineBaselines = true;          // after the last generation, evaluate the one-gene-lower
                                          // neighbours of every baseline no mixed solution dominates yet
                                          // (JSON "refine_baselines"; absent = off, as in older archives)

    // Resolved values: workers x threads per worker <= cores.
    int resolvedWorkers() const;
    int threadsPerWorker() const;

    std::string toJson() const;
    // InputError("search settings", ...) naming the field on malformed JSON or invalid values.
    static SearchSettings fromJson(const std::string& json);
    void validate() const;
};

// The settings an archive was created with; InputError naming the archive when they are malformed.
SearchSettings settingsOfArchive(const SearchArchive& archive);

struct SearchProgress {
    int generation = 0;               // generation being evaluated (0 = initial population)
    int generations = 0;
    int64_t evaluationsDone = 0;      // finished in this run (computed + reused)
    int64_t evaluationsPlanned = 0;   // estimate for the whole run
    int64_t computed = 0;             // trained in this run
    int64_t reused = 0;               // answered from the archive / cache
    double elapsedSeconds = 0;
    double etaSeconds = -1;           // -1 while unknown
    std::string stage;                // "float model", "baselines", "generation 3/20", "test split", "done"
};

// Called from worker threads; implementations must be thread-safe and return quickly.
class SearchObserver {
public:
    virtual ~SearchObserver() = default;
    // The data and the float model are ready (before any genome is evaluated).
    virtual void prepared(const TaskData& /*data*/, const FloatTrainReport& /*floatModel*/) {}
    virtual void individualEvaluated(const ArchivedIndividual& /*individual*/, bool /*reused*/) {}
    virtual void generationFinished(const ArchivedGeneration& /*generation*/) {}
    virtual void progress(const SearchProgress& /*progress*/) {}
    virtual void log(const std::string& /*line*/) {}
};

// Cooperative controls, checked between training steps.
class SearchControl {
public:
    void pause();
    void resume();
    void cancel();
    bool isPaused() const { return paused_.load(); }
    bool isCancelled() const { return cancel_.isRequested(); }
    const CancelFlag& cancelFlag() const { return cancel_; }
    // Blocks while paused; throws Cancelled when cancelled.
    void checkpoint() const;

private:
    std::atomic<bool> paused_{false};
    CancelFlag cancel_;
    mutable std::mutex mutex_;
    mutable std::condition_variable resumed_;
};

// Runs genome evaluations outside this process (gruq-cli search --mpi: on the other MPI ranks) instead
// of the search's worker threads. Evaluations must give the same result wherever they run.
class EvaluationDispatcher {
public:
    using Finished = std::function<void(size_t index, GenomeEvaluation&& evaluation, double seconds)>;
    virtual ~EvaluationDispatcher() = default;
    // Once, before the first genome: everything an evaluator needs (the float model is shipped, not
    // retrained). InputError when an evaluator cannot serve this task.
    virtual void prepare(const SearchSettings& settings, const TaskData& data, const FloatGruWeights& floatModel) = 0;
    // Evaluates the genomes (distinct, all still to compute), calling finished() on the calling thread as
    // each one ends, in any order; returns when all have. control (may be null) pauses and cancels.
    virtual void evaluate(const std::vector<Genome>& genomes, bool withTest, const Finished& finished,
                          SearchControl* control) = 0;
    virtual int parallelism() const = 0;  // evaluations in flight at once (for the ETA)
};

struct SearchResult {
    std::vector<ArchivedIndividual> front;      // final non-dominated set (test accuracy filled in)
    std::vector<ArchivedIndividual> baselines;
    double hypervolume = 0;
    double seconds = 0;
    int64_t computed = 0, reused = 0;
    bool cancelled = false;
};

// Non-dominated individuals (maximise validation accuracy, minimise size), sorted by size.
std::vector<ArchivedIndividual> paretoFront(const std::vector<ArchivedIndividual>& individuals);
// Hypervolume of (1 - accuracy, size fraction) points against the fixed reference point (1, 1.05).
double hypervolumeOf(const std::vector<ArchivedIndividual>& front);

// Runs a new search into a new archive at archivePath.
// With a dispatcher, genomes are evaluated through it instead of local worker threads.
SearchResult runSearch(const SearchSettings& settings, const std::string& archivePath,
                       SearchObserver* observer = nullptr, SearchControl* control = nullptr,
                       EvaluationDispatcher* dispatcher = nullptr);
// Continues an interrupted (or finished) search: the settings come from the archive; NSGA-II is
// replayed from its seed and every stored evaluation is reused, so the result equals an
// uninterrupted run's.
SearchResult resumeSearch(const std::string& archivePath, SearchObserver* observer = nullptr,
                          SearchControl* control = nullptr, int workersOverride = 0,
                          EvaluationDispatcher* dispatcher = nullptr);

}  // namespace gruq
