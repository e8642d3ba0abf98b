#include "pareto_plot.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

namespace gruq::ui {

ParetoPlot::ParetoPlot(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName(QStringLiteral("paretoPlot"));
    plot_->xAxis->setLabel(tr("Model size (% of the 8-bit model)"));
    plot_->yAxis->setLabel(tr("Validation accuracy (%)"));
    plot_->xAxis->setRange(0, 105);
    plot_->yAxis->setRange(0, 100);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);

    floatLine_ = new QCPItemStraightLine(plot_);
    floatLine_->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
    floatLine_->setVisible(false);
    floatLabel_ = new QCPItemText(plot_);
    floatLabel_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    floatLabel_->setColor(QColor(90, 90, 90));
    floatLabel_->setVisible(false);

    hint_ = new QCPItemText(plot_);
    hint_->position->setType(QCPItemPosition::ptAxisRectRatio);
    hint_->position->setCoords(0.5, 0.5);
    hint_->setText(tr("The accuracy / size front of a search appears here."));
    hint_->setColor(QColor(140, 140, 140));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot_);
}

void ParetoPlot::setFloatAccuracy(double accuracy) {
    const double y = 100.0 * accuracy;
    floatLine_->point1->setCoords(0, y);
    floatLine_->point2->setCoords(1, y);
    floatLine_->setVisible(true);
    floatLabel_->position->setCoords(100, y);
    floatLabel_->setText(tr("float %1%").arg(y, 0, 'f', 2));
    floatLabel_->setVisible(true);
    plot_->yAxis->setRange(std::max(0.0, y - 30.0), std::min(100.0, y + 5.0));
    plot_->replot();
}

void ParetoPlot::clearFloatAccuracy() {
    floatLine_->setVisible(false);
    floatLabel_->setVisible(false);
    plot_->replot();
}

}  // namespace gruq::ui
