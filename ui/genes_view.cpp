#include "genes_view.h"

#include "cell_diagram.h"

#include "gruq/quant/genome.h"

#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace gruq::ui {
namespace {

constexpr int kFixedColumns = 3;  // id, size, validation accuracy

QTableWidgetItem* cell(const QString& text) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    item->setTextAlignment(Qt::AlignCenter);
    return item;
}

// The selected row keeps its bit colours (a selection fill would hide them): it is framed instead.
class FramedSelectionDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QStyleOptionViewItem plain = option;
        const bool selected = plain.state & QStyle::State_Selected;
        plain.state &= ~QStyle::State_Selected;
        plain.state &= ~QStyle::State_HasFocus;
        QStyledItemDelegate::paint(painter, plain, index);
        if (!selected) return;
        painter->save();
        painter->setPen(QPen(QColor(20, 20, 20), 2));
        const QRect r = option.rect.adjusted(0, 1, 0, -1);
        painter->drawLine(r.topLeft(), r.topRight());
        painter->drawLine(r.bottomLeft(), r.bottomRight());
        if (index.column() == 0) painter->drawLine(r.topLeft(), r.bottomLeft());
        if (index.column() == index.model()->columnCount() - 1) painter->drawLine(r.topRight(), r.bottomRight());
        painter->restore();
    }
};

}  // namespace

GenesView::GenesView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    caption_ = new QLabel(this);
    caption_->setObjectName(QStringLiteral("genesCaption"));
    caption_->setWordWrap(true);
    layout->addWidget(caption_);
    table_ = new QTableWidget(this);
    table_->setObjectName(QStringLiteral("genesTable"));
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->verticalHeader()->setVisible(false);
    table_->verticalHeader()->setDefaultSectionSize(20);
    table_->horizontalHeader()->setMinimumSectionSize(24);
    table_->setShowGrid(true);
    table_->setItemDelegate(new FramedSelectionDelegate(table_));
    QFont small = table_->horizontalHeader()->font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    table_->horizontalHeader()->setFont(small);
    layout->addWidget(table_, 1);
    connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
        if (filling_) return;
        const QList<QTableWidgetItem*> picked = table_->selectedItems();
        if (picked.isEmpty()) return;
        selectedId_ = idOfRow(picked.first()->row());
        emit individualSelected(selectedId_);
    });
    setFront({});
}

qint64 GenesView::idOfRow(int row) const { return row >= 0 && row < rows_.size() ? rows_[row].id : 0; }

void GenesView::setFront(const QVector<IndividualRow>& front) {
    rows_.clear();
    const GenomeLayout* layout = nullptr;
    for (const IndividualRow& r : front) {
        try {
            const GenomeLayout& l = layoutByName(r.layout.toStdString());
            if (!layout) layout = &l;
            if (&l == layout && r.genes.size() == l.geneCount()) rows_ << r;
        } catch (const std::exception&) {
            // A row of an unknown layout cannot be drawn by gene; the inspector explains it when clicked.
        }
    }
    std::sort(rows_.begin(), rows_.end(), [](const IndividualRow& a, const IndividualRow& b) {
        return a.sizeFraction != b.sizeFraction ? a.sizeFraction < b.sizeFraction : a.id < b.id;
    });

    filling_ = true;
    table_->clear();
    const int genes = layout ? layout->geneCount() : 0;
    table_->setColumnCount(kFixedColumns + genes);
    table_->setRowCount(rows_.size());
    QStringList headers = {tr("#"), tr("size"), tr("val.")};
    for (int g = 0; g < genes; ++g) headers << QString::fromStdString(layout->genes[size_t(g)].name);
    table_->setHorizontalHeaderLabels(headers);
    for (int g = 0; g < genes; ++g) {
        table_->horizontalHeaderItem(kFixedColumns + g)->setToolTip(QString::fromStdString(layout->genes[size_t(g)].description));
    }
    for (int i = 0; i < rows_.size(); ++i) {
        const IndividualRow& r = rows_[i];
        table_->setItem(i, 0, cell(QString::number(r.id)));
        table_->setItem(i, 1, cell(QStringLiteral("%1%").arg(100 * r.sizeFraction, 0, 'f', 1)));
        table_->setItem(i, 2, cell(QStringLiteral("%1%").arg(100 * r.validationAccuracy, 0, 'f', 2)));
        for (int g = 0; g < genes; ++g) {
            const int bits = r.genes[g];
            QTableWidgetItem* item = cell(QString::number(bits));
            item->setData(Qt::UserRole, bits);
            item->setBackground(CellDiagram::colourForBits(bits));
            item->setForeground(CellDiagram::textColourOn(CellDiagram::colourForBits(bits)));
            item->setToolTip(tr("#%1: %2 at %3 bits").arg(r.id).arg(QString::fromStdString(layout->genes[size_t(g)].name)).arg(bits));
            table_->setItem(i, kFixedColumns + g, item);
        }
    }
    // The fixed columns fit their text; the genes share the rest (full names in the header tooltips).
    for (int c = 0; c < table_->columnCount(); ++c) {
        table_->horizontalHeader()->setSectionResizeMode(c, c < kFixedColumns ? QHeaderView::ResizeToContents : QHeaderView::Stretch);
    }
    caption_->setText(rows_.isEmpty()
                          ? tr("The front's genes appear here: one row per front point, smallest first.")
                          : tr("%1 front points, smallest first; each cell is a gene's bit width (red 2 … blue 8). "
                               "Click a row to inspect it.")
                                .arg(rows_.size()));
    select(selectedId_);
    filling_ = false;
}

void GenesView::select(qint64 id) {
    const bool wasFilling = filling_;
    filling_ = true;
    selectedId_ = id;
    table_->clearSelection();
    for (int i = 0; i < rows_.size(); ++i) {
        if (rows_[i].id == id) {
            table_->selectRow(i);
            table_->scrollToItem(table_->item(i, 0));
        }
    }
    filling_ = wasFilling;
}

}  // namespace gruq::ui
