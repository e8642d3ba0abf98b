#include "gruq/data/task_registry.h"

#include "gruq/base/errors.h"
#include "gruq/data/kws_task.h"
#include "gruq/data/mnist_task.h"
#include "gruq/data/numpy_task.h"
#include "gruq/base/paths.h"

namespace gruq {

const std::vector<TaskInfo>& knownTasks() {
    static const std::vector<TaskInfo> tasks = {
        {"smnist-row", "Row-wise sequential MNIST (28 steps x 28)", "MNIST-format IDX folder", defaultFashionMnistDir()},
        {"smnist-pixel", "Pixel-wise sequential MNIST (784 steps x 1)", "MNIST-format IDX folder", defaultFashionMnistDir()},
        {"kws4", "Keyword spotting, 4 words (yes no up down)", "Speech Commands-layout folder", defaultSpeechCommandsDir()},
        {"kws10", "Keyword spotting, 10 words (yes no up down left right on off stop go)",
         "Speech Commands-layout folder", defaultSpeechCommandsDir()},
        {"npz", "Your data (.npz)...", "NumPy .npz file, or a folder of x.npy + y.npy", ""},
    };
    return tasks;
}

const TaskInfo& taskInfo(const std::string& name) {
    for (const TaskInfo& t : knownTasks()) {
        if (t.name == name) return t;
    }
    std::string names;
    for (const TaskInfo& t : knownTasks()) names += (names.empty() ? "" : ", ") + t.name;
    throw InputError("task", "unknown task '" + name + "' (known: " + names + ")");
}

std::string defaultTaskName() { return "smnist-row"; }

TaskData loadTask(const std::string& name, const TaskLoadOptions& options, const ProgressFn& progress,
                  const CancelFlag* cancel) {
    const TaskInfo& info = taskInfo(name);
    if (name == "smnist-row" || name == "smnist-pixel") {
        MnistTaskOptions mnist;
        mnist.directory = options.path.empty() ? info.defaultPath : options.path;
        mnist.view = name == "smnist-row" ? MnistView::Rows : MnistView::Pixels;
        mnist.validationFraction = options.validationFraction;
        mnist.seed = options.seed;
        mnist.maxTrain = options.maxTrain;
        mnist.maxTest = options.maxTest;
        if (progress) progress({"reading IDX files", 0, 0, 0.0, mnist.directory});
        return loadMnistTask(mnist);
    }
    if (name == "npz") {
        NumpyTaskOptions numpy;
        numpy.path = options.path;
        numpy.validationPath = options.validationPath;
        numpy.testPath = options.testPath;
        numpy.validationFraction = options.validationFraction;
        numpy.testFraction = options.testFraction;
        numpy.seed = options.seed;
        numpy.normalize = options.normalize;
        if (progress) progress({"reading NumPy arrays", 0, 0, 0.0, numpy.path});
        return loadNumpyTask(numpy);
    }
    KwsTaskOptions kws;
    kws.directory = options.path.empty() ? info.defaultPath : options.path;
    kws.keywordCount = name == "kws4" ? 4 : 10;
    kws.seed = options.seed;
    kws.threads = options.threads;
    kws.includeUnknown = options.kwsUnknown;
    kws.includeSilence = options.kwsSilence;
    return loadKwsTask(kws, progress, cancel);
}

}  // namespace gruq
