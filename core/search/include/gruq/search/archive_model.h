#pragma once
// The integer model of an archived individual: archives store genomes and figures, not models, so the
// model is rebuilt exactly as the search built it (same task data, cached float model, QAT settings and
// per-worker thread count; evaluations are deterministic), then checked against the stored accuracy.
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
    bool reproduced = false;         // rebuilt validation accuracy == stored one
};

// InputError naming the archive when it cannot be opened, the id does not exist, or the task data
// changed since the search (float model identity differs).
RebuiltIndividual rebuildArchivedIndividual(const std::string& archivePath, int64_t id, const ProgressFn& progress = {},
                                            const CancelFlag* cancel = nullptr);

}  // namespace gruq
