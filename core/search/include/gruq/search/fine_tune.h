#pragma once
// Fine-tuning a chosen scheme (issue 19): the search gives every genome a small QAT budget to rank it;
// the scheme a user ships gets full epochs over the training split, a cosine learning-rate schedule and
// early stopping on the validation split. The result is stored in the archive as a new individual
// linked to its source (same genome, its own accuracies and model), after every better epoch: stopping
// or killing the run keeps the best epoch reached.
#include "gruq/search/archive.h"
#include "gruq/base/progress.h"

#include <cstdint>
#include <functional>
#include <string>

namespace gruq {

struct FineTuneSettings {
    int epochs = 10;            // full passes over the training split (upper bound with early stopping)
    int patience = 3;           // epochs without a better validation accuracy before stopping
    double learningRate = 0;    // 0: the search's QAT learning rate

    void validate() const;      // InputError ("fine-tune settings") naming the bad value
};

struct FineTuneResult {
    ArchivedIndividual source;  // the search individual whose genome was fine-tuned
    ArchivedIndividual tuned;   // the stored copy (id 0 when cancelled before the first epoch ended)
    bool cancelled = false;
    double seconds = 0;
};

// Fine-tunes individual `id` of the archive (a fine-tuned copy stands for its source). InputError naming
// the archive when it cannot be opened for writing, a search is still writing it, the id does not exist,
// or the task data / imported model changed since the search. A cancel (flag) ends the run with
// cancelled = true, the best epoch so far stored. `stored` is told each time the copy is written.
using FineTuneStoredFn = std::function<void(const ArchivedIndividual&)>;
FineTuneResult fineTuneArchivedIndividual(const std::string& archivePath, int64_t id, const FineTuneSettings& settings,
                                          const ProgressFn& progress = {}, const CancelFlag* cancel = nullptr,
                                          const FineTuneStoredFn& stored = {});

// InputError when another live process is running a search into the archive (status "running" and
// its writer not known to be gone): a fine-tune must not write beside it.
void refuseWhileSearchRuns(const SearchArchive& archive);

}  // namespace gruq
