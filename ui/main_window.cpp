#include "main_window.h"

#include "archive_follower.h"
#include "baseline_controller.h"
#include "data_summary_view.h"
#include "error_dialog.h"
#include "export_controller.h"
#include "fine_tune_controller.h"
#include "genes_view.h"
#include "hypervolume_plot.h"
#include "pareto_plot.h"
#include "progress_panel.h"
#include "scheme_inspector.h"
#include "search_controller.h"
#include "search_settings_panel.h"

#include "gruq/search/archive.h"
#include "gruq/base/errors.h"
#include "gruq/search/front_export.h"
#include "gruq/search/search.h"

#include <nlohmann/json.hpp>

#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QScrollArea>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>

namespace gruq::ui {
namespace {

constexpr int kMaxRecent = 8;

ArchivedIndividual frontKey(const IndividualRow& r) {
    ArchivedIndividual a;
    a.id = r.id;
    a.validationAccuracy = r.validationAccuracy;
    a.sizeFraction = r.sizeFraction;
    a.sizeBits = r.sizeBits;
    a.stepInstructions = r.stepInstructions;
    a.latencyFraction = r.latencyFraction;
    a.fidelity = r.fidelity;  // evaluations stopped at the rung stay off the front
    a.sourceId = r.sourceId;  // fine-tuned copies stay off the search's front
    return a;
}

// The default way to ask how long to fine-tune: a small dialog with the two numbers that matter.
std::optional<FineTuneChoice> askFineTuneChoice(QWidget* parent, const IndividualRow& row) {
    QDialog dialog(parent);
    dialog.setObjectName(QStringLiteral("fineTuneDialog"));
    dialog.setWindowTitle(QObject::tr("Fine-tune #%1").arg(row.id));
    auto* form = new QFormLayout(&dialog);
    auto* intro = new QLabel(QObject::tr("Quantization-aware training of this scheme over the whole training split, "
                                         "with a cosine learning-rate schedule. After each epoch the integer model is "
                                         "measured on the validation split; the best epoch is kept in the archive as a "
                                         "new point linked to #%1.")
                                 .arg(row.id),
                             &dialog);
    intro->setWordWrap(true);
    form->addRow(intro);
    const FineTuneChoice defaults;
    auto* epochs = new QSpinBox(&dialog);
    epochs->setRange(1, 1000);
    epochs->setValue(defaults.epochs);
    auto* patience = new QSpinBox(&dialog);
    patience->setRange(1, 1000);
    patience->setValue(defaults.patience);
    form->addRow(QObject::tr("Most epochs:"), epochs);
    form->addRow(QObject::tr("Stop after epochs without gain:"), patience);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(QObject::tr("Fine-tune"));
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted) return std::nullopt;
    return FineTuneChoice{epochs->value(), patience->value()};
}

bool isAllEight(const IndividualRow& r) {
    return r.baseline && !r.genes.isEmpty() && std::all_of(r.genes.begin(), r.genes.end(), [](int b) { return b == 8; });
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setObjectName(QStringLiteral("mainWindow"));
    settings_ = new SearchSettingsPanel(this);
    summary_ = new DataSummaryView(this);
    plot_ = new ParetoPlot(this);
    genes_ = new GenesView(this);
    hypervolume_ = new HypervolumePlot(this);
    progress_ = new ProgressPanel(this);
    inspector_ = new SchemeInspector(this);
    baseline_ = new BaselineController(this);
    search_ = new SearchController(this);
    export_ = new ExportController(this);
    fineTune_ = new FineTuneController(this);
    chooseFineTune_ = [this](const IndividualRow& row) { return askFineTuneChoice(this, row); };
    follower_ = new ArchiveFollower(this);

    auto* scroll = new QScrollArea(this);
    scroll->setWidget(settings_);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* settingsDock = new QDockWidget(tr("Search settings"), this);
    settingsDock->setObjectName(QStringLiteral("settingsDock"));
    settingsDock->setWidget(scroll);
    settingsDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, settingsDock);

