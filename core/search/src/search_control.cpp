#include "gruq/search/search_observer.h"

#include "gruq/base/errors.h"

namespace gruq {

void SearchControl::pause() { paused_ = true; }

void SearchControl::resume() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        paused_ = false;
    }
    resumed_.notify_all();
}

void SearchControl::cancel() {
    cancel_.request();
    resumed_.notify_all();
}

void SearchControl::checkpoint() const {
    if (paused_) {
        std::unique_lock<std::mutex> lock(mutex_);
        resumed_.wait(lock, [this] { return !paused_ || cancel_.isRequested(); });
    }
    if (cancel_.isRequested()) throw Cancelled();
}

}  // namespace gruq
