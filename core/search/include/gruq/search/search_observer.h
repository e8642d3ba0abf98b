#pragma once
// What a running search reports (a plain observer, no Qt) and how it is paused and cancelled.
#include "gruq/base/progress.h"
#include "gruq/data/dataset.h"
#include "gruq/model/float_training.h"
#include "gruq/search/archive.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace gruq {

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

}  // namespace gruq
