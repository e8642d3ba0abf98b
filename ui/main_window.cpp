#include "main_window.h"

#include "baseline_controller.h"
#include "data_summary_view.h"
#include "error_dialog.h"
#include "pareto_plot.h"
#include "progress_panel.h"
#include "task_panel.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

namespace gruq::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(tr("gruq — mixed-precision GRU quantization"));
    setObjectName(QStringLiteral("mainWindow"));

    taskPanel_ = new TaskPanel(this);
    summary_ = new DataSummaryView(this);
    plot_ = new ParetoPlot(this);
    progress_ = new ProgressPanel(this);
    controller_ = new BaselineController(this);

    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->addWidget(taskPanel_);
    leftLayout->addWidget(summary_, 1);
    auto* settingsDock = new QDockWidget(tr("Task"), this);
    settingsDock->setObjectName(QStringLiteral("taskDock"));
    settingsDock->setWidget(left);
    settingsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, settingsDock);

    auto* centre = new QSplitter(Qt::Vertical, this);
    centre->addWidget(plot_);
    centre->addWidget(progress_);
    centre->setStretchFactor(0, 3);
    centre->setStretchFactor(1, 1);
    centre->setSizes({560, 200});
    setCentralWidget(centre);

    createMenus();
    connectParts();
    statusBar()->showMessage(tr("Ready"));
    resize(1280, 800);
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Load data"), QKeySequence(Qt::CTRL | Qt::Key_L), this, &MainWindow::loadCurrentTask);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About gruq"), this, [this] {
        QMessageBox::about(this, tr("About gruq"),
                           tr("<b>gruq %1</b><br>Finds mixed-precision (2–8 bit) integer quantization schemes for "
                              "GRU networks with NSGA-II and exports them for microcontrollers.<br>"
                              "Method: Miccini et al., arXiv 2402.12263.")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::connectParts() {
    connect(taskPanel_, &TaskPanel::loadRequested, this, &MainWindow::loadCurrentTask);
    connect(taskPanel_, &TaskPanel::trainRequested, this, [this] {
        taskPanel_->saveSettings();
        plot_->clearFloatAccuracy();
        controller_->trainBaseline(taskPanel_->task(), taskPanel_->loadOptions(), taskPanel_->trainConfig());
    });
    connect(taskPanel_, &TaskPanel::cancelRequested, controller_, &BaselineController::cancel);

    connect(controller_, &BaselineController::busyChanged, taskPanel_, &TaskPanel::setBusy);
    connect(controller_, &BaselineController::busyChanged, this, [this](bool busy) {
        if (!busy) progress_->setIdle();
        statusBar()->showMessage(busy ? tr("Working…") : tr("Ready"));
    });
    connect(controller_, &BaselineController::progress, progress_, &ProgressPanel::showProgress);
    connect(controller_, &BaselineController::logLine, progress_, &ProgressPanel::appendLog);
    connect(controller_, &BaselineController::dataLoaded, summary_, &DataSummaryView::showSummary);
    connect(controller_, &BaselineController::baselineReady, summary_, &DataSummaryView::showBaseline);
    connect(controller_, &BaselineController::baselineReady, this,
            [this](const BaselineResult& r) { plot_->setFloatAccuracy(r.validationAccuracy); });
    connect(controller_, &BaselineController::failed, this, [this](const QString& title, const QString& message) {
        progress_->appendLog(title + QStringLiteral(": ") + message);
        showError(this, title, message);
    });
}

void MainWindow::loadCurrentTask() {
    taskPanel_->saveSettings();
    controller_->loadData(taskPanel_->task(), taskPanel_->loadOptions(), taskPanel_->trainConfig());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    taskPanel_->saveSettings();
    controller_->cancel();
    event->accept();
}

}  // namespace gruq::ui
