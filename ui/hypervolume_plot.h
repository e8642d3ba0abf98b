#pragma once
// A small plot of the front's hypervolume per generation.
#include <QWidget>

class QCustomPlot;

namespace gruq::ui {

class HypervolumePlot : public QWidget {
    Q_OBJECT
public:
    explicit HypervolumePlot(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return plot_; }
    int pointCount() const;

public slots:
    void addGeneration(int generation, double hypervolume);
    void clear();

private:
    QCustomPlot* plot_;
};

}  // namespace gruq::ui
