#pragma once
// Counts and stage of a running search, and its ETA (remaining evaluations at this run's rate of
// computed evaluations; answers from the cache are nearly free). Thread-safe.
#include "gruq/search/search_observer.h"

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace gruq {

class SearchProgressTracker {
public:
    SearchProgressTracker(int generations, int parallelism);

    void setStage(int generation, const std::string& stage);
    int generation() const;
    void setPlanned(int64_t planned);
    void addPlanned(int64_t more);
    void countReused();
    void countComputed(double seconds);
    int64_t computed() const;
    int64_t reused() const;
    SearchProgress snapshot() const;

private:
    using Clock = std::chrono::steady_clock;
    const int generations_, parallelism_;
    const Clock::time_point start_ = Clock::now();
    mutable std::mutex mutex_;
    int generation_ = 0;
    std::string stage_;
    int64_t computed_ = 0, reused_ = 0, planned_ = 0;
    double computeSeconds_ = 0;
};

}  // namespace gruq
