#include "pareto_plot.h"

#include <qcustomplot.h>

#include <QToolTip>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace gruq::ui {

ParetoPlot::ParetoPlot(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName(QStringLiteral("paretoPlot"));
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot_->yAxis->setLabel(tr("Validation accuracy (%, integer engine)"));
    plot_->setMouseTracking(true);

    colourScale_ = new QCPColorScale(plot_);
    colourScale_->setType(QCPAxis::atRight);
    colourScale_->setLabel(tr("generation"));
    colourScale_->setBarWidth(10);
    QCPColorGradient gradient(QCPColorGradient::gpHot);
    gradient.setColorStopAt(0.0, QColor(68, 1, 84));     // viridis-like: early = dark, late = bright
    gradient.setColorStopAt(0.5, QColor(33, 145, 140));
    gradient.setColorStopAt(1.0, QColor(253, 231, 37));
    colourScale_->setGradient(gradient);
    colourScale_->setDataRange(QCPRange(0, generations_));
    plot_->plotLayout()->addElement(0, 1, colourScale_);
    auto* margins = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    colourScale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    frontLine_ = plot_->addGraph();
    frontLine_->setName(tr("front"));
    frontLine_->setLineStyle(QCPGraph::lsStepLeft);
    frontLine_->setPen(QPen(QColor(220, 50, 47), 2));
    baselineGraph_ = plot_->addGraph();
    baselineGraph_->setName(tr("homogeneous"));
    baselineGraph_->setLineStyle(QCPGraph::lsNone);
    baselineGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(Qt::black, 1.5), QColor(255, 255, 255), 11));
    fineTuneGraph_ = plot_->addGraph();
    fineTuneGraph_->setName(tr("fine-tuned"));
    fineTuneGraph_->setLineStyle(QCPGraph::lsNone);
    fineTuneGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssStar, QPen(QColor(0, 140, 70), 2.5), Qt::NoBrush, 14));
    partialLegend_ = plot_->addGraph();  // legend entry only: shown once a search stops genomes at the rung
    partialLegend_->setName(tr("stopped at the rung"));
    partialLegend_->setLineStyle(QCPGraph::lsNone);
    partialLegend_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(90, 90, 90), 1), Qt::NoBrush, 5));
    partialLegend_->removeFromLegend();
    infeasibleGraph_ = plot_->addGraph();  // in the legend once a budget excludes a point
    infeasibleGraph_->setName(tr("over the budget"));
    infeasibleGraph_->setLineStyle(QCPGraph::lsNone);
    infeasibleGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QPen(QColor(170, 170, 170), 1), QColor(215, 215, 215), 6));
    infeasibleGraph_->removeFromLegend();
    selectionGraph_ = plot_->addGraph();
    selectionGraph_->setLineStyle(QCPGraph::lsNone);
    selectionGraph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(0, 120, 215), 2.5), Qt::NoBrush, 18));

    budgetLine_ = new QCPItemStraightLine(plot_);
    budgetLine_->setPen(QPen(QColor(200, 90, 0), 1.5, Qt::DashDotLine));
    budgetLine_->setVisible(false);
    budgetLabel_ = new QCPItemText(plot_);
    budgetLabel_->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    budgetLabel_->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);  // beside the line, below the float line
    budgetLabel_->setPadding(QMargins(4, 0, 0, 0));
    budgetLabel_->setColor(QColor(200, 90, 0));
    budgetLabel_->setVisible(false);
    floatLine_ = new QCPItemStraightLine(plot_);
    floatLine_->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
    floatLine_->setVisible(false);
    floatLabel_ = new QCPItemText(plot_);
    floatLabel_->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
    floatLabel_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    floatLabel_->setColor(QColor(90, 90, 90));
    floatLabel_->setVisible(false);
    hint_ = new QCPItemText(plot_);
    hint_->position->setType(QCPItemPosition::ptAxisRectRatio);
    hint_->position->setCoords(0.5, 0.5);
    hint_->setText(tr("Start a search or open an archive: every evaluated scheme appears here."));
    hint_->setColor(QColor(140, 140, 140));

    plot_->legend->setVisible(true);
    plot_->legend->setFont(QFont(font().family(), 8));
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);
    selectionGraph_->removeFromLegend();

    connect(plot_, &QCustomPlot::mouseMove, this, &ParetoPlot::onMouseMove);
    connect(plot_, &QCustomPlot::mouseWheel, this, [this] { autoFit_ = false; });
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        if (e->buttons() & Qt::LeftButton) autoFit_ = false;  // a drag pans
    });
    connect(plot_, &QCustomPlot::mousePress, this, &ParetoPlot::onMousePress);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
    setSizeAxis(SizeAxis::PercentOf8Bit);
}

