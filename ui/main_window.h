#pragma once
// The main window only assembles the parts: task panel, data summary, plot, progress/log, and the
// controller that runs core work off the GUI thread.
#include <QMainWindow>

namespace gruq::ui {

class TaskPanel;
class DataSummaryView;
class ParetoPlot;
class ProgressPanel;
class BaselineController;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    BaselineController* controller() const { return controller_; }

public slots:
    void loadCurrentTask();  // called once at start: shows the default (or last used) task's data

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createMenus();
    void connectParts();

    TaskPanel* taskPanel_;
    DataSummaryView* summary_;
    ParetoPlot* plot_;
    ProgressPanel* progress_;
    BaselineController* controller_;
};

}  // namespace gruq::ui
