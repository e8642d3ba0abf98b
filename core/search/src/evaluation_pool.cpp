#include "evaluation_pool.h"

#include "gruq/base/errors.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

namespace gruq {

LocalEvaluationPool::LocalEvaluationPool(int workers, const QatConfig& qat) : workers_(std::max(1, workers)), qat_(qat) {}

void LocalEvaluationPool::prepare(const SearchSettings&, const TaskData& data, const FloatGruWeights& floatModel) {
    data_ = &data;
    floatModel_ = &floatModel;
}

void LocalEvaluationPool::evaluate(const std::vector<Genome>& genomes, bool withTest, const PromotionRule& promotion,
                                   const Finished& finished, SearchControl* control) {
    if (genomes.empty()) return;
    if (!data_ || !floatModel_) throw std::logic_error("LocalEvaluationPool::evaluate before prepare");
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr error;
    std::mutex errorMutex, finishedMutex;
    auto evaluateOne = [&](size_t i) {
        EvaluateOptions options;
        options.withTest = withTest;
        promotion.configure(options, genomes[i]);
        options.cancel = control ? &control->cancelFlag() : nullptr;
        options.progress = [control, &failed](const Progress&) {
            if (control) control->checkpoint();  // pause blocks here, cancel throws
            if (failed) throw Cancelled();       // a sibling worker failed: stop early
        };
        const auto start = std::chrono::steady_clock::now();
        GenomeEvaluation e = evaluateGenome(*data_, *floatModel_, genomes[i], qat_, options);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::lock_guard<std::mutex> lock(finishedMutex);
        finished(i, std::move(e), seconds);
    };
    auto work = [&] {
        for (;;) {
            const size_t i = next++;
            if (i >= genomes.size() || failed) return;
            try {
                evaluateOne(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(errorMutex);
                if (!error) error = std::current_exception();
                failed = true;
                return;
            }
        }
    };
    const int workers = std::min<int>(workers_, static_cast<int>(genomes.size()));
    std::vector<std::thread> pool;
    for (int w = 1; w < workers; ++w) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace gruq
