#pragma once
// Runs core work for the float baseline (load a task's data, train or load the cached float GRU) on a
// worker thread it owns; core's plain callbacks become queued signals. The GUI thread never trains.
#include "gruq/data/dataset.h"
#include "gruq/model/float_training.h"
#include "gruq/base/progress.h"
#include "gruq/data/task_registry.h"

#include "cancellable_worker.h"

#include <QObject>
#include <QString>

#include <memory>

namespace gruq::ui {

struct DataSummary {
    QString task, description, source;
    QStringList classNames;
    qint64 trainCount = 0, validationCount = 0, testCount = 0, steps = 0, features = 0;
    qint64 paddedCount = 0;  // sequences shorter than `steps` (zero-padded), over all splits
    QVector<qint64> trainClassCounts, validationClassCounts, testClassCounts;
};

struct BaselineResult {
    QString shapeKey;
    double validationAccuracy = 0, testAccuracy = 0, trainSeconds = 0, samplesPerSecond = 0;
    qint64 parameters = 0;
    bool fromCache = false;
    QString importedFormat;  // "ONNX", ... when the model was imported, not trained
};

class BaselineController : public QObject {
    Q_OBJECT
public:
    explicit BaselineController(QObject* parent = nullptr);
    ~BaselineController() override;

    bool isBusy() const { return worker_->isBusy(); }

public slots:
    // Loads the data and, when a float baseline for these settings is cached, reports it too.
    void loadData(const QString& task, const TaskLoadOptions& options, const FloatTrainConfig& config);
    // Loads the data if needed, then trains (or fetches from the cache) the float GRU.
    void trainBaseline(const QString& task, const TaskLoadOptions& options, const FloatTrainConfig& config);
    void cancel();

signals:
    void busyChanged(bool busy);
    void progress(const QString& stage, qint64 done, qint64 total, double elapsedSeconds, const QString& detail);
    void dataLoaded(const gruq::ui::DataSummary& summary);
    void epochFinished(int epoch, double trainLoss, double validationAccuracy, double samplesPerSecond);
    void baselineReady(const gruq::ui::BaselineResult& result);
    void failed(const QString& title, const QString& message);
    void logLine(const QString& line);

private:
    std::shared_ptr<const TaskData> ensureData(const QString& task, const TaskLoadOptions& options,
                                               const CancelFlag& cancel);
    void reportBaseline(const FloatTrainReport& report);

    CancellableWorker* worker_;
    // Last loaded data, reused by a following training run (accessed on the worker thread only).
    std::shared_ptr<const TaskData> data_;
    QString dataKey_;
};

}  // namespace gruq::ui

Q_DECLARE_METATYPE(gruq::ui::DataSummary)
Q_DECLARE_METATYPE(gruq::ui::BaselineResult)
