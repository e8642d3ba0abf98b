#pragma once
// The tasks gruq knows, by name, and one entry point that loads any of them.
#include "gruq/data/dataset.h"
#include "gruq/base/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct TaskInfo {
    std::string name;         // "smnist-row", "smnist-pixel", "kws4", "kws10", "npz" (the user's data)
    std::string title;        // "Row-wise sequential MNIST"
    std::string dataKind;     // "MNIST-format IDX folder" or "Speech Commands-layout folder"
    std::string defaultPath;  // where the data is looked for when no path is given
};

const std::vector<TaskInfo>& knownTasks();
const TaskInfo& taskInfo(const std::string& name);  // InputError("task", ...) for an unknown name
std::string defaultTaskName();                       // "smnist-row"

struct TaskLoadOptions {
    std::string path;                // empty = the task's default folder; npz: the data file (or .npy folder)
    uint64_t seed = 0;               // split / selection seed
    double validationFraction = 0.1; // MNIST and npz tasks (Speech Commands has its own split)
    double testFraction = 0.2;       // npz from one file: share held out for testing
    std::string validationPath;      // npz: separate validation / test files (both or neither)
    std::string testPath;
    bool normalize = true;           // npz: per-feature normalisation with training statistics
    int64_t maxTrain = 0;            // MNIST: cap on training images (0 = all), for quick runs
    int64_t maxTest = 0;
    int threads = 0;                 // feature extraction workers
    bool kwsUnknown = false;         // KWS: add the "_unknown_" class (clips of every other word)
    bool kwsSilence = false;         // KWS: add the "_silence_" class (background-noise crops)
};

TaskData loadTask(const std::string& name, const TaskLoadOptions& options, const ProgressFn& progress = {},
                  const CancelFlag* cancel = nullptr);

}  // namespace gruq
