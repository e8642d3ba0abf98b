#include "evaluation_committer.h"

#include "gruq/export/blob.h"
#include "gruq/search/step_latency.h"

namespace gruq {

ArchivedIndividual EvaluationCommitter::commit(const Genome& genome, bool baseline, const GenomeEvaluation& e,
                                               double seconds) {
    ArchivedIndividual a;
    a.layout = genome.layout->name;
    a.genome = genome.toText();
    a.genes = genome.bits;
    a.validationAccuracy = e.validationAccuracy;
    a.fakeQuantValidationAccuracy = e.fakeQuantValidationAccuracy;
    a.testAccuracy = e.testAccuracy;
    a.fakeQuantTestAccuracy = e.fakeQuantTestAccuracy;
    a.sizeBits = e.size.totalBits();
    a.sizeFraction = e.size.fractionOf8Bit;
    a.seconds = seconds;
    a.baseline = baseline;
    a.fidelity = e.fidelity;
    a.rungValidationAccuracy = e.rungValidationAccuracy;
    setStepLatency(a, archive_.shape());
    a.generation = baseline ? -1 : progress_.generation();
    a.id = archive_.addIndividual(a);  // committed before anyone is told
    // Results from other processes may come without the model: the front's test pass re-evaluates those.
    const bool withModel = !e.model.layers.empty();
    // The exact model, kept for export and inspection on any machine (no rebuild, no QAT).
    if (withModel) archive_.addModel(a.id, writeBlob(e.model, genome, ""));
    cache_.store(a, withModel ? &e.model : nullptr);
    progress_.countComputed(seconds);
    if (observer_) {
        observer_->individualEvaluated(a, false);
        observer_->progress(progress_.snapshot());
    }
    return a;
}

}  // namespace gruq
