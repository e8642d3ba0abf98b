#pragma once
// Fine-tunes an archived scheme on a worker thread it owns (core's fineTuneArchivedIndividual): full
// QAT epochs with early stopping; each better epoch is stored in the archive at once and reported as a
// row, so the plot shows the copy while it improves. Cancellable (the best epoch so far stays); one at a time.
#include "cancellable_worker.h"
#include "search_types.h"

#include <QObject>
#include <QString>

namespace gruq::ui {

struct FineTuneChoice {
    int epochs = 10;
    int patience = 3;
};

class FineTuneController : public QObject {
    Q_OBJECT
public:
    explicit FineTuneController(QObject* parent = nullptr);
    ~FineTuneController() override;

    bool isBusy() const { return worker_->isBusy(); }
    qint64 sourceId() const { return sourceId_; }  // the individual being fine-tuned

public slots:
    void fineTune(const QString& archivePath, qint64 id, const gruq::ui::FineTuneChoice& choice);
    void cancel();

signals:
    void busyChanged(bool busy);
    void progress(const QString& stage, qint64 done, qint64 total, double elapsedSeconds, const QString& detail);
    void stored(const gruq::ui::IndividualRow& row);   // the fine-tuned copy, after each better epoch
    void finished(qint64 tunedId, const QString& summary);
    void failed(const QString& title, const QString& message);
    void logLine(const QString& line);

private:
    CancellableWorker* worker_;
    qint64 sourceId_ = 0;
};

}  // namespace gruq::ui
