#include "layer_strip.h"

#include "cell_diagram.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>

#include <algorithm>

namespace gruq::ui {
namespace {

constexpr int kLabelWidth = 58, kMaxCell = 14, kMinCell = 5, kGap = 2, kRowHeight = kMaxCell + 4, kHeadGap = 10;
// The cell's points x .. h (the head's w_fc and fc follow on the last row, set apart).
constexpr int kCellPoints = static_cast<int>(QuantPoint::H) + 1;

// Cells shrink with the widget (the inspector's column is narrow), down to kMinCell.
int cellSizeFor(int width) {
    return std::clamp((width - kLabelWidth - kHeadGap - 4) / kQuantPointCount - kGap, kMinCell, kMaxCell);
}

}  // namespace

LayerStrip::LayerStrip(QWidget* parent) : QWidget(parent) {
    setMouseTracking(false);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void LayerStrip::setBits(const LayerBits& bits) {
    bits_ = bits;
    current_ = std::min(current_, std::max(0, int(bits_.size()) - 1));
    updateGeometry();
    update();
}

void LayerStrip::setCurrentLayer(int layer) {
    current_ = layer;
    update();
}

QRect LayerStrip::cellRect(int layer, QuantPoint point) const {
    const int index = static_cast<int>(point);
    const int cell = cellSizeFor(width());
    const int y = layer * kRowHeight + (kRowHeight - cell) / 2;
    if (index < kCellPoints) return {kLabelWidth + index * (cell + kGap), y, cell, cell};
    if (layer != int(bits_.size()) - 1) return {};
    const int headX = kLabelWidth + kCellPoints * (cell + kGap) + kHeadGap;
    return {headX + (index - kCellPoints) * (cell + kGap), y, cell, cell};
}

QSize LayerStrip::sizeHint() const {
    const int width = kLabelWidth + kQuantPointCount * (kMaxCell + kGap) + kHeadGap + 4;
    return {width, std::max(1, int(bits_.size())) * kRowHeight + 2};
}

QSize LayerStrip::minimumSizeHint() const {
    return {kLabelWidth + kQuantPointCount * (kMinCell + kGap) + kHeadGap + 4, sizeHint().height()};
}

int LayerStrip::rowAt(QPoint pos) const {
    const int row = pos.y() / kRowHeight;
    return row >= 0 && row < int(bits_.size()) ? row : -1;
}

void LayerStrip::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    for (int l = 0; l < int(bits_.size()); ++l) {
        const QRect row(0, l * kRowHeight, width() - 1, kRowHeight - 1);
        if (l == current_) {
            p.fillRect(row, palette().highlight().color().lighter(170));
        }
        p.setPen(palette().text().color());
        p.drawText(QRect(4, row.top(), kLabelWidth - 6, row.height()), Qt::AlignVCenter | Qt::AlignLeft,
                   tr("Layer %1").arg(l + 1));
        for (int i = 0; i < kQuantPointCount; ++i) {
            const QRect cell = cellRect(l, QuantPoint(i));
            if (cell.isEmpty()) continue;
            p.fillRect(cell, CellDiagram::colourForBits(bits_[size_t(l)][size_t(i)]));
        }
    }
}

void LayerStrip::mousePressEvent(QMouseEvent* event) {
    const int row = rowAt(event->position().toPoint());
    if (row < 0) return;
    setCurrentLayer(row);
    emit layerClicked(row);
}

bool LayerStrip::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        const auto* help = static_cast<QHelpEvent*>(event);
        const int row = rowAt(help->pos());
        for (int i = 0; row >= 0 && i < kQuantPointCount; ++i) {
            if (!cellRect(row, QuantPoint(i)).contains(help->pos())) continue;
            QToolTip::showText(help->globalPos(), tr("layer %1, %2: %3 bits")
                                                      .arg(row + 1)
                                                      .arg(QString::fromUtf8(quantPointName(QuantPoint(i))))
                                                      .arg(bits_[size_t(row)][size_t(i)]));
            return true;
        }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QWidget::event(event);
}

}  // namespace gruq::ui
