#pragma once
// NSGA-II over genomes (pagmo2): parallel, cached, crash-safe evaluation into a SearchArchive; a plain
// observer interface (no Qt) for progress; cooperative pause / cancel; resume from an archive.
#include "gruq/search/archive.h"
#include "gruq/search/evaluation_dispatcher.h"
#include "gruq/search/search_observer.h"
#include "gruq/search/search_settings.h"

#include <string>
#include <vector>

namespace gruq {

struct SearchResult {
    std::vector<ArchivedIndividual> front;      // final non-dominated set (test accuracy filled in)
    std::vector<ArchivedIndividual> baselines;
    double hypervolume = 0;
    double seconds = 0;
    int64_t computed = 0, reused = 0;
    bool cancelled = false;
    SearchObjectives objectives;  // of the settings: what the front is non-dominated in, the budgets
};

// The search's non-dominated individuals in the chosen objectives (default: maximise validation accuracy,
// minimise size) among those within the budgets, sorted by size; fine-tuned copies and evaluations
// stopped at the multi-fidelity rung are left out.
std::vector<ArchivedIndividual> paretoFront(const std::vector<ArchivedIndividual>& individuals,
                                            const SearchObjectives& objectives = {});
// Hypervolume of the objective values (1 - accuracy, size fraction, latency fraction) against the fixed
// reference point (1, 1.05, 2.0).
double hypervolumeOf(const std::vector<ArchivedIndividual>& front, const SearchObjectives& objectives = {});
// Before a search: InputError naming the option when a budget is below what any scheme of the shape can
// meet (flash: every point at the lowest width; latency: the fastest homogeneous scheme).
void checkBudgetsCanBeMet(const SearchSettings& settings, const GruShape& shape);

// Runs a new search into a new archive at archivePath.
// With a dispatcher, genomes are evaluated through it instead of local worker threads.
SearchResult runSearch(const SearchSettings& settings, const std::string& archivePath,
                       SearchObserver* observer = nullptr, SearchControl* control = nullptr,
                       EvaluationDispatcher* dispatcher = nullptr);
// Continues an interrupted (or finished) search: the settings come from the archive; NSGA-II is
// replayed from its seed and every stored evaluation is reused, so the result equals an
// uninterrupted run's.
SearchResult resumeSearch(const std::string& archivePath, SearchObserver* observer = nullptr,
                          SearchControl* control = nullptr, int workersOverride = 0,
                          EvaluationDispatcher* dispatcher = nullptr);

}  // namespace gruq
