#include "export_controller.h"

#include "gruq/archive_model.h"
#include "gruq/errors.h"
#include "gruq/firmware_export.h"

namespace gruq::ui {
namespace {

QString percent(double fraction) { return fraction < 0 ? QStringLiteral("-") : QString::number(100 * fraction, 'f', 2) + '%'; }

}  // namespace

ExportController::ExportController(QObject* parent) : QObject(parent) {}

ExportController::~ExportController() {
    cancel();
    if (worker_) {
        worker_->wait();
        delete worker_;
    }
}

void ExportController::cancel() {
    if (cancel_) cancel_->request();
}

void ExportController::exportIndividual(const QString& archivePath, qint64 id, const QString& directory) {
    if (busy_) return;
    if (worker_) {
        worker_->wait();
        delete worker_;
    }
    busy_ = true;
    emit busyChanged(true);
    cancel_ = std::make_shared<CancelFlag>();
    auto cancel = cancel_;
    const std::string archive = archivePath.toStdString(), dir = directory.toStdString();
    worker_ = QThread::create([this, archive, dir, id, cancel] {
        try {
            auto report = [this](const Progress& p) {
                emit progress(tr("Export: %1").arg(QString::fromStdString(p.stage)), p.done, p.total, p.elapsedSeconds,
                              QString::fromStdString(p.detail));
            };
            const RebuiltIndividual r = rebuildArchivedIndividual(archive, id, report, cancel.get());
            if (!r.reproduced) {
                emit logLine(tr("Rebuilt #%1 validates at %2, the archive says %3 (different thread count?); the export "
                                "carries the rebuilt model's own figures.")
                                 .arg(id)
                                 .arg(percent(r.evaluation.validationAccuracy), percent(r.stored.validationAccuracy)));
            }
            const ExportSummary s =
                exportFirmware(firmwareExportFor(r.evaluation, r.data, "archive " + archive + ", individual #" + std::to_string(id)), dir);
            const QString summary =
                tr("Exported #%1 to %2\n\nmodel.bin: %3 bytes (640-byte header + %4 bytes of model)\n"
                   "RAM workspace: %5 bytes\nInteger accuracy: validation %6, test %7\n\nFiles: %8")
                    .arg(id)
                    .arg(QString::fromStdString(dir))
                    .arg(s.blobBytes)
                    .arg(s.sizeObjectiveBytes)
                    .arg(s.workspaceBytes)
                    .arg(percent(r.evaluation.validationAccuracy), percent(r.evaluation.testAccuracy))
                    .arg(QString::fromStdString([&] {
                        std::string files;
                        for (const auto& f : s.files) files += (files.empty() ? "" : ", ") + f;
                        return files;
                    }()));
            emit exported(id, QString::fromStdString(dir), summary);
        } catch (const InputError& e) {
            emit failed(tr("Cannot export #%1").arg(id), QString::fromStdString(e.what()));
        } catch (const Cancelled&) {
            emit logLine(tr("Export of #%1 cancelled.").arg(id));
        } catch (const std::exception& e) {
            emit failed(tr("Export of #%1 failed").arg(id), QString::fromStdString(e.what()));
        }
    });
    connect(worker_, &QThread::finished, this, [this] {
        busy_ = false;
        emit busyChanged(false);
    });
    worker_->start();
}

}  // namespace gruq::ui
