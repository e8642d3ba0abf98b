#pragma once
// Data-flow diagram of one GRU cell (DESIGN.md §3) with one box per quantization point, each filled
// with the colour of its bit width, so a scheme can be read at a glance: which operators got few bits.
#include "gruq/quant/genome.h"

#include <QColor>
#include <QRectF>
#include <QString>
#include <QWidget>

#include <optional>

namespace gruq::ui {

class CellDiagram : public QWidget {
    Q_OBJECT
public:
    explicit CellDiagram(QWidget* parent = nullptr);

    // Shows a scheme (one layer's bits). With a layout, tooltips also name the gene that sets each point
    // of that layer (0-based) of a stacked model.
    void setBits(const gruq::BitAssignment& bits);
    void setBits(const gruq::BitAssignment& bits, const gruq::GenomeLayout& layout, int layer = 0);
    // No selection: grey boxes and a hint.
    void clear();
    bool hasBits() const { return bits_.has_value(); }

    // Sequential scale: 2 bits warm red ... 8 bits cool blue. Out-of-range bits are clamped.
    static QColor colourForBits(int bits);
    // Black or white, whichever reads better on `fill`.
    static QColor textColourOn(const QColor& fill);

    // Where a point's box is drawn at the current widget size (widget coordinates).
    QRectF boxRect(gruq::QuantPoint point) const;
    // The derived 1 − z box (no gene, no point of its own).
    QRectF oneMinusZRect() const;
    // Tooltip text for the box under `pos`, empty when there is none.
    QString toolTipAt(QPointF pos) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;  // keeps the diagram's proportions in a layout

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    struct Frame;  // the grid-unit -> pixel mapping at the current size
    Frame frame() const;

    std::optional<gruq::BitAssignment> bits_;
    const gruq::GenomeLayout* layout_ = nullptr;
    int layer_ = 0;
};

}  // namespace gruq::ui