    auto* tabs = new QTabWidget(this);
    tabs->setObjectName(QStringLiteral("detailTabs"));
    tabs->addTab(inspector_, tr("&Inspector"));
    tabs->addTab(summary_, tr("D&ata"));
    auto* detailDock = new QDockWidget(tr("Selected scheme"), this);
    detailDock->setObjectName(QStringLiteral("detailDock"));
    detailDock->setWidget(tabs);
    detailDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::RightDockWidgetArea, detailDock);

    auto* bottom = new QSplitter(Qt::Horizontal, this);
    bottom->addWidget(hypervolume_);
    bottom->addWidget(progress_);
    bottom->setStretchFactor(0, 1);
    bottom->setStretchFactor(1, 1);
    hypervolume_->setMinimumWidth(260);
    auto* views = new QTabWidget(this);
    views->setObjectName(QStringLiteral("frontViews"));
    views->addTab(plot_, tr("Pareto &front"));
    views->addTab(genes_, tr("&Genes"));
    auto* centre = new QSplitter(Qt::Vertical, this);
    centre->addWidget(views);
    centre->addWidget(bottom);
    centre->setStretchFactor(0, 3);
    centre->setStretchFactor(1, 1);
    centre->setSizes({560, 260});
    setCentralWidget(centre);
    resizeDocks({settingsDock, detailDock}, {360, 440}, Qt::Horizontal);

    statusLabel_ = new QLabel(tr("No search open"), this);
    statusLabel_->setObjectName(QStringLiteral("statusLabel"));
    statusBar()->addPermanentWidget(statusLabel_);
    createMenus();
    connectParts();
    setArchivePath(QString());
    resize(1500, 900);
}

