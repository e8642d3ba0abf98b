#pragma once
// The integer model of an archived individual. Archives of schema 3 store each evaluation's model (its
// firmware blob): it is read back with its stored figures, with no training (only a test accuracy the
// search never measured is measured). The task data of the last archive are kept for the next call. Older archives (and
// individuals evaluated elsewhere without their model) are rebuilt exactly as the search built them
// (same task data, cached float model, QAT settings and per-worker thread count), then checked against
// the stored accuracy; that rebuild is bit-identical only on the same kind of CPU.
#include "gruq/search/archive.h"
#include "gruq/data/dataset.h"
#include "gruq/quant/evaluate.h"
#include "gruq/base/progress.h"

#include <cstdint>
#include <string>

namespace gruq {

struct RebuiltIndividual {
    ArchivedIndividual stored;
    GenomeEvaluation evaluation;     // model, validation and test accuracy of the rebuilt model
    TaskData data;                   // the task as the search saw it (normalisation, classes, splits)
    bool reproduced = false;         // measured validation accuracy == stored one
    bool fromStoredModel = false;    // the archive's stored model (else rebuilt by re-running QAT)
};

// InputError naming the archive when it cannot be opened, the id does not exist, the task data
// changed since the search (float model identity differs), or the stored model is damaged (BlobError).
RebuiltIndividual rebuildArchivedIndividual(const std::string& archivePath, int64_t id, const ProgressFn& progress = {},
                                            const CancelFlag* cancel = nullptr);

}  // namespace gruq
