#pragma once
// The search's memory of evaluated genomes: every archive record by genome text (loaded from the
// archive on resume, so nothing is computed twice) and the integer models computed in this run (so the
// front's test accuracies need no retraining). Thread-safe.
#include "gruq/quant/quantized_gru.h"
#include "gruq/search/archive.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gruq {

class EvaluationCache {
public:
    explicit EvaluationCache(const std::vector<ArchivedIndividual>& stored);

    std::optional<ArchivedIndividual> find(const std::string& genomeText) const;
    ArchivedIndividual at(const std::string& genomeText) const;  // std::out_of_range when absent
    // A committed record and, when the evaluation brought it, its integer model.
    void store(const ArchivedIndividual& individual, const QuantizedGru* model);
    std::optional<QuantizedGru> modelOf(const std::string& genomeText) const;
    void setTestAccuracy(const std::string& genomeText, double testAccuracy, double fakeQuantTestAccuracy);
    std::vector<ArchivedIndividual> all() const;  // by archive id

private:
    mutable std::mutex mutex_;
    std::map<std::string, ArchivedIndividual> records_;
    std::map<std::string, QuantizedGru> models_;
};

}  // namespace gruq
