#include "fine_tune_controller.h"

#include "gruq/search/fine_tune.h"

#include <QFile>

namespace gruq::ui {
FineTuneController::FineTuneController(QObject* parent) : QObject(parent), worker_(new CancellableWorker(this)) {
    connect(worker_, &CancellableWorker::busyChanged, this, &FineTuneController::busyChanged);
    connect(worker_, &CancellableWorker::inputError, this,
            [this](const QString& message) { emit failed(tr("Cannot fine-tune #%1").arg(sourceId_), message); });
    connect(worker_, &CancellableWorker::unexpectedError, this,
            [this](const QString& message) { emit failed(tr("Fine-tune of #%1 failed").arg(sourceId_), message); });
    connect(worker_, &CancellableWorker::cancelled, this,
            [this] { emit logLine(tr("Fine-tune of #%1 cancelled.").arg(sourceId_)); });
}

// The worker cancels and waits for its thread before anything it uses goes away.
FineTuneController::~FineTuneController() { delete worker_; }

void FineTuneController::cancel() { worker_->cancel(); }

void FineTuneController::fineTune(const QString& archivePath, qint64 id, const FineTuneChoice& choice) {
    if (worker_->isBusy()) return;
    sourceId_ = id;
    const std::string archive = QFile::encodeName(archivePath).toStdString();
    worker_->start([this, archive, id, choice](const CancelFlag& cancel) {
        FineTuneSettings settings;
        settings.epochs = choice.epochs;
        settings.patience = choice.patience;
        auto report = [this](const Progress& p) {
            emit progress(tr("Fine-tune #%1: %2").arg(sourceId_).arg(QString::fromStdString(p.stage)), p.done, p.total,
                          p.elapsedSeconds, QString::fromStdString(p.detail));
        };
        auto storedRow = [this](const ArchivedIndividual& a) { emit stored(IndividualRow::from(a)); };
        const FineTuneResult r = fineTuneArchivedIndividual(archive, id, settings, report, &cancel, storedRow);
        if (r.tuned.id == 0) {
            emit logLine(tr("Fine-tune of #%1 cancelled before its first epoch ended: nothing stored.").arg(id));
            return;
        }
        const FineTuneRecord& f = r.tuned.fineTune;
        const QString summary =
            tr("#%1 fine-tuned as #%2 (%3): %4 of %5 epochs, best epoch %6, %7 s.\nValidation %8 → %9, test %10 → %11.")
                .arg(id)
                .arg(r.tuned.id)
                .arg(QString::fromStdString(f.status))
                .arg(f.epochsRun)
                .arg(f.epochsPlanned)
                .arg(f.bestEpoch)
                .arg(r.seconds, 0, 'f', 0)
                .arg(percentText(r.source.validationAccuracy), percentText(r.tuned.validationAccuracy),
                     r.source.testAccuracy >= 0 ? percentText(r.source.testAccuracy) : tr("not measured"),
                     r.tuned.testAccuracy >= 0 ? percentText(r.tuned.testAccuracy) : tr("not measured"));
        const QString note = r.tuned.validationAccuracy <= r.source.validationAccuracy
                                 ? tr("\nNo epoch beat the search's own model on validation: #%1 stays the better choice.").arg(id)
                                 : QString();
        emit finished(r.tuned.id, summary + note);
    });
}

}  // namespace gruq::ui
