#pragma once
// Turns a finished genome evaluation into an archive record: written to the archive first (a crash
// after this loses nothing), then into the cache and the counts, then reported to the observer.
#include "evaluation_cache.h"
#include "search_progress.h"

#include "gruq/quant/evaluate.h"
#include "gruq/search/archive.h"
#include "gruq/search/search_observer.h"

namespace gruq {

class EvaluationCommitter {
public:
    EvaluationCommitter(SearchArchive& archive, EvaluationCache& cache, SearchProgressTracker& progress,
                        SearchObserver* observer)
        : archive_(archive), cache_(cache), progress_(progress), observer_(observer) {}

    ArchivedIndividual commit(const Genome& genome, bool baseline, const GenomeEvaluation& evaluation, double seconds);

private:
    SearchArchive& archive_;
    EvaluationCache& cache_;
    SearchProgressTracker& progress_;
    SearchObserver* observer_;
};

}  // namespace gruq
