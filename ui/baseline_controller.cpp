#include "baseline_controller.h"


#include <QMetaObject>

namespace gruq::ui {
namespace {

QVector<qint64> toQVector(const std::vector<int64_t>& v) { return QVector<qint64>(v.begin(), v.end()); }

DataSummary summarise(const TaskData& d) {
    DataSummary s;
    s.task = QString::fromStdString(d.task);
    s.description = QString::fromStdString(d.description);
    s.source = QString::fromStdString(d.source);
    for (const auto& c : d.classNames) s.classNames << QString::fromStdString(c);
    s.trainCount = d.train.count;
    s.validationCount = d.validation.count;
    s.testCount = d.test.count;
    s.steps = d.train.steps;
    s.features = d.train.features;
    for (const SequenceSet* set : {&d.train, &d.validation, &d.test}) {
        for (int64_t i = 0; i < set->count; ++i) s.paddedCount += set->lengthOf(i) < set->steps;
    }
    s.trainClassCounts = toQVector(classCounts(d.train, d.numClasses()));
    s.validationClassCounts = toQVector(classCounts(d.validation, d.numClasses()));
    s.testClassCounts = toQVector(classCounts(d.test, d.numClasses()));
    return s;
}

QString dataKeyOf(const QString& task, const TaskLoadOptions& o) {
    return QStringLiteral("%1|%2|%3|%4|%5|%6|%7|%8")
        .arg(task, QString::fromStdString(o.path))
        .arg(o.seed)
        .arg(o.validationFraction)
        .arg(o.maxTrain)
        .arg(o.maxTest)
        .arg(o.kwsUnknown)
        .arg(o.kwsSilence) +
           QStringLiteral("|%1|%2|%3|%4")
               .arg(QString::fromStdString(o.validationPath), QString::fromStdString(o.testPath))
               .arg(o.testFraction)
               .arg(o.normalize);
}

}  // namespace

BaselineController::BaselineController(QObject* parent) : QObject(parent), worker_(new CancellableWorker(this)) {
    qRegisterMetaType<DataSummary>();
    qRegisterMetaType<BaselineResult>();
    connect(worker_, &CancellableWorker::busyChanged, this, &BaselineController::busyChanged);
    connect(worker_, &CancellableWorker::inputError, this,
            [this](const QString& message) { emit failed(tr("Cannot use this input"), message); });
    connect(worker_, &CancellableWorker::unexpectedError, this,
            [this](const QString& message) { emit failed(tr("Unexpected error"), message); });
    connect(worker_, &CancellableWorker::cancelled, this, [this] { emit logLine(tr("Cancelled.")); });
}

// The worker cancels and waits for its thread; deleted first so the job never outlives data_.
BaselineController::~BaselineController() { delete worker_; }

void BaselineController::cancel() { worker_->cancel(); }

std::shared_ptr<const TaskData> BaselineController::ensureData(const QString& task, const TaskLoadOptions& options,
                                                               const CancelFlag& cancel) {
    const QString key = dataKeyOf(task, options);
    if (data_ && dataKey_ == key) return data_;
    emit logLine(tr("Loading %1 from %2 ...").arg(task, QString::fromStdString(options.path.empty()
                                                                                   ? taskInfo(task.toStdString()).defaultPath
                                                                                   : options.path)));
    auto progressFn = [this](const Progress& p) {
        emit progress(QString::fromStdString(p.stage), p.done, p.total, p.elapsedSeconds, QString::fromStdString(p.detail));
    };
    data_ = std::make_shared<const TaskData>(loadTask(task.toStdString(), options, progressFn, &cancel));
    dataKey_ = key;
    emit dataLoaded(summarise(*data_));
    emit logLine(tr("Loaded %1: %2 train / %3 validation / %4 test sequences.")
                     .arg(task)
                     .arg(data_->train.count)
                     .arg(data_->validation.count)
                     .arg(data_->test.count));
    return data_;
}

void BaselineController::loadData(const QString& task, const TaskLoadOptions& options, const FloatTrainConfig& config) {
    worker_->start([this, task, options, config](const CancelFlag& cancel) {
        const auto data = ensureData(task, options, cancel);
        if (auto cached = findCachedFloatBaseline(*data, config)) reportBaseline(*cached);
    });
}

void BaselineController::reportBaseline(const FloatTrainReport& r) {
    BaselineResult result;
    result.shapeKey = QString::fromStdString(r.weights.shape.key());
    result.validationAccuracy = r.validationAccuracy;
    result.testAccuracy = r.testAccuracy;
    result.trainSeconds = r.trainSeconds;
    result.samplesPerSecond = r.samplesPerSecond;
    result.parameters = r.weights.parameterCount();
    result.fromCache = r.fromCache;
    result.importedFormat = QString::fromStdString(r.importedFormat);
    emit baselineReady(result);
    emit logLine(tr("Float baseline %1: validation %2%, test %3%%4.")
                     .arg(result.shapeKey)
                     .arg(100 * r.validationAccuracy, 0, 'f', 2)
                     .arg(100 * r.testAccuracy, 0, 'f', 2)
                     .arg(r.fromCache ? tr(" (from cache)")
                          : r.importedFormat.empty() ? QString()
                                                     : tr(" (imported %1 model)").arg(QString::fromStdString(r.importedFormat))));
}

void BaselineController::trainBaseline(const QString& task, const TaskLoadOptions& options, const FloatTrainConfig& config) {
    worker_->start([this, task, options, config](const CancelFlag& cancel) {
        const auto data = ensureData(task, options, cancel);
        TrainObserver observer;
        observer.cancel = &cancel;
        observer.progress = [this](const Progress& p) {
            emit progress(QString::fromStdString(p.stage), p.done, p.total, p.elapsedSeconds,
                          QString::fromStdString(p.detail));
        };
        observer.epochFinished = [this](const EpochReport& e) {
            emit epochFinished(e.epoch, e.trainLoss, e.validationAccuracy, e.samplesPerSecond);
            emit logLine(tr("epoch %1: loss %2, validation %3%, %4 seq/s")
                             .arg(e.epoch)
                             .arg(e.trainLoss, 0, 'f', 4)
                             .arg(100 * e.validationAccuracy, 0, 'f', 2)
                             .arg(e.samplesPerSecond, 0, 'f', 0));
        };
        emit logLine(tr("Float baseline: H=%1, %2 layer(s), %3 epochs (cached models load instantly).")
                         .arg(config.hiddenSize)
                         .arg(config.numLayers)
                         .arg(config.epochs));
        reportBaseline(trainFloatBaseline(*data, config, observer));
    });
}

}  // namespace gruq::ui
