#pragma once
// Exports an archived individual as a firmware folder on a worker thread it owns: rebuilds the model
// exactly as the search did (core's rebuildArchivedIndividual), writes the folder (exportFirmware), and
// reports progress and the outcome as queued signals. Cancellable; one export at a time.
#include "gruq/progress.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <memory>

namespace gruq::ui {

class ExportController : public QObject {
    Q_OBJECT
public:
    explicit ExportController(QObject* parent = nullptr);
    ~ExportController() override;

    bool isBusy() const { return busy_; }

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
    QThread* worker_ = nullptr;
    std::shared_ptr<CancelFlag> cancel_;
    bool busy_ = false;
};

}  // namespace gruq::ui
