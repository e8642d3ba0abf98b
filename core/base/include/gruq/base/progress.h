#pragma once
// A plain progress / cancellation interface for long core work (no Qt in core).
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace gruq {

struct Progress {
    std::string stage;         // e.g. "decoding audio", "epoch 3/20"
    int64_t done = 0;          // units finished in this stage
    int64_t total = 0;         // 0 when unknown
    double elapsedSeconds = 0; // since the stage started
    std::string detail;        // free text: loss, accuracy, speed
    double etaSeconds = -1;    // set when the producer knows better than elapsed / done * remaining
};

using ProgressFn = std::function<void(const Progress&)>;

// Cooperative cancellation: long work checks it between units and throws gruq::Cancelled.
struct CancelFlag {
    std::atomic<bool> requested{false};
    void request() { requested.store(true); }
    bool isRequested() const { return requested.load(std::memory_order_relaxed); }
};

}  // namespace gruq
