#pragma once
// Progress of the running work (stage, bar, ETA) above a log of what happened.
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QProgressBar;

namespace gruq::ui {

class ProgressPanel : public QWidget {
    Q_OBJECT
public:
    explicit ProgressPanel(QWidget* parent = nullptr);

public slots:
    void showProgress(const QString& stage, qint64 done, qint64 total, double elapsedSeconds, const QString& detail);
    void appendLog(const QString& line);
    void setIdle();

private:
    QLabel* stage_;
    QProgressBar* bar_;
    QPlainTextEdit* log_;
};

}  // namespace gruq::ui
