#pragma once
// Inspector of one evaluated genome (the point clicked in the Pareto plot): the cell diagram coloured
// by bit width, the gene table, accuracy / size metrics against the 8-bit and float references, and
// the confusion matrix (computed by the controller in the background, shown when it arrives).
#include "search_types.h"

#include "gruq/quant/genome.h"

#include <QVector>
#include <QWidget>

class QLabel;
class QPushButton;
class QTabBar;
class QTableWidget;

namespace gruq::ui {

class CellDiagram;
class LayerStrip;

class SchemeInspector : public QWidget {
    Q_OBJECT
public:
    explicit SchemeInspector(QWidget* parent = nullptr);

    void setContext(const InspectorContext& context);
    // Shows a row; emits confusionRequested(id) when it is a different individual than the one shown.
    void showIndividual(const IndividualRow& row);
    void clearSelection();
    // While a fine-tune runs, its button stops it (and says so).
    void setFineTuneRunning(bool running);
    // Rows: true class, columns: predicted class. Ignored unless `individualId` is the one shown.
    void setConfusion(qint64 individualId, const QVector<QVector<int>>& matrix);

    qint64 currentId() const { return currentValid_ ? current_.id : 0; }  // 0 when none or invalid
    const CellDiagram* diagram() const { return diagram_; }
    // Stacked models: the layer the diagram shows (0-based); picked with the layer tabs or the strip.
    int shownLayer() const { return shownLayer_; }
    void showLayer(int layer);

signals:
    void exportRequested(qint64 id);
    void fineTuneRequested(qint64 id);   // the button while no fine-tune runs
    void fineTuneStopRequested();        // the same button while one runs
    void confusionRequested(qint64 id);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void showHeader();
    void showGenes();
    void showMetrics();
    void resetConfusion(const QString& placeholder);
    void fitTableHeight(QTableWidget* table);

    InspectorContext context_;
    IndividualRow current_;
    gruq::LayerBits currentBits_;           // every layer's bits of the shown genome
    const gruq::GenomeLayout* currentLayout_ = nullptr;
    int shownLayer_ = 0;
    bool currentValid_ = false;
    QString error_;  // why the current row cannot be shown

    QLabel* header_ = nullptr;
    QPushButton* exportButton_ = nullptr;
    QPushButton* fineTuneButton_ = nullptr;
    bool fineTuneRunning_ = false;
    QTabBar* layerTabs_ = nullptr;   // one tab per layer; hidden for one layer
    LayerStrip* layerStrip_ = nullptr;
    CellDiagram* diagram_ = nullptr;
    QLabel* metrics_ = nullptr;
    QTableWidget* genes_ = nullptr;
    QLabel* confusionPlaceholder_ = nullptr;
    QTableWidget* confusion_ = nullptr;
};

}  // namespace gruq::ui
