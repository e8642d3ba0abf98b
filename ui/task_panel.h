#pragma once
// Settings for the task and the float baseline: task, data folder, model shape, training budget.
// Remembered between runs with QSettings.
#include "gruq/float_training.h"
#include "gruq/task_registry.h"

#include <QWidget>

class QComboBox;
class QLineEdit;
class QSpinBox;
class QPushButton;
class QLabel;

namespace gruq::ui {

class TaskPanel : public QWidget {
    Q_OBJECT
public:
    explicit TaskPanel(QWidget* parent = nullptr);

    QString task() const;
    TaskLoadOptions loadOptions() const;
    FloatTrainConfig trainConfig() const;
    void setBusy(bool busy);
    void saveSettings() const;

signals:
    void loadRequested();
    void trainRequested();
    void cancelRequested();

private slots:
    void browseFolder();
    void updateDefaultPathHint();

private:
    void restoreSettings();

    QComboBox* task_;
    QLineEdit* path_;
    QSpinBox* hidden_;
    QSpinBox* epochs_;
    QSpinBox* seed_;
    QPushButton* load_;
    QPushButton* train_;
    QPushButton* cancel_;
};

}  // namespace gruq::ui