MainWindow::~MainWindow() = default;

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New search"), QKeySequence::New, this, [this] {
        if (search_->isBusy()) return;
        follower_->stop();
        resetView();
        setArchivePath(QString());
    });
    file->addAction(tr("&Open archive…"), QKeySequence::Open, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open search archive"), defaultArchivePath(),
                                                          tr("gruq archives (*.gruq);;All files (*)"));
        if (!path.isEmpty()) openArchive(path);
    });
    recentMenu_ = file->addMenu(tr("Open &recent"));
    rebuildRecentMenu();
    resumeAction_ = file->addAction(tr("&Resume search"), QKeySequence(Qt::CTRL | Qt::Key_R), this, &MainWindow::resumeSearch);
    resumeAction_->setObjectName(QStringLiteral("resumeAction"));
    stopFollowingAction_ = file->addAction(tr("Stop &following"), this, &MainWindow::stopFollowing);
    stopFollowingAction_->setObjectName(QStringLiteral("stopFollowingAction"));
    stopFollowingAction_->setToolTip(tr("Stop showing what another process writes to this archive"));
    stopFollowingAction_->setEnabled(false);
    file->addSeparator();
    file->addAction(tr("Export front as &CSV…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export front"), QString(), tr("CSV (*.csv)"));
        if (!path.isEmpty()) exportFront(path.endsWith(QStringLiteral(".csv")) ? path : path + QStringLiteral(".csv"));
    });
    file->addAction(tr("Export front as &JSON…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export front"), QString(), tr("JSON (*.json)"));
        if (!path.isEmpty()) exportFront(path.endsWith(QStringLiteral(".json")) ? path : path + QStringLiteral(".json"));
    });
    file->addAction(tr("Export plot as P&NG…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), QString(), tr("PNG (*.png)"));
        if (!path.isEmpty()) exportPlot(path.endsWith(QStringLiteral(".png")) ? path : path + QStringLiteral(".png"));
    });
    file->addAction(tr("Export plot as P&DF…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), QString(), tr("PDF (*.pdf)"));
        if (!path.isEmpty()) exportPlot(path.endsWith(QStringLiteral(".pdf")) ? path : path + QStringLiteral(".pdf"));
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Search"));
    startAction_ = run->addAction(tr("&Start"), QKeySequence(Qt::CTRL | Qt::Key_Return), this, [this] { startSearch(QString()); });
    pauseAction_ = run->addAction(tr("&Pause / resume"), QKeySequence(Qt::CTRL | Qt::Key_P), this, [this] {
        search_->state() == SearchController::State::Paused ? search_->resumeRun() : search_->pause();
    });
    stopAction_ = run->addAction(tr("S&top"), QKeySequence(Qt::CTRL | Qt::Key_Period), search_, &SearchController::stop);
    run->addSeparator();
    run->addAction(tr("&Load data"), QKeySequence(Qt::CTRL | Qt::Key_L), this, &MainWindow::loadCurrentTask);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    auto* axisGroup = new QActionGroup(this);
    QAction* percent = view->addAction(tr("Size as %&of the 8-bit model"));
    QAction* bytes = view->addAction(tr("Size in &bytes"));
    QAction* latency = view->addAction(tr("&Latency (Cortex-M4 instructions per step)"));
    latency->setObjectName(QStringLiteral("latencyAxisAction"));
    for (QAction* a : {percent, bytes, latency}) {
        a->setCheckable(true);
        axisGroup->addAction(a);
    }
    percent->setChecked(true);
    percent->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    bytes->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
    latency->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_3));
    connect(percent, &QAction::triggered, this, [this] { plot_->setSizeAxis(ParetoPlot::SizeAxis::PercentOf8Bit); });
    connect(bytes, &QAction::triggered, this, [this] { plot_->setSizeAxis(ParetoPlot::SizeAxis::Bytes); });
    connect(latency, &QAction::triggered, this, [this] { plot_->setSizeAxis(ParetoPlot::SizeAxis::Latency); });
    view->addSeparator();
    QAction* colourByThird = view->addAction(tr("&Colour by the third objective"));
    colourByThird->setObjectName(QStringLiteral("colourByThirdAction"));
    colourByThird->setCheckable(true);
    colourByThird->setToolTip(tr("Colour the points by latency on a size axis, by size on the latency axis (else: by generation)"));
    connect(colourByThird, &QAction::toggled, this, [this](bool on) {
        plot_->setColourBy(on ? ParetoPlot::ColourBy::ThirdObjective : ParetoPlot::ColourBy::Generation);
    });
    view->addAction(tr("&Fit plot"), QKeySequence(Qt::CTRL | Qt::Key_0), plot_, &ParetoPlot::rescale);

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
    // Data and float model.
    connect(settings_, &SearchSettingsPanel::loadRequested, this, &MainWindow::loadCurrentTask);
    connect(settings_, &SearchSettingsPanel::trainRequested, this, [this] {
        settings_->saveSettings();
        baseline_->trainBaseline(settings_->task(), settings_->loadOptions(), settings_->trainConfig());
    });
    connect(settings_, &SearchSettingsPanel::cancelRequested, baseline_, &BaselineController::cancel);
    connect(baseline_, &BaselineController::busyChanged, settings_, &SearchSettingsPanel::setDataBusy);
    connect(baseline_, &BaselineController::progress, progress_, &ProgressPanel::showProgress);
    connect(baseline_, &BaselineController::busyChanged, this, [this](bool busy) {
        if (!busy && !search_->isBusy()) progress_->setIdle();
    });
    connect(baseline_, &BaselineController::logLine, progress_, &ProgressPanel::appendLog);
    connect(baseline_, &BaselineController::dataLoaded, summary_, &DataSummaryView::showSummary);
    connect(baseline_, &BaselineController::dataLoaded, this, [this](const DataSummary& s) {
        context_.classNames = s.classNames;
        inspector_->setContext(context_);
    });
    connect(baseline_, &BaselineController::baselineReady, summary_, &DataSummaryView::showBaseline);
    connect(baseline_, &BaselineController::baselineReady, this, [this](const BaselineResult& r) {
        if (rows_.isEmpty()) plot_->setFloatAccuracy(r.validationAccuracy);
    });
    connect(baseline_, &BaselineController::failed, this, [this](const QString& title, const QString& message) {
        progress_->appendLog(title + QStringLiteral(": ") + message);
        showError(this, title, message);
    });

    // Search.
    connect(settings_, &SearchSettingsPanel::startRequested, this, [this] { startSearch(QString()); });
    connect(settings_, &SearchSettingsPanel::pauseToggled, this, [this] {
        search_->state() == SearchController::State::Paused ? search_->resumeRun() : search_->pause();
    });
    connect(settings_, &SearchSettingsPanel::stopRequested, search_, &SearchController::stop);
    connect(search_, &SearchController::stateChanged, this, [this](SearchController::State s) {
        const bool running = s != SearchController::State::Idle;
        settings_->setSearchState(running, s == SearchController::State::Paused);
        pauseAction_->setEnabled(running);
        stopAction_->setEnabled(running);
        updateActions();
        if (!running) progress_->setIdle();
        statusLabel_->setText(running ? (s == SearchController::State::Paused ? tr("Paused") : tr("Searching…"))
                                      : (archivePath_.isEmpty() ? tr("No search open") : QFileInfo(archivePath_).fileName()));
    });
    connect(search_, &SearchController::prepared, this,
            [this](const QStringList& classes, double floatValidation, double floatTest) {
                context_.classNames = classes;
                context_.floatValidationAccuracy = floatValidation;
                context_.floatTestAccuracy = floatTest;
                inspector_->setContext(context_);
                plot_->setFloatAccuracy(floatValidation);
            });
    connect(search_, &SearchController::individualEvaluated, this, [this](const IndividualRow& row, bool) { addRow(row); });
    connect(search_, &SearchController::generationFinished, this, [this](const GenerationRow& g) {
        hypervolume_->addGeneration(g.generation, g.hypervolume);
    });
    connect(search_, &SearchController::progress, this, [this](const SearchProgress& p) {
        progress_->showProgress(QString::fromStdString(p.stage), p.evaluationsDone, p.evaluationsPlanned, p.elapsedSeconds,
                                tr("%1 computed, %2 reused").arg(p.computed).arg(p.reused));
    });
    connect(search_, &SearchController::logLine, progress_, &ProgressPanel::appendLog);
    connect(search_, &SearchController::finished, this, [this](bool, const QString& summary) {
        progress_->appendLog(summary);
        statusBar()->showMessage(summary, 10000);
        if (!archivePath_.isEmpty()) search_->preloadTask(archivePath_);
        // Test accuracies of the final front were written at the end: show them.
        if (!archivePath_.isEmpty()) {
            try {
                for (const auto& a : SearchArchive::open(archivePath_.toStdString(), true).individuals()) {
                    if (a.testAccuracy >= 0 && rows_.contains(a.id) && rows_[a.id].testAccuracy < 0) addRow(IndividualRow::from(a));
                }
            } catch (const std::exception&) {
            }
        }
    });
    connect(search_, &SearchController::failed, this, [this](const QString& title, const QString& message) {
        progress_->appendLog(title + QStringLiteral(": ") + message);
        showError(this, title, message);
    });
    connect(search_, &SearchController::confusionReady, inspector_, &SchemeInspector::setConfusion);

    // Selection.
    connect(plot_, &ParetoPlot::pointSelected, this, &MainWindow::selectIndividual);
    connect(genes_, &GenesView::individualSelected, this, &MainWindow::selectIndividual);
    connect(inspector_, &SchemeInspector::confusionRequested, this, [this](qint64 id) {
        if (rows_.contains(id) && !archivePath_.isEmpty()) search_->computeConfusion(archivePath_, rows_[id]);
    });
    chooseExportFolder_ = [this](qint64 id) {
        const QString start = QStandardPaths::writableLocation(QStandardPaths::HomeLocation);
        return QFileDialog::getExistingDirectory(this, tr("Export #%1 to folder").arg(id), start);
    };
    connect(inspector_, &SchemeInspector::exportRequested, this, [this](qint64 id) {
        const QString dir = chooseExportFolder_(id);
        if (!dir.isEmpty()) exportFirmware(id, dir);
    });
    connect(export_, &ExportController::progress, progress_, &ProgressPanel::showProgress);
    connect(export_, &ExportController::logLine, progress_, &ProgressPanel::appendLog);
    connect(export_, &ExportController::busyChanged, this, [this](bool busy) {
        if (!busy && !search_->isBusy()) progress_->setIdle();
    });
    connect(export_, &ExportController::exported, this, [this](qint64, const QString&, const QString& summary) {
        progress_->appendLog(summary.section('\n', 0, 0));
        auto* box = new QMessageBox(QMessageBox::Information, tr("Firmware exported"), summary, QMessageBox::Ok, this);
        box->setObjectName(QStringLiteral("exportDoneDialog"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setWindowModality(Qt::WindowModal);
        box->show();
    });
    connect(export_, &ExportController::failed, this, [this](const QString& title, const QString& message) {
        progress_->appendLog(title + QStringLiteral(": ") + message);
        showError(this, title, message);
    });
    connect(inspector_, &SchemeInspector::fineTuneRequested, this, &MainWindow::fineTuneIndividual);
    connect(inspector_, &SchemeInspector::fineTuneStopRequested, fineTune_, &FineTuneController::cancel);
    connect(fineTune_, &FineTuneController::busyChanged, this, [this](bool busy) {
        inspector_->setFineTuneRunning(busy);
        if (!busy && !search_->isBusy() && !export_->isBusy()) progress_->setIdle();
    });
    connect(fineTune_, &FineTuneController::progress, progress_, &ProgressPanel::showProgress);
    connect(fineTune_, &FineTuneController::logLine, progress_, &ProgressPanel::appendLog);
    connect(fineTune_, &FineTuneController::stored, this, &MainWindow::addRow);
    connect(fineTune_, &FineTuneController::finished, this, [this](qint64 tunedId, const QString& summary) {
        progress_->appendLog(summary);
        statusBar()->showMessage(summary.section('\n', 0, 0), 15000);
        selectIndividual(tunedId);
    });
    connect(fineTune_, &FineTuneController::failed, this, [this](const QString& title, const QString& message) {
        progress_->appendLog(title + QStringLiteral(": ") + message);
        showError(this, title, message);
    });
    connectFollower();
}

// An archive written by another process: the follower reports what it commits; this only shows it.
void MainWindow::connectFollower() {
    connect(follower_, &ArchiveFollower::individualsAdded, this, &MainWindow::addRows);
    connect(follower_, &ArchiveFollower::individualsUpdated, this, &MainWindow::addRows);  // test accuracy measured
    connect(follower_, &ArchiveFollower::generationsAdded, this, [this](const QVector<GenerationRow>& generations) {
        for (const auto& g : generations) hypervolume_->addGeneration(g.generation, g.hypervolume);
    });
    connect(follower_, &ArchiveFollower::statusChanged, this, [this](const QString& status) {
        const QString file = QFileInfo(follower_->path()).fileName();
        if (status == QStringLiteral("finished") || status == QStringLiteral("cancelled")) {
            const QString line = tr("The other process %1 the search in %2: %3 evaluations.")
                                     .arg(status == QStringLiteral("finished") ? tr("finished") : tr("stopped"), file)
                                     .arg(follower_->evaluations());
            progress_->appendLog(line);
            statusBar()->showMessage(line, 10000);
        } else if (status == QLatin1String(ArchiveFollower::kInterruptedStatus)) {
            const QString line = tr("The process writing %1 (%2) has ended without finishing the search; its %3 "
                                    "evaluations are kept. File ▸ Resume search continues it here.")
                                     .arg(file, follower_->deadWriter())
                                     .arg(follower_->evaluations());
            progress_->appendLog(line);
            statusBar()->showMessage(line, 30000);
        } else {
            progress_->appendLog(tr("%1: status %2.").arg(file, status));
        }
    });
    connect(follower_, &ArchiveFollower::polled, this, &MainWindow::updateFollowStatus);
    connect(follower_, &ArchiveFollower::followingChanged, this, [this](bool following) {
        updateActions();
        if (!following && !search_->isBusy() && !baseline_->isBusy() && !export_->isBusy()) progress_->setIdle();
        updateFollowStatus();
    });
    connect(follower_, &ArchiveFollower::failed, this, [this](const QString& title, const QString& message) {
        progress_->appendLog(title + QStringLiteral(": ") + message.section('\n', 0, 0));
        showError(this, title, message);
    });
}

bool MainWindow::isFollowing() const { return follower_->isFollowing(); }

void MainWindow::stopFollowing() {
    if (!follower_->isFollowing()) return;
    follower_->stop();
    progress_->appendLog(tr("Stopped following %1; what is shown stays. If its search has ended without finishing, "
                            "File ▸ Resume search continues it here.")
                             .arg(archivePath_));
}

void MainWindow::updateActions() {
    const bool busy = search_->isBusy();
    const bool following = follower_->isFollowing();
    startAction_->setEnabled(!busy && !following);
    resumeAction_->setEnabled(!busy && !following && !archivePath_.isEmpty());
    stopFollowingAction_->setEnabled(following);
    settings_->setEnabled(!following);  // read-only: the settings shown are the archive's
}

void MainWindow::updateFollowStatus() {
    if (!follower_->isFollowing()) {
        setWindowTitle(archivePath_.isEmpty() ? tr("gruq — mixed-precision GRU quantization")
                                              : tr("%1 — gruq").arg(QFileInfo(archivePath_).fileName()));
        statusLabel_->setText(archivePath_.isEmpty() ? tr("No search open") : QFileInfo(archivePath_).fileName());
        statusLabel_->setToolTip(QString());
        return;
    }
    const QString file = QFileInfo(follower_->path()).fileName();
    setWindowTitle(tr("%1 (following, read-only) — gruq").arg(file));
    const qint64 evaluations = follower_->evaluations();
    QString text = tr("Following %1 (written by another process) — %2 evaluations").arg(file).arg(evaluations);
    QString tip = follower_->path();
    if (!follower_->trouble().isEmpty()) {
        text += tr(" — cannot read it just now, retrying");
        tip += QStringLiteral("\n") + follower_->trouble();
    } else if (follower_->msSinceChange() >= 60000) {
        text += tr(" — no change for %1 min").arg(follower_->msSinceChange() / 60000);
        tip += QStringLiteral("\n") + tr("If the writing process has ended without finishing, File ▸ Stop following, "
                                          "then File ▸ Resume search continues the search here.");
    }
    statusLabel_->setText(text);
    statusLabel_->setToolTip(tip);
    if (search_->isBusy() || baseline_->isBusy() || export_->isBusy()) return;  // their progress has the panel
    const int generation = follower_->lastGeneration();
    const QString stage = generation < 0 ? tr("Following %1 · baselines").arg(file)
                                         : tr("Following %1 · generation %2/%3").arg(file).arg(generation).arg(plannedGenerations_);
    progress_->showProgress(stage, generation + 1, plannedGenerations_ + 1, follower_->lastGenerationSeconds(),
                            tr("%1 evaluations").arg(evaluations));
}

void MainWindow::resetView() {
    rows_.clear();
    context_.eightBit = IndividualRow();
    plot_->clearAll();
    genes_->select(0);
    genes_->setFront({});
    hypervolume_->clear();
    inspector_->clearSelection();
}

void MainWindow::addRows(const QVector<IndividualRow>& rows) {
    if (rows.isEmpty()) return;
    for (const auto& row : rows) {
        rows_.insert(row.id, row);
        plot_->addIndividual(row);
        if (isAllEight(row)) {
            context_.eightBit = row;
            inspector_->setContext(context_);
        }
        if (inspector_->currentId() == row.id) inspector_->showIndividual(row);
    }
    updateFront();  // once per batch
}

void MainWindow::addRow(const IndividualRow& row) {
    rows_.insert(row.id, row);
    plot_->addIndividual(row);
    if (isAllEight(row)) {
        context_.eightBit = row;
        inspector_->setContext(context_);
    }
    updateFront();
    if (inspector_->currentId() == row.id) inspector_->showIndividual(row);
}

void MainWindow::updateFront() {
    std::vector<ArchivedIndividual> keys;
    for (const auto& r : rows_) keys.push_back(frontKey(r));
    QVector<qint64> ids;
    QVector<IndividualRow> front;
    for (const auto& a : paretoFront(keys, context_.objectives)) {
        ids << a.id;
        front << rows_[a.id];
    }
    plot_->setFront(ids);
    genes_->setFront(front);
}

void MainWindow::setObjectives(const SearchObjectives& objectives) {
    context_.objectives = objectives;
    plot_->setObjectives(objectives);
    inspector_->setContext(context_);
}

void MainWindow::selectIndividual(qint64 id) {
    if (!rows_.contains(id)) return;
    plot_->select(id);
    genes_->select(id);
    inspector_->showIndividual(rows_[id]);
}

void MainWindow::loadCurrentTask() {
    settings_->saveSettings();
    baseline_->loadData(settings_->task(), settings_->loadOptions(), settings_->trainConfig());
}

QString MainWindow::defaultArchivePath() const {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/runs");
    QDir().mkpath(dir);
    return dir;
}

void MainWindow::startSearch(const QString& requestedPath) {
    if (search_->isBusy()) return;
    follower_->stop();  // the window shows one search: the new one
    SearchSettings settings = settings_->searchSettings();
    try {
        settings.validate();
    } catch (const std::exception& e) {
        showError(this, tr("Invalid settings"), QString::fromUtf8(e.what()));
        return;
    }
    settings_->saveSettings();
    const QString path = requestedPath.isEmpty()
                             ? defaultArchivePath() + QStringLiteral("/%1-%2.gruq")
                                                          .arg(QString::fromStdString(settings.task))
                                                          .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")))
                             : requestedPath;
    resetView();
    setObjectives(settings.objectives);
    plot_->setGenerations(settings.nsga2.generations);
    plannedGenerations_ = settings.nsga2.generations;
    setArchivePath(path);
    rememberRecent(path);
    progress_->appendLog(tr("New search → %1").arg(path));
    search_->start(settings, path);
}

bool MainWindow::openArchive(const QString& path) {
    if (search_->isBusy()) {
        showError(this, tr("A search is running"), tr("Stop the running search before opening another archive."));
        return false;
    }
    try {
        // The system's bytes of the name (it may not be UTF-8); Qt shows such bytes as U+FFFD.
        const std::string file = QFile::encodeName(path).toStdString();
        if (path.contains(QChar::ReplacementCharacter) && !QFileInfo::exists(path)) {
            throw InputError(file, "the file name is not valid UTF-8 and cannot be opened from here; rename the file");
        }
        const SearchArchive archive = SearchArchive::open(file, /*readOnly=*/true);
        const SearchSettings settings = settingsOfArchive(archive);
        // The status first: once it is final, everything the writer stored is in what is read below.
        const QString status = QString::fromStdString(archive.state("status").value_or(""));
        // Read everything before touching the view: a damaged archive leaves the current one shown.
        const std::vector<ArchivedIndividual> individuals = archive.individuals();
        const auto generations = archive.generations();
        follower_->stop();
        resetView();
        settings_->setSearchSettings(settings);
        setObjectives(settings.objectives);
        plot_->setGenerations(settings.nsga2.generations);
        plannedGenerations_ = settings.nsga2.generations;
        const auto floatModel = nlohmann::json::parse(archive.floatModelJson(), nullptr, false);
        if (floatModel.is_object()) {
            context_.floatValidationAccuracy = floatModel.value("validation_accuracy", -1.0);
            context_.floatTestAccuracy = floatModel.value("test_accuracy", -1.0);
            if (context_.floatValidationAccuracy >= 0) plot_->setFloatAccuracy(context_.floatValidationAccuracy);
        }
        QVector<IndividualRow> rows;
        for (const auto& a : individuals) rows << IndividualRow::from(a);
        addRows(rows);
        for (const auto& g : generations) hypervolume_->addGeneration(g.generation, g.hypervolume);
        plot_->rescale();
        inspector_->setContext(context_);
        setArchivePath(path);
        rememberRecent(path);
        progress_->appendLog(tr("Opened %1: %2 evaluations, %3 generations, status %4.")
                                 .arg(path)
                                 .arg(rows.size())
                                 .arg(generations.size())
                                 .arg(status.isEmpty() ? tr("unknown") : status));
        const QString deadWriter = ArchiveFollower::deadWriterOf(archive);
        if (!deadWriter.isEmpty()) {
            progress_->appendLog(tr("The process that wrote this search (%1) ended without finishing it: File ▸ "
                                    "Resume search continues it.")
                                     .arg(deadWriter));
        } else if (ArchiveFollower::isLiveStatus(status, archive.schemaVersion())) {
            // Another process is (or may be) writing it: show its progress live, read-only.
            ArchiveFollower::Position from;
            from.lastId = rows.isEmpty() ? 0 : rows.constLast().id;
            from.lastGeneration = generations.empty() ? -1 : generations.back().generation;
            from.status = status;
            follower_->follow(path, from);
            progress_->appendLog(tr("This search is still being written: following it live, read-only "
                                    "(File ▸ Stop following ends that)."));
        } else if (status != QStringLiteral("finished")) {
            progress_->appendLog(tr("This search is not finished: File ▸ Resume search continues it."));
        }
        return true;
    } catch (const std::exception& e) {
        showError(this, tr("Cannot open archive"), QString::fromUtf8(e.what()));
        return false;
    }
}

void MainWindow::resumeSearch() {
    if (search_->isBusy() || archivePath_.isEmpty()) return;
    if (follower_->isFollowing()) {
        progress_->appendLog(tr("%1 is being written by another process; File ▸ Stop following first if that "
                                "process has ended.")
                                 .arg(archivePath_));
        return;
    }
    progress_->appendLog(tr("Resuming %1 (stored evaluations are reused).").arg(archivePath_));
    search_->resume(archivePath_, settings_->searchSettings().workers);
}

void MainWindow::fineTuneIndividual(qint64 id) {
    if (archivePath_.isEmpty() || !rows_.contains(id)) {
        showError(this, tr("Nothing to fine-tune"), tr("Select a point of an open search first."));
        return;
    }
    // The archive must be ours to write: not one another process is filling, not one our search fills.
    if (follower_->isFollowing()) {
        showError(this, tr("Archive followed read-only"),
                  tr("%1 is being written by another process and is shown read-only. Fine-tune its schemes when that "
                     "search has finished (or File ▸ Stop following if the process has ended).")
                      .arg(archivePath_));
        return;
    }
    if (search_->isBusy()) {
        showError(this, tr("Search running"), tr("Fine-tune a scheme when the search has finished or been stopped."));
        return;
    }
    if (fineTune_->isBusy()) return;
    const std::optional<FineTuneChoice> choice = chooseFineTune_(rows_[id]);
    if (!choice) return;
    progress_->appendLog(tr("Fine-tuning #%1: up to %2 epochs, stopping after %3 without gain...")
                             .arg(id)
                             .arg(choice->epochs)
                             .arg(choice->patience));
    fineTune_->fineTune(archivePath_, id, *choice);
}

void MainWindow::exportFirmware(qint64 id, const QString& directory) {
    if (archivePath_.isEmpty() || !rows_.contains(id)) {
        showError(this, tr("Nothing to export"), tr("Select a point of an open or running search first."));
        return;
    }
    if (export_->isBusy()) {
        showError(this, tr("Export running"), tr("Wait for the current export to finish."));
        return;
    }
    if (QFileInfo::exists(QDir(directory).filePath(QStringLiteral("model.bin"))) &&
        QMessageBox::question(this, tr("Replace export?"),
                              tr("%1 already holds an exported model. Replace it?").arg(directory)) != QMessageBox::Yes) {
        return;
    }
    progress_->appendLog(tr("Exporting #%1 to %2 (rebuilding its integer model)...").arg(id).arg(directory));
    export_->exportIndividual(archivePath_, id, directory);
}

bool MainWindow::exportFront(const QString& path) {
    if (archivePath_.isEmpty()) {
        showError(this, tr("Nothing to export"), tr("Open or run a search first."));
        return false;
    }
    try {
        const SearchArchive archive = SearchArchive::open(QFile::encodeName(archivePath_).toStdString(), /*readOnly=*/true);
        const auto front = paretoFront(archive.individuals(), settingsOfArchive(archive).objectives);
        saveIndividuals(QFile::encodeName(path).toStdString(), front);  // whole or not at all (temp + rename)
        progress_->appendLog(tr("Front (%1 schemes) exported to %2").arg(front.size()).arg(path));
        return true;
    } catch (const std::exception& e) {
        showError(this, tr("Cannot export"), QString::fromUtf8(e.what()));
        return false;
    }
}

bool MainWindow::exportPlot(const QString& path) {
    const bool ok = path.endsWith(QStringLiteral(".pdf"), Qt::CaseInsensitive) ? plot_->savePdf(path) : plot_->savePng(path);
    if (!ok) showError(this, tr("Cannot export"), tr("%1: could not write the plot").arg(path));
    else progress_->appendLog(tr("Plot exported to %1").arg(path));
    return ok;
}

void MainWindow::setArchivePath(const QString& path) {
    archivePath_ = path;
    // The first click on a point then finds the task data read (a running search would compete for it).
    if (!path.isEmpty() && !search_->isBusy()) search_->preloadTask(path);
    if (resumeAction_) updateActions();
    updateFollowStatus();
}

void MainWindow::rememberRecent(const QString& path) {
    QSettings s;
    QStringList recent = s.value(QStringLiteral("archives/recent")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent) recent.removeLast();
    s.setValue(QStringLiteral("archives/recent"), recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    recentMenu_->clear();
    const QStringList recent = QSettings().value(QStringLiteral("archives/recent")).toStringList();
    for (const QString& path : recent) {
        recentMenu_->addAction(QFileInfo(path).fileName(), this, [this, path] { openArchive(path); })->setToolTip(path);
    }
    recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    settings_->saveSettings();
    follower_->stop();
    baseline_->cancel();
    fineTune_->cancel();  // its best epoch so far is already in the archive
    search_->stop();  // cooperative: finished evaluations are already in the archive
    event->accept();
}

}  // namespace gruq::ui