double ParetoPlot::xOf(const IndividualRow& r) const {
    switch (sizeAxis_) {
    case SizeAxis::PercentOf8Bit: return 100.0 * r.sizeFraction;
    case SizeAxis::Bytes: return double(r.sizeBytes());
    case SizeAxis::Latency: return r.stepInstructions / 1000.0;
    }
    return 0;
}

bool ParetoPlot::feasible(const IndividualRow& r) const {
    return objectives_.violation(r.sizeBytes(), r.stepInstructions) == 0;
}

int ParetoPlot::infeasiblePointCount() const { return infeasibleGraph_->dataCount(); }

bool ParetoPlot::budgetLineVisible() const { return budgetLine_->visible(); }

double ParetoPlot::budgetLineX() const { return budgetLine_->point1->coords().x(); }

void ParetoPlot::setObjectives(const SearchObjectives& objectives) {
    objectives_ = objectives;
    frontLine_->setLineStyle(objectives.latency ? QCPGraph::lsNone : QCPGraph::lsStepLeft);
    frontLine_->setScatterStyle(objectives.latency ? QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(220, 50, 47), 2), Qt::NoBrush, 11)
                                                   : QCPScatterStyle());
    rebuild();
}

void ParetoPlot::updateBudgetLine() {
    double x = -1;
    QString text;
    if (sizeAxis_ == SizeAxis::Latency && objectives_.maxLatencyUs > 0) {
        x = objectives_.maxStepInstructions() / 1000.0;
        text = tr("latency budget %1 µs at %2 MHz").arg(objectives_.maxLatencyUs).arg(objectives_.cpuMhz);
    } else if (sizeAxis_ != SizeAxis::Latency && objectives_.maxFlashBytes > 0) {
        text = tr("flash budget %1 bytes").arg(objectives_.maxFlashBytes);
        if (sizeAxis_ == SizeAxis::Bytes) {
            x = double(objectives_.maxFlashBytes);
        } else {
            for (const IndividualRow& r : rows_) {  // bytes to % of the 8-bit model: any row gives the scale
                if (r.sizeFraction > 0) {
                    x = 100.0 * 8.0 * double(objectives_.maxFlashBytes) / (double(r.sizeBits) / r.sizeFraction);
                    break;
                }
            }
        }
    }
    budgetLine_->setVisible(x >= 0);
    budgetLabel_->setVisible(x >= 0);
    if (x < 0) return;
    budgetLine_->point1->setCoords(x, 0);
    budgetLine_->point2->setCoords(x, 1);
    budgetLabel_->position->setCoords(x, 0.07);
    budgetLabel_->setText(text);
}

namespace {
constexpr int kColourBins = 24;
// The third objective's colour range, % of the 8-bit model's: latency 90..180 (3-bit weights take about
// 160%), size 25..105.
QCPRange thirdObjectiveRange(bool latency) { return latency ? QCPRange(90, 180) : QCPRange(25, 105); }
}  // namespace

int ParetoPlot::colourKeyOf(const IndividualRow& r) const {
    if (colourBy_ == ColourBy::Generation) return r.generation;
    const bool latency = sizeAxis_ != SizeAxis::Latency;
    const QCPRange range = thirdObjectiveRange(latency);
    const double v = 100.0 * (latency ? r.latencyFraction : r.sizeFraction);
    return std::clamp(int(std::lround((v - range.lower) / range.size() * kColourBins)), 0, kColourBins);
}

