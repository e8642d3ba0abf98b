#pragma once
// The main window only assembles the parts and routes signals between them: settings panel, Pareto
// plot, hypervolume plot, progress/log, scheme inspector, data summary, and the two controllers that run
// core work off the GUI thread (plus the firmware export controller). Archive files (open, recent, export) are handled here too.
// An opened archive that another process is still writing is followed live (ArchiveFollower), read-only.
#include "fine_tune_controller.h"
#include "search_types.h"

#include <QMainWindow>

#include <functional>
#include <optional>
#include <QMap>

class QAction;
class QMenu;
class QLabel;

namespace gruq::ui {

class SearchSettingsPanel;
class DataSummaryView;
class ParetoPlot;
class HypervolumePlot;
class ProgressPanel;
class SchemeInspector;
class BaselineController;
class SearchController;
class ExportController;
class ArchiveFollower;
class GenesView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    BaselineController* controller() const { return baseline_; }
    SearchController* searchController() const { return search_; }
    ExportController* exportController() const { return export_; }
    FineTuneController* fineTuneController() const { return fineTune_; }
    ArchiveFollower* follower() const { return follower_; }
    bool isFollowing() const;
    ParetoPlot* paretoPlot() const { return plot_; }
    GenesView* genesView() const { return genes_; }
    SchemeInspector* inspector() const { return inspector_; }
    SearchSettingsPanel* settingsPanel() const { return settings_; }
    QString archivePath() const { return archivePath_; }
    // How the Export firmware button asks for a folder (default: a folder dialog); empty = cancelled.
    void setExportFolderChooser(std::function<QString(qint64 id)> chooser) { chooseExportFolder_ = std::move(chooser); }
    // How Fine-tune asks for epochs and patience (default: a dialog); nullopt = cancelled.
    using FineTuneChooser = std::function<std::optional<FineTuneChoice>(const IndividualRow& row)>;
    void setFineTuneChooser(FineTuneChooser chooser) { chooseFineTune_ = std::move(chooser); }

public slots:
    void loadCurrentTask();                        // data summary + cached float model of the settings
    void startSearch(const QString& archivePath);  // empty = a new file in the runs folder
    bool openArchive(const QString& path);         // shows a stored search; false (and a dialog) on error;
                                                   // follows it live while another process writes it
    void stopFollowing();                          // keeps what is shown; Resume becomes available
    void resumeSearch();                           // continues the open archive
    bool exportFront(const QString& path);         // .csv or .json by extension
    bool exportPlot(const QString& path);          // .png or .pdf by extension
    void selectIndividual(qint64 id);              // plot highlight + inspector
    // Firmware folder of an individual of the open archive (asks before replacing an earlier export).
    void exportFirmware(qint64 id, const QString& directory);
    // Fine-tune of an individual of the open archive (refused while it is followed or searched).
    void fineTuneIndividual(qint64 id);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void createMenus();
    void connectParts();
    void resetView();
    void addRow(const IndividualRow& row);
    void addRows(const QVector<IndividualRow>& rows);
    void connectFollower();
    void updateFollowStatus();
    void updateActions();
    void updateFront();
    void setObjectives(const SearchObjectives& objectives);  // front, budgets on the plot, inspector
    void setArchivePath(const QString& path);
    void rememberRecent(const QString& path);
    void rebuildRecentMenu();
    QString defaultArchivePath() const;

    SearchSettingsPanel* settings_;
    DataSummaryView* summary_;
    ParetoPlot* plot_;
    GenesView* genes_;
    HypervolumePlot* hypervolume_;
    ProgressPanel* progress_;
    SchemeInspector* inspector_;
    BaselineController* baseline_;
    SearchController* search_;
    ExportController* export_;
    FineTuneController* fineTune_;
    ArchiveFollower* follower_;
    QLabel* statusLabel_;
    QMenu* recentMenu_ = nullptr;
    QAction* resumeAction_ = nullptr;
    QAction* pauseAction_ = nullptr;
    QAction* stopAction_ = nullptr;
    QAction* startAction_ = nullptr;
    QAction* stopFollowingAction_ = nullptr;

    std::function<QString(qint64)> chooseExportFolder_;
    FineTuneChooser chooseFineTune_;
    QString archivePath_;
    QMap<qint64, IndividualRow> rows_;
    int plannedGenerations_ = 0;       // of the shown search (progress while following)
    InspectorContext context_;
};

}  // namespace gruq::ui
