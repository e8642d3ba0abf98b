#include "hypervolume_plot.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

namespace gruq::ui {

HypervolumePlot::HypervolumePlot(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName(QStringLiteral("hypervolumePlot"));
    plot_->addGraph();
    plot_->graph(0)->setPen(QPen(QColor(31, 119, 180), 2));
    plot_->graph(0)->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    plot_->xAxis->setLabel(tr("Generation"));
    plot_->yAxis->setLabel(tr("Hypervolume"));
    plot_->xAxis->setRange(0, 20);
    plot_->yAxis->setRange(0, 1);
    plot_->setMinimumHeight(140);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
}

int HypervolumePlot::pointCount() const { return plot_->graph(0)->dataCount(); }

void HypervolumePlot::addGeneration(int generation, double hypervolume) {
    plot_->graph(0)->addData(generation, hypervolume);
    plot_->graph(0)->data()->sort();
    bool found = false;
    const QCPRange y = plot_->graph(0)->getValueRange(found);
    plot_->xAxis->setRange(0, std::max(20, generation + 1));
    if (found) plot_->yAxis->setRange(std::max(0.0, y.lower - 0.02), std::min(1.1, y.upper + 0.02));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void HypervolumePlot::clear() {
    plot_->graph(0)->data()->clear();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace gruq::ui
