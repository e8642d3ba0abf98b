#pragma once
// The integer model of an archived individual. Archives of schema 3 store each evaluation's model (its
// firmware blob): it is read back with its stored figures, with no training (only a test accuracy the
// search never measured is measured). The task data of the last archive are kept for the next call. Older archives (and
// individuals evaluated elsewhere without their model) are rebuilt exactly as the search built them
// (same task data, cached float model, QAT settings and per-worker thread count), then checked against
// the stored accuracy; that rebuild is bit-identical only on the same kind of CPU.
#include "gruq/search/archive.h"
#include "gruq/search/search_settings.h"
#include "gruq/data/dataset.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/evaluate.h"
#include "gruq/base/progress.h"

#include <cstdint>
#include <memory>
#include <string>

namespace gruq {

struct RebuiltIndividual {
    ArchivedIndividual stored;
    GenomeEvaluation evaluation;     // model, validation and test accuracy of the rebuilt model
    // The task as the search saw it (normalisation, classes, splits); shared with the kept copy (the
    // splits of the default task are ~200 MB: copying them per click cost more than the model itself).
    std::shared_ptr<const TaskData> data;
    bool reproduced = false;         // measured validation accuracy == stored one
    bool fromStoredModel = false;    // the archive's stored model (else rebuilt by re-running QAT)
};

// InputError naming the archive when it cannot be opened, the id does not exist, the task data
// changed since the search (float model identity differs), or the stored model is damaged (BlobError).
RebuiltIndividual rebuildArchivedIndividual(const std::string& archivePath, int64_t id, const ProgressFn& progress = {},
                                            const CancelFlag* cancel = nullptr);

}  // namespace gruq

namespace gruq {

// The task data the archive's search saw (kept for the next call), checked against the archive's float
// model identity: InputError naming the archive when the data or the imported model file changed.
// `settings`: the archive's (settingsOfArchive), read once by the caller.
std::shared_ptr<const TaskData> archiveTaskData(const SearchArchive& archive, const SearchSettings& settings,
                                                const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);
// The search's float model of that data (from the model cache, else trained or imported again).
FloatTrainReport archiveFloatModel(const SearchSettings& settings, const TaskData& data, const ProgressFn& progress = {},
                                   const CancelFlag* cancel = nullptr);

// Reads (and keeps) the task data of an archive ahead of the first rebuildArchivedIndividual, e.g. while
// the user looks at a freshly opened archive: the first click is then as fast as the later ones.
void preloadArchiveTask(const std::string& archivePath, const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr);

}  // namespace gruq
