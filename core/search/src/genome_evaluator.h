#pragma once
// The evaluation service behind pagmo: answers each genome from the cache when it was evaluated
// before, sends the rest to the dispatcher (worker threads or MPI ranks) and commits what comes back.
#include "evaluation_cache.h"
#include "evaluation_committer.h"
#include "search_progress.h"

#include "gruq/search/evaluation_dispatcher.h"
#include "gruq/search/search_settings.h"

#include <string>
#include <vector>

namespace gruq {

class GenomeEvaluator {
public:
    // The genomes are of settings.layout's form for the float model's layer count (modelShape.numLayers).
    GenomeEvaluator(const SearchSettings& settings, const GruShape& modelShape, const TaskData& data,
                    SearchArchive& archive, EvaluationDispatcher& dispatcher, SearchObserver* observer,
                    SearchControl* control);

    const GenomeLayout& layout() const { return layout_; }
    SearchProgressTracker& progress() { return progress_; }
    Genome genomeOf(const double* genes) const;  // pagmo's decision vector -> genome

    // Evaluates every genome (each distinct one once) and returns their archive records in order.
    std::vector<ArchivedIndividual> evaluateAll(const std::vector<Genome>& genomes, bool baseline, bool withTest);
    // Records of genomes evaluated before (a lookup: nothing is counted or reported).
    std::vector<ArchivedIndividual> lookup(const std::vector<Genome>& genomes) const;
    // Fills in the test accuracy of a stored individual (from its model in memory, else by evaluating it
    // again: evaluations are deterministic) and stores it in the archive.
    void measureTest(ArchivedIndividual& individual);
    std::vector<ArchivedIndividual> cached() const { return cache_.all(); }

    void log(const std::string& line);
    void reportProgress();

private:
    const SearchSettings& settings_;
    const GenomeLayout& layout_;
    const TaskData& data_;
    SearchArchive& archive_;
    EvaluationDispatcher& dispatcher_;
    SearchObserver* observer_;
    SearchControl* control_;
    EvaluationCache cache_;
    SearchProgressTracker progress_;
    EvaluationCommitter committer_;
};

}  // namespace gruq
