#include "data_summary_view.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace gruq::ui {

DataSummaryView::DataSummaryView(QWidget* parent) : QWidget(parent) {
    header_ = new QLabel(tr("No data loaded yet."), this);
    header_->setObjectName(QStringLiteral("dataHeader"));
    header_->setWordWrap(true);
    header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    baseline_ = new QLabel(tr("Float baseline: not trained yet."), this);
    baseline_->setObjectName(QStringLiteral("baselineLabel"));
    baseline_->setWordWrap(true);
    classes_ = new QTableWidget(0, 4, this);
    classes_->setObjectName(QStringLiteral("classTable"));
    classes_->setHorizontalHeaderLabels({tr("Class"), tr("Train"), tr("Validation"), tr("Test")});
    classes_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    classes_->verticalHeader()->setVisible(false);
    classes_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(header_);
    layout->addWidget(baseline_);
    layout->addWidget(classes_, 1);
}

void DataSummaryView::showSummary(const DataSummary& s) {
    header_->setText(tr("<b>%1</b>: %2<br>%3<br>%4 × %5 per sequence · %6 train · %7 validation · %8 test")
                         .arg(s.task, s.description.toHtmlEscaped(), s.source.toHtmlEscaped())
                         .arg(s.steps)
                         .arg(s.features)
                         .arg(s.trainCount)
                         .arg(s.validationCount)
                         .arg(s.testCount) +
                     (s.paddedCount > 0 ? tr("<br>%1 zero-padded sequences, each classified at its last valid step")
                                              .arg(s.paddedCount)
                                        : QString()));
    classes_->setRowCount(int(s.classNames.size()));
    for (int c = 0; c < s.classNames.size(); ++c) {
        classes_->setItem(c, 0, new QTableWidgetItem(QStringLiteral("%1  %2").arg(c).arg(s.classNames[c])));
        const QVector<qint64>* columns[3] = {&s.trainClassCounts, &s.validationClassCounts, &s.testClassCounts};
        for (int k = 0; k < 3; ++k) {
            auto* item = new QTableWidgetItem(QString::number(columns[k]->value(c)));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            classes_->setItem(c, k + 1, item);
        }
    }
}

void DataSummaryView::showBaseline(const BaselineResult& r) {
    baseline_->setText(tr("Float baseline %1 (%2 parameters): validation <b>%3%</b>, test <b>%4%</b>%5")
                           .arg(r.shapeKey)
                           .arg(r.parameters)
                           .arg(100 * r.validationAccuracy, 0, 'f', 2)
                           .arg(100 * r.testAccuracy, 0, 'f', 2)
                           .arg(!r.importedFormat.isEmpty() ? tr(" · imported %1 model, not trained here").arg(r.importedFormat)
                                : r.fromCache             ? tr(" · from cache")
                                                          : tr(" · trained in %1 s at %2 seq/s")
                                                                .arg(r.trainSeconds, 0, 'f', 1)
                                                                .arg(r.samplesPerSecond, 0, 'f', 0)));
}

}  // namespace gruq::ui
