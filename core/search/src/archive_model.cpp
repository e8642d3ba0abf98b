#include "gruq/search/archive_model.h"

#include "gruq/base/errors.h"
#include "gruq/export/blob.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/quant/size_metric.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/genome.h"
#include "gruq/search/search.h"
#include "gruq/data/task_registry.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <mutex>

namespace gruq {
namespace {

// The task data of the last archive asked about, kept for the next request: clicking through a front's
// points in the GUI then reads the data once, not once per click (same task and data settings only).
std::shared_ptr<const TaskData> taskOf(const SearchSettings& settings, const ProgressFn& progress, const CancelFlag* cancel) {
    static std::mutex mutex;
    static std::string lastKey;
    static std::shared_ptr<const TaskData> last;
    nlohmann::json key = nlohmann::json::parse(settings.toJson())["data"];
    key["task"] = settings.task;
    // A file rewritten since (same name) must be read again: its size and time are part of the key.
    for (const std::string* p : {&settings.data.path, &settings.data.validationPath, &settings.data.testPath}) {
        std::error_code ec;
        if (p->empty() || !std::filesystem::is_regular_file(*p, ec)) continue;
        key["files"].push_back({*p, std::filesystem::file_size(*p, ec),
                                std::filesystem::last_write_time(*p, ec).time_since_epoch().count()});
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (last && lastKey == key.dump()) return last;
    }
    auto data = std::make_shared<const TaskData>(loadTask(settings.task, settings.data, progress, cancel));
    std::lock_guard<std::mutex> lock(mutex);
    lastKey = key.dump();
    last = data;
    return data;
}

}  // namespace

std::shared_ptr<const TaskData> archiveTaskData(const SearchArchive& archive, const SearchSettings& settings,
                                                const ProgressFn& progress, const CancelFlag* cancel) {
    std::shared_ptr<const TaskData> data = taskOf(settings, progress, cancel);
    const auto identity = nlohmann::json::parse(archive.floatModelJson(), nullptr, false);
    if (identity.is_object() && identity.value("cache_key", "") != settings.floatModel.cacheKey(*data)) {
        throw InputError(archive.path(), "the task data or the imported model file changed since this search ran (float model identity differs)");
    }
    return data;
}

FloatTrainReport archiveFloatModel(const SearchSettings& settings, const TaskData& data, const ProgressFn& progress,
                                   const CancelFlag* cancel) {
    FloatTrainConfig floatConfig = settings.floatModel;
    floatConfig.threads = 0;
    TrainObserver observer;
    observer.cancel = cancel;
    observer.progress = [&](const Progress& p) {
        if (progress) progress({"float model: " + p.stage, p.done, p.total, p.elapsedSeconds, p.detail});
    };
    return trainFloatBaseline(data, floatConfig, observer);
}

void preloadArchiveTask(const std::string& archivePath, const ProgressFn& progress, const CancelFlag* cancel) {
    taskOf(settingsOfArchive(SearchArchive::open(archivePath, /*readOnly=*/true)), progress, cancel);
}

RebuiltIndividual rebuildArchivedIndividual(const std::string& archivePath, int64_t id, const ProgressFn& progress,
                                            const CancelFlag* cancel) {
    const SearchArchive archive = SearchArchive::open(archivePath, /*readOnly=*/true);
    const SearchSettings settings = settingsOfArchive(archive);
    const std::optional<ArchivedIndividual> stored = archive.individual(id);
    if (!stored) {
        throw InputError(archivePath, "has no individual #" + std::to_string(id) + " (it holds " +
                                          std::to_string(archive.individualCount()) + ")");
    }
    const Genome genome = parseGenomeText(stored->genome, layoutByName(stored->layout));

    RebuiltIndividual out;
    out.stored = *stored;
    // The stored model is checked before the (slow) task data is read: a damaged one fails at once.
    std::optional<BlobContents> contents;
    if (const auto blob = archive.model(id)) {
        contents = readBlob(*blob, archivePath + " (stored model of #" + std::to_string(id) + ")");
        if (!(contents->genome == genome)) {
            throw InputError(archivePath, "the stored model of #" + std::to_string(id) + " is of genome " +
                                              contents->genome.toText() + ", not " + genome.toText());
        }
    } else if (stored->isFineTune()) {
        // Re-running the search's QAT would give the source's model, not this one.
        throw InputError(archivePath, "the model of fine-tuned #" + std::to_string(id) + " is missing; fine-tune #" +
                                          std::to_string(stored->sourceId) + " again");
    }
    out.data = archiveTaskData(archive, settings, progress, cancel);
    if (contents) {
        // The model the search evaluated, stored when it was committed: exact on any machine, no QAT.
        if (progress) progress({"measuring the stored model", 0, 1, 0.0, ""});
        GenomeEvaluation& e = out.evaluation;
        e.genome = genome;
        e.bits = contents->model.bits();
        e.size = modelSize(contents->model.shape, e.bits);
        e.model = contents->model;
        // The stored figures are this model's (the data identity was checked above); only a test
        // accuracy the search never measured is measured now.
        e.validationAccuracy = stored->validationAccuracy;
        e.testAccuracy = stored->testAccuracy >= 0 ? stored->testAccuracy : IntegerGruEngine(e.model).accuracy(out.data->test);
        e.fakeQuantValidationAccuracy = stored->fakeQuantValidationAccuracy;
        e.fakeQuantTestAccuracy = stored->fakeQuantTestAccuracy;
        out.fromStoredModel = true;
        out.reproduced = true;
        if (progress) progress({"measuring the stored model", 1, 1, 0.0, ""});
        return out;
    }
    const FloatTrainReport baseline = archiveFloatModel(settings, *out.data, progress, cancel);

    QatConfig qat = settings.qat;
    qat.threads = settings.threadsPerWorker();  // the search's per-worker thread count: same model
    EvaluateOptions options;
    options.withTest = true;
    options.progress = progress;
    options.cancel = cancel;
    if (stored->isPartial()) {  // stopped at the rung by the search: rebuilt the same way
        options.rungFraction = stored->fidelity;
        options.rungValidationShare = settings.multiFidelity.rungValidation;
        options.promote = [](double, double) { return false; };
    }
    out.evaluation = evaluateGenome(*out.data, baseline.weights, genome, qat, options);
    out.reproduced = out.evaluation.validationAccuracy == stored->validationAccuracy;
    return out;
}

}  // namespace gruq
