#pragma once
// Where genome evaluations run: this process's worker threads (the search's default) or other
// processes (gruq-cli search --mpi). The search talks to either through this interface.
#include "gruq/model/float_model.h"
#include "gruq/quant/evaluate.h"
#include "gruq/search/promotion_rule.h"
#include "gruq/search/search_observer.h"
#include "gruq/search/search_settings.h"

#include <functional>
#include <vector>

namespace gruq {

// Runs genome evaluations: LocalEvaluationPool (core/search/src/evaluation_pool.h) on worker threads,
// mpi::Dispatcher on other MPI ranks. Evaluations must give the same result wherever they run.
class EvaluationDispatcher {
public:
    using Finished = std::function<void(size_t index, GenomeEvaluation&& evaluation, double seconds)>;
    virtual ~EvaluationDispatcher() = default;
    // Once, before the first genome: everything an evaluator needs (the float model is shipped, not
    // retrained). InputError when an evaluator cannot serve this task.
    virtual void prepare(const SearchSettings& settings, const TaskData& data, const FloatGruWeights& floatModel) = 0;
    // Evaluates the genomes (distinct, all still to compute), calling finished() as each one ends, in any
    // order and never two calls at once; returns when all have. control (may be null) pauses and cancels.
    // Every evaluation applies the promotion rule (multi-fidelity; a default rule trains everyone in full).
    virtual void evaluate(const std::vector<Genome>& genomes, bool withTest, const PromotionRule& promotion,
                          const Finished& finished, SearchControl* control) = 0;
    virtual int parallelism() const = 0;  // evaluations in flight at once (for the ETA)
};

}  // namespace gruq
