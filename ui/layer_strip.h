#pragma once
// A compact strip of a stacked model's bits: one row per layer, one cell per quantization point of the
// cell (x .. h), coloured as in the cell diagram, and the head's two points (w_fc, fc) after the last
// row. Clicking a row picks that layer for the diagram.
#include "gruq/quant/genome.h"

#include <QWidget>

namespace gruq::ui {

class LayerStrip : public QWidget {
    Q_OBJECT
public:
    explicit LayerStrip(QWidget* parent = nullptr);

    void setBits(const gruq::LayerBits& bits);
    void setCurrentLayer(int layer);  // 0-based; drawn framed
    int currentLayer() const { return current_; }
    // Where layer `layer`'s cell of `point` is drawn (widget coordinates; empty for the head's points
    // of layers before the last).
    QRect cellRect(int layer, gruq::QuantPoint point) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

signals:
    void layerClicked(int layer);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    bool event(QEvent* event) override;  // tooltips: point, layer, bits

private:
    int rowAt(QPoint pos) const;

    gruq::LayerBits bits_;
    int current_ = 0;
};

}  // namespace gruq::ui
