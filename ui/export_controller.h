#pragma once
// Exports an archived individual as a firmware folder on a worker thread it owns: rebuilds the model
// exactly as the search did (core's rebuildArchivedIndividual), writes the folder (exportFirmware), and
// reports progress and the outcome as queued signals. Cancellable; one export at a time.
#include "cancellable_worker.h"

#include <QObject>
#include <QString>

namespace gruq::ui {

class ExportController : public QObject {
    Q_OBJECT
public:
    explicit ExportController(QObject* parent = nullptr);
    ~ExportController() override;

    bool isBusy() const { return worker_->isBusy(); }

public slots:
    void exportIndividual(const QString& archivePath, qint64 id, const QString& directory);
    void cancel();

signals:
    void busyChanged(bool busy);
    void progress(const QString& stage, qint64 done, qint64 total, double elapsedSeconds, const QString& detail);
    // A short multi-line summary (files, sizes, accuracy) for a dialog.
    void exported(qint64 id, const QString& directory, const QString& summary);
    void failed(const QString& title, const QString& message);
    void logLine(const QString& line);

private:
    CancellableWorker* worker_;
    qint64 currentId_ = 0;  // the individual being exported (for the outcome messages)
};

}  // namespace gruq::ui
