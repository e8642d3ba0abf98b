#include "search_controller.h"

#include "gruq/search/archive_model.h"
#include "gruq/base/errors.h"
#include "gruq/quant/integer_engine.h"

#include <QFile>

namespace gruq::ui {

// Core observer -> Qt signals. Called from worker threads; emitting to GUI-thread receivers queues.
class SearchController::Bridge : public SearchObserver {
public:
    explicit Bridge(SearchController* c) : c_(c) {}
    void prepared(const TaskData& data, const FloatTrainReport& floatModel) override {
        QStringList names;
        for (const auto& n : data.classNames) names << QString::fromStdString(n);
        emit c_->prepared(names, floatModel.validationAccuracy, floatModel.testAccuracy);
    }
    void individualEvaluated(const ArchivedIndividual& a, bool reused) override {
        emit c_->individualEvaluated(IndividualRow::from(a), reused);
    }
    void generationFinished(const ArchivedGeneration& g) override { emit c_->generationFinished(GenerationRow::from(g)); }
    void progress(const SearchProgress& p) override { emit c_->progress(p); }
    void log(const std::string& line) override { emit c_->logLine(QString::fromStdString(line)); }

private:
    SearchController* c_;
};

SearchController::SearchController(QObject* parent) : QObject(parent), bridge_(std::make_unique<Bridge>(this)) {
    qRegisterMetaType<IndividualRow>();
    qRegisterMetaType<GenerationRow>();
    qRegisterMetaType<SearchProgress>();
    qRegisterMetaType<SearchSettings>();
}

SearchController::~SearchController() {
    if (control_) control_->cancel();
    preloadCancel_.request();
    for (QThread* t : {worker_, confusionWorker_}) {
        if (t) {
            t->wait();
            delete t;
        }
    }
}

void SearchController::setState(State s) {
    if (state_ == s) return;
    state_ = s;
    emit stateChanged(s);
}

template <typename Work>
void SearchController::launch(const QString& archivePath, Work work) {
    if (isBusy()) return;
    if (worker_) {
        worker_->wait();
        delete worker_;
    }
    archivePath_ = archivePath;
    control_ = std::make_unique<SearchControl>();
    SearchControl* control = control_.get();
    Bridge* bridge = bridge_.get();
    worker_ = QThread::create([this, work, control, bridge] {
        try {
            const SearchResult r = work(bridge, control);
            emit finished(r.cancelled, r.cancelled ? tr("Search stopped: %1 evaluations computed, all kept in the archive.")
                                                         .arg(r.computed)
                                                   : tr("Search finished in %1 s: %2 computed, %3 reused, front of %4.")
                                                         .arg(r.seconds, 0, 'f', 0)
                                                         .arg(r.computed)
                                                         .arg(r.reused)
                                                         .arg(r.front.size()));
        } catch (const InputError& e) {
            emit failed(tr("Cannot run this search"), QString::fromStdString(e.what()));
        } catch (const Cancelled&) {
            emit finished(true, tr("Search stopped before the first evaluation."));
        } catch (const std::exception& e) {
            emit failed(tr("Unexpected error"), QString::fromStdString(e.what()));
        }
    });
    connect(worker_, &QThread::finished, this, [this] { setState(State::Idle); });
    setState(State::Running);
    worker_->start();
}

void SearchController::start(const SearchSettings& settings, const QString& archivePath) {
    const std::string path = archivePath.toStdString();
    launch(archivePath, [settings, path](Bridge* bridge, SearchControl* control) {
        return runSearch(settings, path, bridge, control);
    });
}

void SearchController::resume(const QString& archivePath, int workers) {
    const std::string path = archivePath.toStdString();
    launch(archivePath, [path, workers](Bridge* bridge, SearchControl* control) {
        return resumeSearch(path, bridge, control, workers);
    });
}

void SearchController::pause() {
    if (state_ != State::Running || !control_) return;
    control_->pause();
    setState(State::Paused);
    emit logLine(tr("Paused (workers stop at their next training step)."));
}

void SearchController::resumeRun() {
    if (state_ != State::Paused || !control_) return;
    control_->resume();
    setState(State::Running);
    emit logLine(tr("Resumed."));
}

void SearchController::stop() {
    if (!isBusy() || !control_) return;
    control_->cancel();
    setState(State::Stopping);
    emit logLine(tr("Stopping: evaluations in flight are abandoned, finished ones are kept."));
}

void SearchController::preloadTask(const QString& archivePath) {
    if (confusionWorker_ && confusionWorker_->isRunning()) return;
    delete confusionWorker_;
    const std::string path = QFile::encodeName(archivePath).toStdString();
    confusionWorker_ = QThread::create([this, path] {
        try {
            preloadArchiveTask(path, {}, &preloadCancel_);
        } catch (const std::exception&) {
            // The click that needs the data reports the problem with its own message.
        }
    });
    connect(confusionWorker_, &QThread::finished, this, &SearchController::startPendingConfusion);
    confusionWorker_->start(QThread::LowPriority);
}

void SearchController::startPendingConfusion() {
    if (!confusionPending_) return;
    confusionPending_ = false;
    confusionWorker_->wait();  // finished() is emitted just before the thread really ends
    computeConfusion(pendingConfusionArchive_, pendingConfusionRow_);
}

void SearchController::computeConfusion(const QString& archivePath, const IndividualRow& row) {
    if (confusionWorker_) {
        if (confusionWorker_->isRunning()) {  // one at a time: remember the newest request for later
            pendingConfusionArchive_ = archivePath;
            pendingConfusionRow_ = row;
            confusionPending_ = true;
            return;
        }
        delete confusionWorker_;
    }
    const std::string path = archivePath.toStdString();
    confusionWorker_ = QThread::create([this, path, row] {
        try {
            const RebuiltIndividual r = rebuildArchivedIndividual(path, row.id);  // the stored model (or a rebuild)
            const auto counts = IntegerGruEngine(r.evaluation.model).confusionMatrix(r.data->test, 0);
            QVector<QVector<int>> matrix;
            for (const auto& r : counts) {
                QVector<int> line;
                for (int64_t v : r) line << static_cast<int>(v);
                matrix << line;
            }
            emit confusionReady(row.id, matrix);
        } catch (const std::exception& e) {
            emit logLine(tr("Confusion matrix of #%1 unavailable: %2").arg(row.id).arg(QString::fromStdString(e.what())));
            emit confusionReady(row.id, {});  // the inspector then says so instead of waiting forever
        }
    });
    connect(confusionWorker_, &QThread::finished, this, &SearchController::startPendingConfusion);
    confusionWorker_->start(QThread::LowPriority);
}

}  // namespace gruq::ui
