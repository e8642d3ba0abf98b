#include "search_progress.h"

#include <algorithm>

namespace gruq {

SearchProgressTracker::SearchProgressTracker(int generations, int parallelism)
    : generations_(generations), parallelism_(std::max(1, parallelism)) {}

void SearchProgressTracker::setStage(int generation, const std::string& stage) {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_ = generation;
    stage_ = stage;
}

int SearchProgressTracker::generation() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return generation_;
}

void SearchProgressTracker::setPlanned(int64_t planned) {
    std::lock_guard<std::mutex> lock(mutex_);
    planned_ = planned;
}

void SearchProgressTracker::addPlanned(int64_t more) {
    std::lock_guard<std::mutex> lock(mutex_);
    planned_ += more;
}

void SearchProgressTracker::countReused() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++reused_;
}

void SearchProgressTracker::countComputed(double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++computed_;
    computeSeconds_ += seconds;
}

int64_t SearchProgressTracker::computed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return computed_;
}

int64_t SearchProgressTracker::reused() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return reused_;
}

SearchProgress SearchProgressTracker::snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    SearchProgress p;
    p.generation = generation_;
    p.stage = stage_;
    p.generations = generations_;
    p.evaluationsDone = computed_ + reused_;
    p.evaluationsPlanned = std::max(planned_, p.evaluationsDone);
    p.computed = computed_;
    p.reused = reused_;
    p.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start_).count();
    if (computed_ > 0) {
        p.etaSeconds = computeSeconds_ / double(computed_) * double(p.evaluationsPlanned - p.evaluationsDone) /
                       double(parallelism_);
    }
    return p;
}

}  // namespace gruq
