#include "scheme_inspector.h"

#include "cell_diagram.h"
#include "layer_strip.h"
#include "gruq/quant/genome.h"

#include <QHBoxLayout>
#include <QEvent>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScrollBar>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QTabBar>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <exception>

namespace gruq::ui {
namespace {

const QString kMinus = QStringLiteral("\u2212");

QString percent(double fraction) { return QStringLiteral("%1 %").arg(100 * fraction, 0, 'f', 2); }

QString accuracyOrMissing(double fraction) {
    return fraction >= 0 ? percent(fraction) : SchemeInspector::tr("not measured");
}

// "+1.25" / "−0.40" with a real minus sign.
QString signedNumber(double v, int decimals) {
    const QString digits = QString::number(std::abs(v), 'f', decimals);
    if (digits.toDouble() == 0) return digits;
    return (v < 0 ? kMinus : QStringLiteral("+")) + digits;
}

// Accuracy difference in percentage points, or "–" when either side is not measured.
QString deltaPoints(double a, double b) {
    if (a < 0 || b < 0) return QStringLiteral("–");
    return signedNumber(100 * (a - b), 2) + QStringLiteral(" pp");
}

QString section(const QString& title) {
    return QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped());
}

QLabel* sectionLabel(const QString& title, QWidget* parent) {
    auto* label = new QLabel(section(title), parent);
    label->setContentsMargins(0, 6, 0, 0);
    return label;
}

// Cell shade for a fraction of the row: white .. the diagram's 8-bit blue.
QColor shadeForFraction(double fraction) {
    const QColor full = CellDiagram::colourForBits(8);
    const double f = std::clamp(fraction, 0.0, 1.0);
    return QColor::fromRgbF(1 - f * (1 - full.redF()), 1 - f * (1 - full.greenF()), 1 - f * (1 - full.blueF()));
}

QTableWidgetItem* readOnlyItem(const QString& text) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    return item;
}

}  // namespace

