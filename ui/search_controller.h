#pragma once
// Owns the worker thread that runs a search (core's runSearch / resumeSearch) and turns the core
// observer's callbacks into queued signals. Pause / resume / stop are cooperative (SearchControl).
// Also computes, in the background, the confusion matrix of a selected individual.
#include "gruq/search/search.h"
#include "search_types.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <memory>

namespace gruq::ui {

class SearchController : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Running, Paused, Stopping };
    Q_ENUM(State)

    explicit SearchController(QObject* parent = nullptr);
    ~SearchController() override;

    State state() const { return state_; }
    bool isBusy() const { return state_ != State::Idle; }
    QString archivePath() const { return archivePath_; }

public slots:
    void start(const gruq::SearchSettings& settings, const QString& archivePath);
    void resume(const QString& archivePath, int workers = 0);
    void pause();
    void resumeRun();
    void stop();
    // Re-creates the individual's integer model (evaluations are deterministic) and counts its test
    // predictions per class; emits confusionReady. Runs on its own thread; settings come from the archive.
    void computeConfusion(const QString& archivePath, const gruq::ui::IndividualRow& row);
    // Reads the archive's task data in the background (core keeps it), so that the first click on a
    // point is as quick as the later ones; a click meanwhile waits for it. Errors are left to the click.
    void preloadTask(const QString& archivePath);

signals:
    void stateChanged(gruq::ui::SearchController::State state);
    void prepared(const QStringList& classNames, double floatValidationAccuracy, double floatTestAccuracy);
    void individualEvaluated(const gruq::ui::IndividualRow& row, bool reused);
    void generationFinished(const gruq::ui::GenerationRow& generation);
    void progress(const gruq::SearchProgress& progress);
    void logLine(const QString& line);
    void finished(bool cancelled, const QString& summary);
    void failed(const QString& title, const QString& message);
    void confusionReady(qint64 id, const QVector<QVector<int>>& matrix);

private:
    class Bridge;
    template <typename Work>
    void launch(const QString& archivePath, Work work);
    void setState(State s);
    void startPendingConfusion();

    State state_ = State::Idle;
    QString archivePath_;
    QThread* worker_ = nullptr;
    QThread* confusionWorker_ = nullptr;
    std::unique_ptr<SearchControl> control_;
    std::unique_ptr<Bridge> bridge_;
    // The latest confusion request that arrived while another was computing (older ones are dropped).
    QString pendingConfusionArchive_;
    IndividualRow pendingConfusionRow_;
    bool confusionPending_ = false;
    CancelFlag preloadCancel_;  // lets closing the window stop a data read in progress
};

}  // namespace gruq::ui

Q_DECLARE_METATYPE(gruq::SearchProgress)
Q_DECLARE_METATYPE(gruq::SearchSettings)
