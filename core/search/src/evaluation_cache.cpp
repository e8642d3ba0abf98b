#include "evaluation_cache.h"

#include <algorithm>

namespace gruq {

EvaluationCache::EvaluationCache(const std::vector<ArchivedIndividual>& stored) {
    for (const ArchivedIndividual& a : stored) {
        if (!a.isFineTune()) records_[a.genome] = a;  // a fine-tuned copy is not the search's evaluation
    }
}

std::optional<ArchivedIndividual> EvaluationCache::find(const std::string& genomeText) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = records_.find(genomeText);
    if (it == records_.end()) return std::nullopt;
    return it->second;
}

ArchivedIndividual EvaluationCache::at(const std::string& genomeText) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return records_.at(genomeText);
}

void EvaluationCache::store(const ArchivedIndividual& individual, const QuantizedGru* model) {
    std::lock_guard<std::mutex> lock(mutex_);
    records_[individual.genome] = individual;
    if (model) models_[individual.genome] = *model;
}

std::optional<QuantizedGru> EvaluationCache::modelOf(const std::string& genomeText) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = models_.find(genomeText);
    if (it == models_.end()) return std::nullopt;
    return it->second;
}

void EvaluationCache::setTestAccuracy(const std::string& genomeText, double testAccuracy, double fakeQuantTestAccuracy) {
    std::lock_guard<std::mutex> lock(mutex_);
    ArchivedIndividual& a = records_.at(genomeText);
    a.testAccuracy = testAccuracy;
    a.fakeQuantTestAccuracy = fakeQuantTestAccuracy;
}

std::vector<ArchivedIndividual> EvaluationCache::all() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ArchivedIndividual> out;
    for (const auto& [key, a] : records_) out.push_back(a);
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
    return out;
}

}  // namespace gruq
