#pragma once
// Every setting of a search: task and data folder, model shape, genome layout and bit range, NSGA-II,
// QAT budget, seed and workers. Inputs are range-checked widgets; values are remembered (QSettings).
// Also hosts the run buttons (Start / Pause-Resume / Stop) and the data / float-model buttons.
#include "gruq/model/float_training.h"
#include "gruq/search/search.h"
#include "gruq/data/task_registry.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QFormLayout;
class QLabel;
class QLayout;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QPushButton;

namespace gruq::ui {

class SearchSettingsPanel : public QWidget {
    Q_OBJECT
public:
    explicit SearchSettingsPanel(QWidget* parent = nullptr);

    QString task() const;
    TaskLoadOptions loadOptions() const;
    FloatTrainConfig trainConfig() const;
    SearchSettings searchSettings() const;
    void setSearchSettings(const SearchSettings& settings);  // e.g. from an opened archive

    void setDataBusy(bool busy);                            // data / float-model work running
    void setSearchState(bool running, bool paused);         // updates Start / Pause / Stop
    void saveSettings() const;

signals:
    void loadRequested();
    void trainRequested();
    void cancelRequested();
    void startRequested();
    void pauseToggled();
    void stopRequested();

private slots:
    void browseFolder();
    void updateDefaultPathHint();
    void updateModelState();  // an imported model: no training settings, no normalisation

private:
    void restoreSettings();
    QSpinBox* spin(const char* name, int lo, int hi, int value, int step = 1);
    QDoubleSpinBox* doubleSpin(const char* name, double lo, double hi, double value, int decimals, double step);
    // A line edit for a file path with a "…" button opening a file dialog; objectName `name`.
    QLineEdit* fileRow(const char* name, const QString& caption, const QString& filter, QLayout*& row);

    QComboBox* task_;
    QLabel* pathLabel_;
    QLineEdit* path_;
    QSpinBox *hidden_, *layers_, *epochs_, *seed_;
    // Your own data (task npz) and model: shown only for that task.
    QFormLayout* taskForm_;
    QLayout *validationRow_, *testRow_, *modelRow_;
    QLineEdit *validationPath_, *testPath_, *modelPath_;
    QDoubleSpinBox* testFraction_;
    QCheckBox* normalize_;
    QCheckBox* multiFidelity_;
    QComboBox* objectives_;      // error + flash, error + latency, error + flash + latency
    QSpinBox* maxFlash_;         // bytes, 0 = no budget
    QDoubleSpinBox* maxLatency_; // µs per step, 0 = no budget
    QDoubleSpinBox* cpuMhz_;
    MultiFidelitySettings multiFidelitySettings_;  // rung and gain settings (from an archive or the defaults)
    QComboBox* layout_;
    QSpinBox *minBits_, *maxBits_, *population_, *generations_, *qatEpochs_, *qatSamples_, *workers_;
    QDoubleSpinBox *crossover_, *etaC_, *mutation_, *etaM_, *qatLr_, *qatRangeTracking_;
    QPushButton *load_, *train_, *cancel_, *start_, *pause_, *stop_;
    bool searchRunning_ = false;
};

}  // namespace gruq::ui
