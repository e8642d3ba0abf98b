#pragma once
// The accuracy / model-size plot. Until a search runs it shows the float reference accuracy and the
// training curve of the float baseline; the search issue fills in the evaluated individuals and front.
#include <QWidget>

class QCustomPlot;
class QCPItemStraightLine;
class QCPItemText;
class QCPGraph;

namespace gruq::ui {

class ParetoPlot : public QWidget {
    Q_OBJECT
public:
    explicit ParetoPlot(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }

public slots:
    void setFloatAccuracy(double accuracy);  // fraction in [0, 1]
    void clearFloatAccuracy();

private:
    QCustomPlot* plot_;
    QCPItemStraightLine* floatLine_;
    QCPItemText* floatLabel_;
    QCPItemText* hint_;
};

}  // namespace gruq::ui