QColor ParetoPlot::colourForGeneration(int key) const {
    const int top = colourBy_ == ColourBy::Generation ? std::max(1, generations_) : kColourBins;
    return colourScale_->gradient().color(key, QCPRange(0, top));
}

QString ParetoPlot::colourLabel() const { return colourScale_->label(); }

void ParetoPlot::updateColourScale() {
    if (colourBy_ == ColourBy::Generation) {
        colourScale_->setLabel(tr("generation"));
        colourScale_->setDataRange(QCPRange(0, generations_));
    } else {
        const bool latency = sizeAxis_ != SizeAxis::Latency;
        colourScale_->setLabel(latency ? tr("latency (% of the 8-bit model's)") : tr("size (% of the 8-bit model)"));
        colourScale_->setDataRange(thirdObjectiveRange(latency));
    }
}

void ParetoPlot::setColourBy(ColourBy colour) {
    colourBy_ = colour;
    updateColourScale();
    rebuild();
}

int ParetoPlot::partialPointCount() const {
    int count = 0;
    for (auto it = generationGraphs_.begin(); it != generationGraphs_.end(); ++it) {
        if (it.key().second) count += it.value()->dataCount();
    }
    return count;
}

bool ParetoPlot::legendShows(const QString& name) const {
    for (int i = 0; i < plot_->legend->itemCount(); ++i) {
        auto* item = qobject_cast<QCPPlottableLegendItem*>(plot_->legend->item(i));
        if (item && item->plottable()->name() == name) return true;
    }
    return false;
}

QCPGraph* ParetoPlot::graphForGeneration(int generation, bool partial) {
    const QPair<int, bool> key(generation, partial);
    auto it = generationGraphs_.find(key);
    if (it != generationGraphs_.end()) return it.value();
    QCPGraph* g = plot_->addGraph();
    g->setLineStyle(QCPGraph::lsNone);
    const QColor c = colourForGeneration(generation);
    g->setScatterStyle(partial ? QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(c.darker(110), 1), Qt::NoBrush, 5)
                               : QCPScatterStyle(QCPScatterStyle::ssDisc, QPen(c.darker(130), 1), c, 7));
    g->removeFromLegend();
    generationGraphs_.insert(key, g);
    if (partial && !plot_->legend->hasItemWithPlottable(partialLegend_)) partialLegend_->addToLegend();
    return g;
}