SchemeInspector::SchemeInspector(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);

    // Header stays visible above the scrolling details.
    auto* top = new QHBoxLayout;
    header_ = new QLabel(this);
    header_->setObjectName(QStringLiteral("headerLabel"));
    header_->setWordWrap(true);
    header_->setTextFormat(Qt::RichText);
    header_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    exportButton_ = new QPushButton(tr("Export firmware…"), this);
    exportButton_->setObjectName(QStringLiteral("exportButton"));
    exportButton_->setToolTip(tr("Write a firmware folder for this model: blob, C arrays, C runtime, README"));
    fineTuneButton_ = new QPushButton(this);
    fineTuneButton_->setObjectName(QStringLiteral("fineTuneButton"));
    connect(fineTuneButton_, &QPushButton::clicked, this, [this] {
        if (fineTuneRunning_) emit fineTuneStopRequested();
        else if (currentValid_) emit fineTuneRequested(current_.id);
    });
    setFineTuneRunning(false);
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(exportButton_);
    buttons->addWidget(fineTuneButton_);
    buttons->addStretch(1);
    top->addWidget(header_, 1);
    top->addLayout(buttons);
    outer->addLayout(top);

    auto* scroll = new QScrollArea(this);
    scroll->setObjectName(QStringLiteral("inspectorScroll"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* content = new QWidget(scroll);
    auto* column = new QVBoxLayout(content);
    column->setContentsMargins(0, 0, 0, 0);

    layerStrip_ = new LayerStrip(content);
    layerStrip_->setObjectName(QStringLiteral("layerStrip"));
    layerStrip_->setToolTip(tr("Every layer's bits at a glance; click a layer to show its cell"));
    layerStrip_->hide();
    column->addWidget(layerStrip_);
    layerTabs_ = new QTabBar(content);
    layerTabs_->setObjectName(QStringLiteral("layerTabs"));
    layerTabs_->setExpanding(false);
    layerTabs_->hide();
    column->addWidget(layerTabs_);
    connect(layerTabs_, &QTabBar::currentChanged, this, [this](int layer) {
        if (layer >= 0) showLayer(layer);
    });
    connect(layerStrip_, &LayerStrip::layerClicked, this, &SchemeInspector::showLayer);

    diagram_ = new CellDiagram(content);
    diagram_->setObjectName(QStringLiteral("cellDiagram"));
    column->addWidget(diagram_);

    column->addWidget(sectionLabel(tr("Metrics"), content));
    metrics_ = new QLabel(content);
    metrics_->setObjectName(QStringLiteral("metricsLabel"));
    metrics_->setTextFormat(Qt::RichText);
    metrics_->setWordWrap(true);
    metrics_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    column->addWidget(metrics_);

    column->addWidget(sectionLabel(tr("Genes"), content));
    genes_ = new QTableWidget(0, 3, content);
    genes_->setObjectName(QStringLiteral("geneTable"));
    genes_->setHorizontalHeaderLabels({tr("Gene"), tr("Bits"), tr("Sets")});
    genes_->verticalHeader()->setVisible(false);
    genes_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    genes_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    genes_->horizontalHeader()->setStretchLastSection(true);
    genes_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    genes_->setSelectionBehavior(QAbstractItemView::SelectRows);
    genes_->setWordWrap(false);
    genes_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // the last column stretches instead
    column->addWidget(genes_);

    column->addWidget(sectionLabel(tr("Confusion matrix (rows: true class, columns: predicted)"), content));
    confusionPlaceholder_ = new QLabel(content);
    confusionPlaceholder_->setObjectName(QStringLiteral("confusionPlaceholder"));
    confusionPlaceholder_->setWordWrap(true);
    column->addWidget(confusionPlaceholder_);
    confusion_ = new QTableWidget(content);
    confusion_->setObjectName(QStringLiteral("confusionTable"));
    confusion_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    confusion_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    confusion_->installEventFilter(this);
    column->addWidget(confusion_);
    column->addStretch(1);

    scroll->setWidget(content);
    outer->addWidget(scroll, 1);

    connect(exportButton_, &QPushButton::clicked, this, [this] {
        if (currentId() != 0) emit exportRequested(currentId());
    });
    clearSelection();
}

void SchemeInspector::setContext(const InspectorContext& context) {
    context_ = context;
    if (currentValid_) showMetrics();  // references changed (e.g. the 8-bit baseline arrived)
}

void SchemeInspector::showIndividual(const IndividualRow& row) {
    const bool sameIndividual = currentValid_ && row.id == current_.id;
    current_ = row;
    currentValid_ = false;
    error_.clear();

    const GenomeLayout* layout = nullptr;
    currentBits_.clear();
    currentLayout_ = nullptr;
    try {
        layout = &layoutByName(row.layout.toStdString());
        Genome genome{layout, std::vector<int>(row.genes.begin(), row.genes.end())};
        validateGenome(genome);  // wrong gene count or bits out of range: an error, not a crash
        currentBits_ = genome.resolve();
        currentLayout_ = layout;
        currentValid_ = true;
    } catch (const std::exception& e) {
        error_ = QString::fromUtf8(e.what());
    }

    showHeader();
    exportButton_->setEnabled(currentValid_);
    fineTuneButton_->setEnabled(currentValid_ || fineTuneRunning_);
    const int layers = currentValid_ ? int(currentBits_.size()) : 1;
    {
        const QSignalBlocker blocker(layerTabs_);
        while (layerTabs_->count() > layers) layerTabs_->removeTab(layerTabs_->count() - 1);
        while (layerTabs_->count() < layers) layerTabs_->addTab(tr("Layer %1").arg(layerTabs_->count() + 1));
    }
    layerTabs_->setVisible(layers > 1);
    layerStrip_->setVisible(layers > 1);
    if (!sameIndividual) shownLayer_ = 0;
    shownLayer_ = std::min(shownLayer_, layers - 1);
    if (!currentValid_) {
        diagram_->clear();
        genes_->setRowCount(0);
        fitTableHeight(genes_);
        metrics_->setText(tr("<i>Nothing to show.</i>"));
        resetConfusion(tr("No confusion matrix for an invalid genome."));
        return;
    }
    layerStrip_->setBits(currentBits_);
    showLayer(shownLayer_);
    showGenes();
    showMetrics();
    // A refreshed row of the same individual (e.g. test accuracy measured) keeps its confusion matrix.
    if (!sameIndividual) {
        resetConfusion(tr("computing confusion matrix…"));
        emit confusionRequested(row.id);
    }
}

void SchemeInspector::showLayer(int layer) {
    if (!currentValid_ || layer < 0 || layer >= int(currentBits_.size())) return;
    shownLayer_ = layer;
    {
        const QSignalBlocker blocker(layerTabs_);
        layerTabs_->setCurrentIndex(layer);
    }
    layerStrip_->setCurrentLayer(layer);
    diagram_->setBits(currentBits_[size_t(layer)], *currentLayout_, layer);
}

void SchemeInspector::clearSelection() {
    current_ = IndividualRow{};
    currentValid_ = false;
    error_.clear();
    header_->setText(tr("<i>No scheme selected.</i> Click a point of the Pareto plot to inspect its "
                        "per-operator bit widths."));
    exportButton_->setEnabled(false);
    fineTuneButton_->setEnabled(fineTuneRunning_);
    diagram_->clear();
    currentBits_.clear();
    layerTabs_->hide();
    layerStrip_->hide();
    genes_->setRowCount(0);
    fitTableHeight(genes_);
    metrics_->setText(QStringLiteral("–"));
    resetConfusion(QStringLiteral("–"));
}

void SchemeInspector::setFineTuneRunning(bool running) {
    fineTuneRunning_ = running;
    fineTuneButton_->setText(running ? tr("Stop fine-tune") : tr("Fine-tune…"));
    fineTuneButton_->setToolTip(running ? tr("Stop the running fine-tune; its best epoch so far stays in the archive")
                                        : tr("Train this scheme further: full epochs over the training data with early "
                                             "stopping; the result is stored as a new point linked to this one"));
    fineTuneButton_->setEnabled(running || currentValid_);
}

void SchemeInspector::showHeader() {
    const IndividualRow& r = current_;
    if (!currentValid_) {
        header_->setText(tr("<span style='color:#b00020'><b>Cannot show individual #%1</b> (layout “%2”, %3 genes): "
                            "%4</span>")
                             .arg(r.id)
                             .arg(r.layout.toHtmlEscaped())
                             .arg(r.genes.size())
                             .arg(error_.toHtmlEscaped()));
        return;
    }
    header_->setText(tr("<b>#%1</b> · %2 · layout %3<br><tt>%4</tt>")
                         .arg(r.id)
                         .arg(r.origin().toHtmlEscaped(), r.layout.toHtmlEscaped(), r.genome.toHtmlEscaped()));
}

void SchemeInspector::showGenes() {
    const GenomeLayout& layout = layoutByName(current_.layout.toStdString());
    genes_->setRowCount(layout.geneCount());
    for (int i = 0; i < layout.geneCount(); ++i) {
        const GeneSpec& gene = layout.genes[static_cast<size_t>(i)];
        const int bits = current_.genes[i];
        const QString description = QString::fromStdString(gene.description);
        genes_->setItem(i, 0, readOnlyItem(QString::fromStdString(gene.name)));
        auto* bitsItem = readOnlyItem(QString::number(bits));
        bitsItem->setTextAlignment(Qt::AlignCenter);
        bitsItem->setData(Qt::UserRole, bits);
        bitsItem->setBackground(CellDiagram::colourForBits(bits));
        bitsItem->setForeground(CellDiagram::textColourOn(CellDiagram::colourForBits(bits)));
        genes_->setItem(i, 1, bitsItem);
        auto* descriptionItem = readOnlyItem(description);
        descriptionItem->setToolTip(description);
        genes_->setItem(i, 2, descriptionItem);
    }
    fitTableHeight(genes_);
}

void SchemeInspector::showMetrics() {
    const IndividualRow& r = current_;
    const IndividualRow& eight = context_.eightBit;
    const bool haveEight = eight.id != 0 && eight.sizeBits > 0;
    const bool isEight = haveEight && eight.id == r.id;

    QString html = QStringLiteral("<table cellspacing='0' cellpadding='2'>"
                                  "<tr><td></td><td align='right'><b>%1</b></td><td align='right'><b>%2</b></td></tr>")
                       .arg(tr("validation"), tr("test"));
    auto addRow = [&html](const QString& name, const QString& validation, const QString& test) {
        html += QStringLiteral("<tr><td>%1&nbsp;&nbsp;</td><td align='right'>%2</td><td align='right'>&nbsp;&nbsp;%3</td></tr>")
                    .arg(name, validation, test);
    };
    // A genome stopped at the multi-fidelity rung was measured early, on part of the validation split.
    const QString rungMark = r.isPartial() ? QStringLiteral("*") : QString();
    addRow(tr("integer engine"), accuracyOrMissing(r.validationAccuracy) + rungMark, accuracyOrMissing(r.testAccuracy));
    addRow(tr("fake-quant model"), accuracyOrMissing(r.fakeQuantValidationAccuracy),
           accuracyOrMissing(r.fakeQuantTestAccuracy));
    addRow(tr("float model"), accuracyOrMissing(context_.floatValidationAccuracy),
           accuracyOrMissing(context_.floatTestAccuracy));
    addRow(tr("Δ integer vs float"), deltaPoints(r.validationAccuracy, context_.floatValidationAccuracy),
           deltaPoints(r.testAccuracy, context_.floatTestAccuracy));
    if (haveEight && !isEight)
        addRow(tr("Δ integer vs 8-bit"), deltaPoints(r.validationAccuracy, eight.validationAccuracy),
               deltaPoints(r.testAccuracy, eight.testAccuracy));
    html += QStringLiteral("</table>");
    if (r.isPartial()) {
        html += tr("<p style='margin-top:4px'>* at the rung: after %1% of the QAT budget, on part of the validation "
                   "split (the search stopped it there: it could not reach the front)</p>")
                    .arg(int(std::lround(r.fidelity * 100)));
    }

    html += tr("<p style='margin-top:6px'>Size: <b>%1 bytes</b> (%2 bits), %3 % of the 8-bit model")
                .arg(r.sizeBytes())
                .arg(r.sizeBits)
                .arg(100 * r.sizeFraction, 0, 'f', 1);
    if (isEight) {
        html += tr("<br>This is the homogeneous 8-bit baseline.");
    } else if (haveEight) {
        const qint64 deltaBytes = r.sizeBytes() - eight.sizeBytes();
        const double deltaPercent = 100.0 * double(r.sizeBits - eight.sizeBits) / double(eight.sizeBits);
        html += tr("<br>Δ size vs 8-bit: <b>%1 bytes</b> (%2 %)")
                    .arg(signedNumber(double(deltaBytes), 0), signedNumber(deltaPercent, 1));
    } else {
        html += tr("<br>Δ vs 8-bit: the 8-bit baseline is not evaluated yet.");
    }
    const SearchObjectives& budget = context_.objectives;
    if (r.stepInstructions >= 0) {
        // The latency model (docs/latency.md): instructions, and their time at one instruction per cycle.
        const double mhz = budget.cpuMhz > 0 ? budget.cpuMhz : 80.0;
        html += tr("<br>Cortex-M4: <b>%1 instructions per GRU step</b> (%2 µs at %3 MHz), %4 % of the 8-bit model's")
                    .arg(QLocale().toString(r.stepInstructions, 'f', 0))
                    .arg(r.stepInstructions / mhz, 0, 'f', 0)
                    .arg(mhz, 0, 'g', 6)
                    .arg(100 * r.latencyFraction, 0, 'f', 0);
    }
    if (budget.maxFlashBytes > 0 && r.sizeBytes() > budget.maxFlashBytes) {
        html += tr("<br><b>Over the flash budget</b> of %1 bytes: it cannot enter the front.").arg(budget.maxFlashBytes);
    }
    if (budget.maxLatencyUs > 0 && r.stepInstructions > budget.maxStepInstructions()) {
        html += tr("<br><b>Over the latency budget</b> of %1 µs per step at %2 MHz: it cannot enter the front.")
                    .arg(budget.maxLatencyUs)
                    .arg(budget.cpuMhz);
    }
    html += tr("<br>Evaluated in %1 s</p>").arg(r.seconds, 0, 'f', 1);
    metrics_->setText(html);
}

void SchemeInspector::resetConfusion(const QString& placeholder) {
    confusion_->clear();
    confusion_->setRowCount(0);
    confusion_->setColumnCount(0);
    confusion_->hide();
    confusionPlaceholder_->setText(placeholder);
    confusionPlaceholder_->show();
}

void SchemeInspector::setConfusion(qint64 individualId, const QVector<QVector<int>>& matrix) {
    if (!currentValid_ || individualId != current_.id) return;  // a late answer for an earlier selection
    if (matrix.isEmpty()) {
        resetConfusion(tr("No confusion matrix available for this scheme."));
        return;
    }
    const int classes = static_cast<int>(matrix.size());
    int columns = 0;
    for (const auto& row : matrix) columns = std::max(columns, static_cast<int>(row.size()));
    auto className = [this](int i) {
        return i < context_.classNames.size() ? context_.classNames[i] : QString::number(i);
    };

    confusion_->clear();
    confusion_->setRowCount(classes);
    confusion_->setColumnCount(columns + 1);
    QStringList predicted, truth;
    for (int c = 0; c < columns; ++c) predicted << className(c);
    predicted << tr("accuracy");
    for (int r = 0; r < classes; ++r) truth << className(r);
    confusion_->setHorizontalHeaderLabels(predicted);
    confusion_->setVerticalHeaderLabels(truth);

    qint64 correct = 0, total = 0;
    for (int r = 0; r < classes; ++r) {
        const auto& row = matrix[r];
        qint64 rowSum = 0;
        for (int v : row) rowSum += v;
        for (int c = 0; c < columns; ++c) {
            const int count = c < row.size() ? row[c] : 0;
            auto* item = readOnlyItem(QString::number(count));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            const QColor shade = shadeForFraction(rowSum > 0 ? double(count) / double(rowSum) : 0.0);
            item->setBackground(shade);
            item->setForeground(CellDiagram::textColourOn(shade));
            if (r == c) {
                QFont bold = item->font();
                bold.setBold(true);
                item->setFont(bold);
            }
            confusion_->setItem(r, c, item);
        }
        const int hits = r < row.size() ? row[r] : 0;
        correct += hits;
        total += rowSum;
        auto* accuracy = readOnlyItem(rowSum > 0 ? percent(double(hits) / double(rowSum)) : QStringLiteral("–"));
        accuracy->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        accuracy->setData(Qt::UserRole, rowSum > 0 ? double(hits) / double(rowSum) : -1.0);
        confusion_->setItem(r, columns, accuracy);
    }
    confusion_->resizeColumnsToContents();
    fitTableHeight(confusion_);
    confusion_->show();
    confusionPlaceholder_->setText(total > 0 ? tr("%1 samples, %2 correct (%3)")
                                                   .arg(total)
                                                   .arg(correct)
                                                   .arg(percent(double(correct) / double(total)))
                                             : tr("No samples."));
}

// Tables show all their rows (compact, fixed row height): the scroll area around everything scrolls.
void SchemeInspector::fitTableHeight(QTableWidget* table) {
    table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
    table->verticalHeader()->setMinimumSectionSize(table->fontMetrics().height() + 4);
    int height = table->horizontalHeader()->sizeHint().height();
    height += table->rowCount() * table->verticalHeader()->defaultSectionSize();
    // A wide confusion matrix scrolls sideways in a narrow dock: leave room for that scroll bar.
    const int neededWidth = table->horizontalHeader()->length() +
                            (table->verticalHeader()->isVisible() ? table->verticalHeader()->sizeHint().width() : 0) +
                            2 * table->frameWidth();
    if (table->horizontalScrollBarPolicy() != Qt::ScrollBarAlwaysOff && neededWidth > table->width())
        height += table->horizontalScrollBar()->sizeHint().height();
    table->setFixedHeight(height + 2 * table->frameWidth());
}

bool SchemeInspector::eventFilter(QObject* watched, QEvent* event) {
    // The confusion table's width follows the dock: re-decide whether it needs a horizontal scroll bar.
    if (watched == confusion_ && event->type() == QEvent::Resize) fitTableHeight(confusion_);
    return QWidget::eventFilter(watched, event);
}

}  // namespace gruq::ui
