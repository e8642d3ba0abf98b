#include "export_controller.h"

#include "search_types.h"

#include "gruq/search/archive_model.h"
#include "gruq/export/firmware_export.h"

#include <QFile>

namespace gruq::ui {
ExportController::ExportController(QObject* parent) : QObject(parent), worker_(new CancellableWorker(this)) {
    connect(worker_, &CancellableWorker::busyChanged, this, &ExportController::busyChanged);
    connect(worker_, &CancellableWorker::inputError, this,
            [this](const QString& message) { emit failed(tr("Cannot export #%1").arg(currentId_), message); });
    connect(worker_, &CancellableWorker::unexpectedError, this,
            [this](const QString& message) { emit failed(tr("Export of #%1 failed").arg(currentId_), message); });
    connect(worker_, &CancellableWorker::cancelled, this,
            [this] { emit logLine(tr("Export of #%1 cancelled.").arg(currentId_)); });
}

// The worker cancels and waits for its thread before anything it uses goes away.
ExportController::~ExportController() { delete worker_; }

void ExportController::cancel() { worker_->cancel(); }

void ExportController::exportIndividual(const QString& archivePath, qint64 id, const QString& directory) {
    if (worker_->isBusy()) return;
    currentId_ = id;
    // File names are bytes: encodeName gives the ones the system uses (toStdString would re-encode).
    const std::string archive = QFile::encodeName(archivePath).toStdString(),
                      dir = QFile::encodeName(directory).toStdString();
    worker_->start([this, archive, dir, id, directory](const CancelFlag& cancel) {
        checkExportFolder(dir);  // a read-only or blocked folder fails now, not after the model rebuild
        auto report = [this](const Progress& p) {
            emit progress(tr("Export: %1").arg(QString::fromStdString(p.stage)), p.done, p.total, p.elapsedSeconds,
                          QString::fromStdString(p.detail));
        };
        const RebuiltIndividual r = rebuildArchivedIndividual(archive, id, report, &cancel);
        if (!r.fromStoredModel) {
            emit logLine(tr("The archive keeps no model for #%1 (made before gruq stored models): rebuilt by re-running "
                            "its QAT, exact only on the same kind of CPU.")
                             .arg(id));
        }
        if (!r.reproduced) {
            emit logLine(tr("Rebuilt #%1 validates at %2, the archive says %3 (different thread count?); the export "
                            "carries the rebuilt model's own figures.")
                             .arg(id)
                             .arg(percentText(r.evaluation.validationAccuracy), percentText(r.stored.validationAccuracy)));
        }
        const ExportSummary s =
            exportFirmware(firmwareExportFor(r.evaluation, *r.data, "archive " + archive + ", individual #" + std::to_string(id)), dir);
        QStringList files;
        for (const auto& f : s.files) files << QString::fromStdString(f);
        const QString summary = tr("Exported #%1 to %2\n\nmodel.bin: %3 bytes (640-byte header, %4 bytes of model, input normalisation)\n"
                                   "RAM workspace: %5 bytes\nInteger accuracy: validation %6, test %7\n\nFiles: %8")
                                    .arg(id)
                                    .arg(directory)
                                    .arg(s.blobBytes)
                                    .arg(s.sizeObjectiveBytes)
                                    .arg(s.workspaceBytes)
                                    .arg(percentText(r.evaluation.validationAccuracy), percentText(r.evaluation.testAccuracy),
                                         files.join(QStringLiteral(", ")));
        emit exported(id, directory, summary);
    });
}

}  // namespace gruq::ui