void ParetoPlot::addIndividual(const IndividualRow& row) {
    const bool isNew = !rows_.contains(row.id);
    rows_.insert(row.id, row);  // a known id only updates what the tooltip shows (e.g. test accuracy)
    if (!isNew && !row.isFineTune()) return;
    hint_->setVisible(false);
    if (row.baseline || row.isFineTune()) {
        rebuild();  // baselines carry a label item, fine-tuned copies an arrow (and move while they improve)
    } else if (!feasible(row)) {
        infeasibleGraph_->addData(xOf(row), yOf(row));
        if (!plot_->legend->hasItemWithPlottable(infeasibleGraph_)) infeasibleGraph_->addToLegend();
    } else {
        graphForGeneration(colourKeyOf(row), row.isPartial())->addData(xOf(row), yOf(row));
    }
    if (isNew && objectives_.maxFlashBytes > 0 && rows_.size() == 1) updateBudgetLine();  // needs a row for the % scale
    if (autoFit_) rescale();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setFront(const QVector<qint64>& ids) {
    frontIds_ = ids;
    updateFrontLine();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::updateFrontLine() {
    QVector<double> xs, ys;
    QVector<IndividualRow> front;
    for (qint64 id : frontIds_) {
        if (rows_.contains(id)) front << rows_[id];
    }
    std::sort(front.begin(), front.end(), [this](const auto& a, const auto& b) { return xOf(a) < xOf(b); });
    for (const auto& r : front) {
        xs << xOf(r);
        ys << yOf(r);
    }
    frontLine_->setData(xs, ys, true);
}

void ParetoPlot::setGenerations(int generations) {
    generations_ = std::max(1, generations);
    updateColourScale();
    rebuild();
}

void ParetoPlot::rebuild() {
    for (QCPGraph* g : generationGraphs_) plot_->removeGraph(g);
    generationGraphs_.clear();
    partialLegend_->removeFromLegend();
    for (QCPItemText* t : baselineLabels_) plot_->removeItem(t);
    baselineLabels_.clear();
    baselineGraph_->data()->clear();
    for (QCPItemLine* a : fineTuneArrows_) plot_->removeItem(a);
    fineTuneArrows_.clear();
    fineTuneGraph_->data()->clear();
    infeasibleGraph_->data()->clear();
    infeasibleGraph_->removeFromLegend();
    for (const IndividualRow& r : rows_) {
        if (r.isFineTune()) {
            fineTuneGraph_->addData(xOf(r), yOf(r));
            if (rows_.contains(r.sourceId)) {
                const IndividualRow& source = rows_[r.sourceId];
                auto* arrow = new QCPItemLine(plot_);
                arrow->start->setCoords(xOf(source), yOf(source));
                arrow->end->setCoords(xOf(r), yOf(r));
                arrow->setHead(QCPLineEnding(QCPLineEnding::esSpikeArrow, 9, 11));
                arrow->setPen(QPen(QColor(0, 140, 70), 1.5));
                fineTuneArrows_ << arrow;
            }
            continue;
        }
        if (!r.baseline && !feasible(r)) {
            infeasibleGraph_->addData(xOf(r), yOf(r));
            if (!plot_->legend->hasItemWithPlottable(infeasibleGraph_)) infeasibleGraph_->addToLegend();
            continue;
        }
        if (!r.baseline) {
            graphForGeneration(colourKeyOf(r), r.isPartial())->addData(xOf(r), yOf(r));
            continue;
        }
        baselineGraph_->addData(xOf(r), yOf(r));
        auto* label = new QCPItemText(plot_);
        label->position->setCoords(xOf(r), yOf(r));
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        label->setPadding(QMargins(6, 2, 0, 0));
        label->setText(tr("%1-bit").arg(r.genes.isEmpty() ? 0 : r.genes.first()));
        label->setFont(QFont(font().family(), 8, QFont::Bold));
        baselineLabels_ << label;
    }
    updateFrontLine();
    updateSelectionMarker();
    updateBudgetLine();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setFloatAccuracy(double accuracy) {
    floatAccuracy_ = accuracy;
    const double y = 100.0 * accuracy;
    floatLine_->point1->setCoords(0, y);
    floatLine_->point2->setCoords(1, y);
    floatLine_->setVisible(true);
    floatLabel_->position->setCoords(0.98, y);
    floatLabel_->setText(tr("float %1%").arg(y, 0, 'f', 2));
    floatLabel_->setVisible(true);
    if (rows_.isEmpty()) plot_->yAxis->setRange(std::max(0.0, y - 30.0), std::min(100.0, y + 5.0));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::clearFloatAccuracy() {
    floatAccuracy_ = -1;
    floatLine_->setVisible(false);
    floatLabel_->setVisible(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setSizeAxis(SizeAxis axis) {
    sizeAxis_ = axis;
    plot_->xAxis->setLabel(axis == SizeAxis::PercentOf8Bit ? tr("Model size (% of the 8-bit model)")
                           : axis == SizeAxis::Bytes   ? tr("Model size (bytes)")
                                                       : tr("Latency (thousand Cortex-M4 instructions per GRU step)"));
    updateColourScale();
    rebuild();
    rescale();
}

void ParetoPlot::rescale() {
    autoFit_ = true;
    if (rows_.isEmpty()) {
        plot_->xAxis->setRange(0, sizeAxis_ == SizeAxis::PercentOf8Bit ? 105 : sizeAxis_ == SizeAxis::Bytes ? 25000 : 250);
        plot_->yAxis->setRange(0, 100);
    } else {
        double xMin = 1e300, xMax = 0, yMin = 100, yMax = 0;
        for (const auto& r : rows_) {
            xMin = std::min(xMin, xOf(r));
            xMax = std::max(xMax, xOf(r));
            yMin = std::min(yMin, yOf(r));
            yMax = std::max(yMax, yOf(r));
        }
        if (floatAccuracy_ > 0) yMax = std::max(yMax, 100.0 * floatAccuracy_);
        // Sizes from 0; latencies (every scheme within a factor of two) from just below the fastest.
        const double x0 = sizeAxis_ == SizeAxis::Latency ? std::max(0.0, xMin - 0.1 * (xMax - xMin) - 1.0) : 0.0;
        plot_->xAxis->setRange(x0, xMax + 0.1 * (xMax - x0) + 1e-9);  // room for the baseline labels
        plot_->yAxis->setRange(std::max(0.0, yMin - 2.0), std::min(100.0, yMax + 2.0));
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::select(qint64 id) {
    selected_ = rows_.contains(id) ? id : 0;
    updateSelectionMarker();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::updateSelectionMarker() {
    selectionGraph_->data()->clear();
    if (selected_ && rows_.contains(selected_)) selectionGraph_->addData(xOf(rows_[selected_]), yOf(rows_[selected_]));
}

void ParetoPlot::clearAll() {
    rows_.clear();
    frontIds_.clear();
    selected_ = 0;
    hint_->setVisible(true);
    rebuild();
    rescale();
}

QPointF ParetoPlot::pixelOf(qint64 id) const {
    if (!rows_.contains(id)) return {-1, -1};
    const IndividualRow& r = rows_[id];
    const QPointF inPlot(plot_->xAxis->coordToPixel(xOf(r)), plot_->yAxis->coordToPixel(yOf(r)));
    return plot_->mapTo(this, inPlot.toPoint());
}

qint64 ParetoPlot::idNear(const QPointF& pixel, double maxDistance) const {
    qint64 best = 0;
    double bestDistance = maxDistance;
    for (auto it = rows_.constBegin(); it != rows_.constEnd(); ++it) {
        const QPointF p = pixelOf(it.key());
        const double d = std::hypot(p.x() - pixel.x(), p.y() - pixel.y());
        if (d <= bestDistance) {
            bestDistance = d;
            best = it.key();
        }
    }
    return best;
}

void ParetoPlot::onMouseMove(QMouseEvent* event) {
    const QPointF pos = plot_->mapTo(this, event->position().toPoint());
    const qint64 id = idNear(pos, 10.0);
    if (!id) {
        QToolTip::hideText();
        return;
    }
    const IndividualRow& r = rows_[id];
    const QString test = r.testAccuracy >= 0 ? tr("%1%").arg(100 * r.testAccuracy, 0, 'f', 2) : tr("not measured");
    QToolTip::showText(event->globalPosition().toPoint(),
                       tr("<b>#%1</b> %2<br>validation %3% · test %4<br>%5 bytes (%6% of 8-bit)<br>"
                          "%7k Cortex-M4 instructions per step%8<br><tt>%9</tt>")
                           .arg(id)
                           .arg(r.origin().toHtmlEscaped())
                           .arg(100 * r.validationAccuracy, 0, 'f', 2)
                           .arg(test)
                           .arg(r.sizeBytes())
                           .arg(100 * r.sizeFraction, 0, 'f', 1)
                           .arg(r.stepInstructions / 1000, 0, 'f', 1)
                           .arg(feasible(r) ? QString() : tr(" · <b>over the budget</b>"))
                           .arg(r.genome.toHtmlEscaped()),
                       plot_);
}

void ParetoPlot::onMousePress(QMouseEvent* event) {
    if (event->button() != Qt::LeftButton) return;
    const qint64 id = idNear(plot_->mapTo(this, event->position().toPoint()), 25.0);
    if (!id) return;
    select(id);
    emit pointSelected(id);
}

bool ParetoPlot::savePng(const QString& path, int width, int height) { return plot_->savePng(path, width, height); }

bool ParetoPlot::savePdf(const QString& path) { return plot_->savePdf(path); }

}  // namespace gruq::ui
