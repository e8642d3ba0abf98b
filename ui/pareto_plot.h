#pragma once
// The live accuracy / model-size plot: every evaluated individual (coloured by generation), the current
// front as a step line, the homogeneous baselines as labelled markers, the float accuracy as a line.
// Hover shows a tooltip, a click selects the nearest point (pointSelected), wheel zooms, drag pans.
#include "search_types.h"

#include "gruq/search/objectives.h"

#include <QHash>
#include <QMap>
#include <QWidget>

class QCustomPlot;
class QCPItemStraightLine;
class QCPItemLine;
class QCPItemText;
class QCPGraph;
class QCPColorScale;
class QMouseEvent;

namespace gruq::ui {

class ParetoPlot : public QWidget {
    Q_OBJECT
public:
    // What the x axis shows: the model's size (% of the 8-bit model, or bytes) or its latency (Cortex-M4
    // instructions per GRU step, thousands; docs/latency.md).
    enum class SizeAxis { PercentOf8Bit, Bytes, Latency };
    Q_ENUM(SizeAxis)
    // What the points' colour shows: the generation, or the objective neither axis shows (latency on a
    // size axis, size on the latency axis), as % of the 8-bit model's.
    enum class ColourBy { Generation, ThirdObjective };
    Q_ENUM(ColourBy)

    explicit ParetoPlot(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }

    int pointCount() const { return rows_.size(); }
    bool contains(qint64 id) const { return rows_.contains(id); }
    QVector<qint64> frontIds() const { return frontIds_; }
    qint64 selectedId() const { return selected_; }
    SizeAxis sizeAxis() const { return sizeAxis_; }
    ColourBy colourBy() const { return colourBy_; }
    QString colourLabel() const;
    // Widget pixel position of a point (for tests and tooltips); (-1,-1) when unknown.
    QPointF pixelOf(qint64 id) const;
    int fineTuneArrowCount() const { return fineTuneArrows_.size(); }
    int partialPointCount() const;  // drawn as rings: evaluations stopped at the multi-fidelity rung
    bool legendShows(const QString& name) const;
    int infeasiblePointCount() const;     // drawn grey: over a flash or latency budget
    bool budgetLineVisible() const;       // the budget of the x axis' quantity, as a vertical line
    double budgetLineX() const;           // its x (axis units)
    // The id nearest to a widget pixel within maxDistance pixels, or 0.
    qint64 idNear(const QPointF& pixel, double maxDistance = 12.0) const;

    bool savePng(const QString& path, int width = 1600, int height = 1000);
    bool savePdf(const QString& path);

public slots:
    void addIndividual(const gruq::ui::IndividualRow& row);
    void setFront(const QVector<qint64>& ids);
    void setGenerations(int generations);  // colour scale range
    void setFloatAccuracy(double accuracy);
    void clearFloatAccuracy();
    void setSizeAxis(gruq::ui::ParetoPlot::SizeAxis axis);
    void setColourBy(gruq::ui::ParetoPlot::ColourBy colour);
    // The search's objectives and budgets: points over a budget are greyed, the budget drawn as a line;
    // with latency among the objectives the front is not a line in one plane and is drawn as rings.
    void setObjectives(const gruq::SearchObjectives& objectives);
    void select(qint64 id);
    void clearAll();
    void rescale();

signals:
    void pointSelected(qint64 id);

private:
    double xOf(const IndividualRow& r) const;
    bool feasible(const IndividualRow& r) const;
    void updateBudgetLine();
    double yOf(const IndividualRow& r) const { return 100.0 * r.validationAccuracy; }
    // Full evaluations as filled discs, those stopped at the multi-fidelity rung as small rings.
    QCPGraph* graphForGeneration(int generation, bool partial);
    QColor colourForGeneration(int generation) const;  // a colour key: generation, or a bin of the third objective
    int colourKeyOf(const IndividualRow& r) const;
    void updateColourScale();
    void rebuild();
    void updateFrontLine();
    void updateSelectionMarker();
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);

    QCustomPlot* plot_;
    QCPColorScale* colourScale_;
    QCPGraph* frontLine_;
    QCPGraph* baselineGraph_;
    QCPGraph* selectionGraph_;
    QCPGraph* fineTuneGraph_;
    QList<QCPItemLine*> fineTuneArrows_;
    QCPItemStraightLine* floatLine_;
    QCPItemText* floatLabel_;
    QCPItemText* hint_;
    QList<QCPItemText*> baselineLabels_;
    QMap<QPair<int, bool>, QCPGraph*> generationGraphs_;
    QCPGraph* partialLegend_ = nullptr;
    QCPGraph* infeasibleGraph_ = nullptr;
    QCPItemStraightLine* budgetLine_ = nullptr;
    QCPItemText* budgetLabel_ = nullptr;
    SearchObjectives objectives_;
    QMap<qint64, IndividualRow> rows_;
    QVector<qint64> frontIds_;
    qint64 selected_ = 0;
    int generations_ = 20;
    bool autoFit_ = true;  // follow new points until the user zooms or pans; "Fit plot" turns it back on
    double floatAccuracy_ = -1;
    SizeAxis sizeAxis_ = SizeAxis::PercentOf8Bit;
    ColourBy colourBy_ = ColourBy::Generation;
};

}  // namespace gruq::ui
