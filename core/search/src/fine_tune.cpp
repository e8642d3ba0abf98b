#include "gruq/search/fine_tune.h"

#include "gruq/base/errors.h"
#include "gruq/base/process_identity.h"
#include "gruq/export/blob.h"
#include "gruq/quant/evaluate.h"
#include "gruq/quant/genome.h"
#include "gruq/search/archive_model.h"
#include "gruq/search/search_settings.h"

#include <chrono>
#include <cmath>

namespace gruq {

void FineTuneSettings::validate() const {
    if (epochs < 1 || epochs > 1000) throw InputError("fine-tune settings", "epochs must be 1..1000, not " + std::to_string(epochs));
    if (patience < 1 || patience > 1000)
        throw InputError("fine-tune settings", "patience must be 1..1000 epochs, not " + std::to_string(patience));
    if (!std::isfinite(learningRate) || learningRate < 0 || learningRate > 1)
        throw InputError("fine-tune settings", "learning rate must be in (0, 1] (0 = the search's)");
}

void refuseWhileSearchRuns(const SearchArchive& archive) {
    if (archive.state("status").value_or("") != "running") return;
    const std::string writer = archive.state("writer").value_or("");
    if (!writer.empty() && livenessOf(writer) == ProcessLiveness::Gone) return;  // a dead search writes nothing
    throw InputError(archive.path(), "a search is still writing this archive (" + (writer.empty() ? "writer unknown" : writer) +
                                         "); fine-tune after it has finished or been stopped");
}

FineTuneResult fineTuneArchivedIndividual(const std::string& archivePath, int64_t id, const FineTuneSettings& settings,
                                          const ProgressFn& progress, const CancelFlag* cancel,
                                          const FineTuneStoredFn& stored) {
    const auto start = std::chrono::steady_clock::now();
    settings.validate();
    SearchArchive archive = SearchArchive::open(archivePath);
    refuseWhileSearchRuns(archive);
    std::optional<ArchivedIndividual> picked = archive.individual(id);
    if (!picked) {
        throw InputError(archivePath, "has no individual #" + std::to_string(id) + " (it holds " +
                                          std::to_string(archive.individualCount()) + ")");
    }
    FineTuneResult out;
    // A fine-tuned copy starts from the float model like its source: fine-tuning it again is fine-tuning the source.
    out.source = picked->isFineTune() ? archive.individual(picked->sourceId).value_or(*picked) : *picked;
    const Genome genome = parseGenomeText(out.source.genome, layoutByName(out.source.layout));

    const SearchSettings search = settingsOfArchive(archive);
    const std::shared_ptr<const TaskData> data = archiveTaskData(archive, search, progress, cancel);
    const FloatTrainReport floatModel = archiveFloatModel(search, *data, progress, cancel);

    QatConfig qat = search.qat;
    qat.epochs = settings.epochs;
    qat.samplesPerEpoch = 0;  // the whole training split every epoch
    qat.patience = settings.patience;
    if (settings.learningRate > 0) qat.learningRate = settings.learningRate;
    qat.threads = 0;  // the stored model is what ships: no need to match the search's thread count
    // Activation ranges: tracked for as many steps as in the search's evaluation, then frozen. Tracking
    // them through long low-bit training let them drift and the model collapse (measured on a 4-bit
    // scheme of a small task: 61.5% -> 60.5% with ranges tracked for half the run, 78% frozen early).
    const auto stepsOf = [&](int64_t samplesPerEpoch, int epochs) {
        const int64_t n = samplesPerEpoch > 0 ? std::min<int64_t>(samplesPerEpoch, data->train.count) : data->train.count;
        return double((n + qat.batchSize - 1) / qat.batchSize) * epochs;
    };
    const double searchTracking = std::round(search.qat.freezeRangesAfter * stepsOf(search.qat.samplesPerEpoch, search.qat.epochs));
    qat.freezeRangesAfter = std::min(1.0, searchTracking / stepsOf(0, settings.epochs));

    ArchivedIndividual& tuned = out.tuned;
    tuned = out.source;
    tuned.id = 0;
    tuned.sourceId = out.source.id;
    tuned.baseline = false;
    tuned.generation = -1;
    tuned.fineTune = {settings.epochs, 0, 0, settings.patience, qat.learningRate, "running"};
    auto secondsSoFar = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    auto store = [&](const GenomeEvaluation& e, const std::string& status) {
        tuned.validationAccuracy = e.validationAccuracy;
        tuned.fakeQuantValidationAccuracy = status == "running" ? -1 : e.fakeQuantValidationAccuracy;  // measured at the end
        tuned.testAccuracy = e.testAccuracy;
        tuned.fakeQuantTestAccuracy = e.fakeQuantTestAccuracy;
        tuned.seconds = secondsSoFar();
        tuned.fineTune.epochsRun = std::max(tuned.fineTune.epochsRun, e.epochsRun);
        tuned.fineTune.bestEpoch = e.bestEpoch;
        tuned.fineTune.status = status;
        tuned.id = archive.storeFineTune(tuned, writeBlob(e.model, genome, ""));
        if (stored) stored(tuned);
    };

    EvaluateOptions options;
    options.withTest = true;
    options.progress = progress;
    options.cancel = cancel;
    options.onBestEpoch = [&](const GenomeEvaluation& best) { store(best, "running"); };
    try {
        const GenomeEvaluation e = evaluateGenome(*data, floatModel.weights, genome, qat, options);
        store(e, e.epochsRun < settings.epochs ? "stopped early" : "finished");
    } catch (const Cancelled&) {
        out.cancelled = true;
        if (tuned.id != 0) {
            tuned.fineTune.status = "cancelled";
            tuned.seconds = secondsSoFar();
            archive.storeFineTune(tuned, {});  // the best epoch's model stays
            if (stored) stored(tuned);
        }
    }
    out.seconds = secondsSoFar();
    return out;
}

}  // namespace gruq
