#pragma once
// The search's default EvaluationDispatcher: QAT + validation of genomes on this process's worker
// threads, one genome per worker at a time. The first failure stops the others early and is rethrown.
#include "gruq/search/evaluation_dispatcher.h"

namespace gruq {

class LocalEvaluationPool : public EvaluationDispatcher {
public:
    LocalEvaluationPool(int workers, const QatConfig& qat);

    void prepare(const SearchSettings& settings, const TaskData& data, const FloatGruWeights& floatModel) override;
    void evaluate(const std::vector<Genome>& genomes, bool withTest, const PromotionRule& promotion,
                  const Finished& finished, SearchControl* control) override;
    int parallelism() const override { return workers_; }

private:
    int workers_;
    QatConfig qat_;
    const TaskData* data_ = nullptr;
    const FloatGruWeights* floatModel_ = nullptr;
};

}  // namespace gruq
