#include "genome_evaluator.h"

#include "gruq/quant/integer_engine.h"

#include <cmath>
#include <set>

namespace gruq {

GenomeEvaluator::GenomeEvaluator(const SearchSettings& settings, const GruShape& modelShape, const TaskData& data,
                                 SearchArchive& archive, EvaluationDispatcher& dispatcher, SearchObserver* observer,
                                 SearchControl* control)
    : settings_(settings), layout_(searchLayout(settings, modelShape)), data_(data), archive_(archive),
      dispatcher_(dispatcher), observer_(observer), control_(control), cache_(archive.individuals()),
      progress_(settings.nsga2.generations, dispatcher.parallelism()),
      committer_(archive, cache_, progress_, observer) {}

Genome GenomeEvaluator::genomeOf(const double* genes) const {
    Genome g;
    g.layout = &layout_;
    for (int i = 0; i < layout_.geneCount(); ++i) g.bits.push_back(static_cast<int>(std::lround(genes[i])));
    return g;
}

std::vector<ArchivedIndividual> GenomeEvaluator::evaluateAll(const std::vector<Genome>& genomes, bool baseline,
                                                             bool withTest) {
    std::vector<Genome> todo;
    std::set<std::string> queued;
    for (const Genome& g : genomes) {
        const std::string key = g.toText();
        if (const auto stored = cache_.find(key)) {
            progress_.countReused();
            if (observer_) observer_->individualEvaluated(*stored, true);
        } else if (queued.insert(key).second) {
            todo.push_back(g);
        }
    }
    reportProgress();
    // Baselines are trained in full (they anchor the front); their rung teaches the rule what QAT still gains.
    PromotionRule promotion =
        promotionRuleFor(settings_.multiFidelity, cache_.all(), progress_.generation(), settings_.objectives, archive_.shape());
    if (baseline) promotion.promoteAll = true;
    if (!todo.empty() && promotion.rungFraction > 0) log("evaluating " + std::to_string(todo.size()) + ": " + promotion.describe());
    dispatcher_.evaluate(todo, withTest, promotion,
                         [&](size_t i, GenomeEvaluation&& e, double seconds) { committer_.commit(todo[i], baseline, e, seconds); },
                         control_);
    return lookup(genomes);
}

std::vector<ArchivedIndividual> GenomeEvaluator::lookup(const std::vector<Genome>& genomes) const {
    std::vector<ArchivedIndividual> out;
    for (const Genome& g : genomes) out.push_back(cache_.at(g.toText()));
    return out;
}

void GenomeEvaluator::measureTest(ArchivedIndividual& a) {
    if (a.testAccuracy >= 0) return;
    if (const auto model = cache_.modelOf(a.genome)) {
        a.testAccuracy = IntegerGruEngine(*model).accuracy(data_.test, settings_.resolvedWorkers() * settings_.threadsPerWorker());
    } else {
        dispatcher_.evaluate({parseGenomeText(a.genome, layout_)}, true, PromotionRule{},  // the front is full fidelity
                             [&a](size_t, GenomeEvaluation&& e, double) {
                                 a.testAccuracy = e.testAccuracy;
                                 a.fakeQuantTestAccuracy = e.fakeQuantTestAccuracy;
                             },
                             control_);
    }
    archive_.setTestAccuracy(a.id, a.testAccuracy, a.fakeQuantTestAccuracy);
    cache_.setTestAccuracy(a.genome, a.testAccuracy, a.fakeQuantTestAccuracy);
}

void GenomeEvaluator::log(const std::string& line) {
    if (observer_) observer_->log(line);
}

void GenomeEvaluator::reportProgress() {
    if (observer_) observer_->progress(progress_.snapshot());
}

}  // namespace gruq
