#include "progress_panel.h"

#include <QDateTime>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QVBoxLayout>

namespace gruq::ui {
namespace {

QString formatEta(double seconds) {
    const auto s = static_cast<qint64>(seconds + 0.5);
    if (s >= 3600) return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

}  // namespace

ProgressPanel::ProgressPanel(QWidget* parent) : QWidget(parent) {
    stage_ = new QLabel(tr("Idle"), this);
    stage_->setObjectName(QStringLiteral("stageLabel"));
    bar_ = new QProgressBar(this);
    bar_->setObjectName(QStringLiteral("progressBar"));
    bar_->setRange(0, 1);
    bar_->setValue(0);
    log_ = new QPlainTextEdit(this);
    log_->setObjectName(QStringLiteral("logView"));
    log_->setReadOnly(true);
    log_->setMaximumBlockCount(5000);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(stage_);
    layout->addWidget(bar_);
    layout->addWidget(log_, 1);
}

void ProgressPanel::showProgress(const QString& stage, qint64 done, qint64 total, double elapsedSeconds,
                                 const QString& detail) {
    if (total > 0) {
        bar_->setRange(0, int(std::min<qint64>(total, INT_MAX)));
        bar_->setValue(int(std::min(done, total)));
    } else {
        bar_->setRange(0, 0);  // busy indicator
    }
    QString text = stage;
    if (total > 0 && done > 0 && done < total) {
        text += tr(" · ETA %1").arg(formatEta(elapsedSeconds / double(done) * double(total - done)));
    }
    if (!detail.isEmpty()) text += QStringLiteral(" · ") + detail;
    stage_->setText(text);
}

void ProgressPanel::appendLog(const QString& line) {
    log_->appendPlainText(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss  ")) + line);
}

void ProgressPanel::setIdle() {
    stage_->setText(tr("Idle"));
    bar_->setRange(0, 1);
    bar_->setValue(0);
}

}  // namespace gruq::ui
