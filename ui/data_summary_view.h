#pragma once
// Shows what a task's data holds: source, shape, split sizes and class balance.
#include "baseline_controller.h"

#include <QWidget>

class QLabel;
class QTableWidget;

namespace gruq::ui {

class DataSummaryView : public QWidget {
    Q_OBJECT
public:
    explicit DataSummaryView(QWidget* parent = nullptr);

public slots:
    void showSummary(const gruq::ui::DataSummary& summary);
    void showBaseline(const gruq::ui::BaselineResult& result);

private:
    QLabel* header_;
    QLabel* baseline_;
    QTableWidget* classes_;
};

}  // namespace gruq::ui
