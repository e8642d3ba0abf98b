#include "cell_diagram.h"

#include <QEvent>
#include <QFontMetricsF>
#include <QHelpEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace gruq::ui {
namespace {

using P = gruq::QuantPoint;

// The diagram is laid out on a grid: x in "columns", y in "rows" (one row per gate projection).
// Everything is positioned in these units and mapped to pixels at paint time, so it scales.
constexpr double kGridLeft = 0.0, kGridRight = 11.4;
constexpr double kGridTop = -1.1, kGridBottom = 6.5;
constexpr double kBoxHalfWidth = 0.41, kBoxHalfHeight = 0.31;
constexpr double kLoopRow = -0.72;     // the recurrent h line runs along the top
constexpr double kLegendRow = 6.05;

// Column centres, left to right along the data flow.
constexpr double kColX = 0.47, kColW = 1.8, kColProj = 2.9, kColSum = 3.95, kColSig = 5.0,
                 kColMulRN = 6.05, kColSumN = 7.1, kColTanh = 8.15, kColMulZ = 9.2, kColH = 10.5;
constexpr double kHBusX = 1.0, kXBusX = 1.18;   // vertical buses feeding the weight boxes
constexpr double kZSplitX = 5.6;                // where z branches off towards z ⊙ h
constexpr double kLoopRightX = 11.13;           // where h turns up into the recurrent line
constexpr double kHInElbowX = 9.85;             // elbow of the two products entering h

struct Node {
    P point;
    double col, row;
    const char* meaning;  // tooltip: what the tensor is
};

const std::array<Node, gruq::kQuantPointCount>& nodes() {
    static const std::array<Node, gruq::kQuantPointCount> table = {{
        {P::X, kColX, 2, "x_t: input sequence, one frame per time step (asymmetric activation)"},
        {P::WIr, kColW, 0, "W_ir: input weights, reset gate r (symmetric)"},
        {P::WIz, kColW, 2, "W_iz: input weights, update gate z (symmetric)"},
        {P::WIn, kColW, 4, "W_in: input weights, candidate n (symmetric)"},
        {P::WHr, kColW, 1, "W_hr: hidden weights, reset gate r (symmetric)"},
        {P::WHz, kColW, 3, "W_hz: hidden weights, update gate z (symmetric)"},
        {P::WHn, kColW, 5, "W_hn: hidden weights, candidate n (symmetric)"},
        {P::IHr, kColProj, 0, "W_ir x + b_ir: input projection, reset gate"},
        {P::IHz, kColProj, 2, "W_iz x + b_iz: input projection, update gate"},
        {P::IHn, kColProj, 4, "W_in x + b_in: input projection, candidate"},
        {P::HHr, kColProj, 1, "W_hr h + b_hr: hidden projection, reset gate"},
        {P::HHz, kColProj, 3, "W_hz h + b_hz: hidden projection, update gate"},
        {P::HHn, kColProj, 5, "W_hn h + b_hn: hidden projection, candidate"},
        {P::SumR, kColSum, 0.5, "ih_r + hh_r: reset-gate pre-activation"},
        {P::SumZ, kColSum, 2.5, "ih_z + hh_z: update-gate pre-activation"},
        {P::SigR, kColSig, 0.5, "r = σ(sum_r): reset gate (lookup table, range [0, 1])"},
        {P::SigZ, kColSig, 2.5, "z = σ(sum_z): update gate (lookup table, range [0, 1]); 1 − z is derived from it"},
        {P::MulRN, kColMulRN, 5, "r ⊙ hh_n: reset gate applied to the hidden projection"},
        {P::SumN, kColSumN, 4.5, "ih_n + r ⊙ hh_n: candidate pre-activation"},
        {P::TanhN, kColTanh, 4.5, "n = tanh(sum_n): candidate state (lookup table, range [−1, 1])"},
        {P::MulZN, kColMulZ, 3.5, "(1 − z) ⊙ n: share of the candidate in the new state"},
        {P::MulZH, kColMulZ, 1.5, "z ⊙ h: share of the previous state kept"},
        {P::H, kColH, 2.5, "h' = (1 − z) ⊙ n + z ⊙ h: hidden state, fed back at the next step"},
        {P::WFc, kColH, 3.8, "W_fc: classifier weights (symmetric)"},
        {P::Fc, kColH, 5, "W_fc h_T + b_fc: logits, one per class (argmax = prediction)"},
    }};
    return table;
}

const Node& nodeOf(P point) { return nodes()[static_cast<size_t>(point)]; }

constexpr double kOneMinusZCol = kColSumN, kOneMinusZRow = 2.5, kOneMinusZHalfWidth = 0.5;

// A connector in grid units: a polyline, optionally ending in an arrowhead.
struct Wire {
    std::vector<QPointF> points;
    bool arrow = true;
};
struct Label {
    QPointF at;  // grid units, left baseline
    const char* text;
};

double left(P p) { return nodeOf(p).col - kBoxHalfWidth; }
double right(P p) { return nodeOf(p).col + kBoxHalfWidth; }
double top(P p) { return nodeOf(p).row - kBoxHalfHeight; }
double bottom(P p) { return nodeOf(p).row + kBoxHalfHeight; }
double col(P p) { return nodeOf(p).col; }
double row(P p) { return nodeOf(p).row; }

// Drawn in this order: a later wire crossing an earlier one cuts a small gap into it (a "bridge").
const std::vector<Wire>& wires() {
    static const std::vector<Wire> list = [] {
        std::vector<Wire> w;
        // Recurrent state: h leaves right, runs along the top and down the hidden bus.
        w.push_back({{{right(P::H), row(P::H)}, {kLoopRightX, row(P::H)}, {kLoopRightX, kLoopRow},
                      {kHBusX, kLoopRow}, {kHBusX, row(P::WHn)}}, false});
        // r: from σ_r over to the top of r ⊙ hh_n (drawn early: the horizontals bridge over it).
        w.push_back({{{right(P::SigR), row(P::SigR)}, {col(P::MulRN), row(P::SigR)}, {col(P::MulRN), top(P::MulRN)}}});
        for (P p : {P::WHr, P::WHz, P::WHn}) w.push_back({{{kHBusX, row(p)}, {left(p), row(p)}}});
        // x fans out to the three input weight matrices.
        w.push_back({{{right(P::X), row(P::X)}, {kXBusX, row(P::X)}}, false});
        w.push_back({{{kXBusX, row(P::WIr)}, {kXBusX, row(P::WIn)}}, false});
        for (P p : {P::WIr, P::WIz, P::WIn}) w.push_back({{{kXBusX, row(p)}, {left(p), row(p)}}});
        // Matrix products.
        const std::array<std::pair<P, P>, 6> products = {{{P::WIr, P::IHr}, {P::WIz, P::IHz}, {P::WIn, P::IHn},
                                                          {P::WHr, P::HHr}, {P::WHz, P::HHz}, {P::WHn, P::HHn}}};
        for (auto [from, to] : products) w.push_back({{{right(from), row(from)}, {left(to), row(to)}}});
        // Gate sums: one operand from above, one from below.
        w.push_back({{{right(P::IHr), row(P::IHr)}, {col(P::SumR), row(P::IHr)}, {col(P::SumR), top(P::SumR)}}});
        w.push_back({{{right(P::HHr), row(P::HHr)}, {col(P::SumR), row(P::HHr)}, {col(P::SumR), bottom(P::SumR)}}});
        w.push_back({{{right(P::IHz), row(P::IHz)}, {col(P::SumZ), row(P::IHz)}, {col(P::SumZ), top(P::SumZ)}}});
        w.push_back({{{right(P::HHz), row(P::HHz)}, {col(P::SumZ), row(P::HHz)}, {col(P::SumZ), bottom(P::SumZ)}}});
        w.push_back({{{right(P::SumR), row(P::SumR)}, {left(P::SigR), row(P::SigR)}}});
        w.push_back({{{right(P::SumZ), row(P::SumZ)}, {left(P::SigZ), row(P::SigZ)}}});
        // Candidate: r ⊙ hh_n, + ih_n, tanh.
        w.push_back({{{right(P::HHn), row(P::HHn)}, {left(P::MulRN), row(P::MulRN)}}});
        w.push_back({{{right(P::IHn), row(P::IHn)}, {col(P::SumN), row(P::IHn)}, {col(P::SumN), top(P::SumN)}}});
        w.push_back({{{right(P::MulRN), row(P::MulRN)}, {col(P::SumN), row(P::MulRN)}, {col(P::SumN), bottom(P::SumN)}}});
        w.push_back({{{right(P::SumN), row(P::SumN)}, {left(P::TanhN), row(P::TanhN)}}});
        // z feeds 1 − z and, branching off, z ⊙ h.
        w.push_back({{{right(P::SigZ), row(P::SigZ)}, {kOneMinusZCol - kOneMinusZHalfWidth, kOneMinusZRow}}});
        w.push_back({{{kZSplitX, row(P::SigZ)}, {kZSplitX, row(P::MulZH)}, {left(P::MulZH), row(P::MulZH)}}});
        // h_{t-1} drops from the recurrent line into z ⊙ h.
        w.push_back({{{col(P::MulZH), kLoopRow}, {col(P::MulZH), top(P::MulZH)}}});
        // (1 − z) from above and n from below into (1 − z) ⊙ n.
        w.push_back({{{kOneMinusZCol + kOneMinusZHalfWidth, kOneMinusZRow}, {col(P::MulZN), kOneMinusZRow},
                      {col(P::MulZN), top(P::MulZN)}}});
        w.push_back({{{right(P::TanhN), row(P::TanhN)}, {col(P::MulZN), row(P::TanhN)}, {col(P::MulZN), bottom(P::MulZN)}}});
        // h' = (1 − z) ⊙ n + z ⊙ h.
        w.push_back({{{right(P::MulZH), row(P::MulZH)}, {kHInElbowX, row(P::MulZH)}, {kHInElbowX, row(P::H) - 0.13},
                      {left(P::H), row(P::H) - 0.13}}});
        w.push_back({{{right(P::MulZN), row(P::MulZN)}, {kHInElbowX, row(P::MulZN)}, {kHInElbowX, row(P::H) + 0.13},
                      {left(P::H), row(P::H) + 0.13}}});
        // Classifier on the last hidden state.
        w.push_back({{{col(P::H), bottom(P::H)}, {col(P::WFc), top(P::WFc)}}});
        w.push_back({{{col(P::WFc), bottom(P::WFc)}, {col(P::Fc), top(P::Fc)}}});
        return w;
    }();
    return list;
}

const std::vector<QPointF>& junctions() {
    static const std::vector<QPointF> list = {{kHBusX, row(P::WHr)}, {kHBusX, row(P::WHz)}, {kXBusX, row(P::X)},
                                              {kZSplitX, row(P::SigZ)}, {col(P::MulZH), kLoopRow}};
    return list;
}

const std::vector<Label>& labels() {
    static const std::vector<Label> list = {
        {{3.3, kLoopRow - 0.12}, "h (previous step)"},
        {{col(P::MulRN) + 0.08, 1.05}, "r"},
        {{kZSplitX + 0.08, 2.05}, "z"},
        {{col(P::Fc) + 0.08, bottom(P::Fc) + 0.28}, "logits"},
    };
    return list;
}

// Trims a polyline by `d` pixels at both ends (so a bridge gap does not eat into its joints).
std::vector<QPointF> trimmed(std::vector<QPointF> pts, double d) {
    auto trimEnd = [d](QPointF& moving, const QPointF& other) {
        const QPointF v = other - moving;
        const double len = std::hypot(v.x(), v.y());
        if (len > 2 * d) moving += v * (d / len);
    };
    if (pts.size() >= 2) {
        trimEnd(pts.front(), pts[1]);
        trimEnd(pts.back(), pts[pts.size() - 2]);
    }
    return pts;
}

}  // namespace

struct CellDiagram::Frame {
    double ox = 0, oy = 0;  // pixel position of grid (0, 0)
    double sx = 1, sy = 1;  // pixels per column / row

    QPointF at(QPointF grid) const { return {ox + grid.x() * sx, oy + grid.y() * sy}; }
    QRectF box(double col, double row) const {
        return QRectF(at({col - kBoxHalfWidth, row - kBoxHalfHeight}),
                      at({col + kBoxHalfWidth, row + kBoxHalfHeight}));
    }
    double fontPixels() const { return std::clamp(std::min(sx * 0.21, sy * 0.27), 8.0, 18.0); }
    double lineWidth() const { return std::max(1.0, std::min(sx, sy) / 42.0); }
};

CellDiagram::CellDiagram(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    QSizePolicy policy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
}

void CellDiagram::setBits(const gruq::BitAssignment& bits) {
    bits_ = bits;
    layout_ = nullptr;
    update();
}

void CellDiagram::setBits(const gruq::BitAssignment& bits, const gruq::GenomeLayout& layout, int layer) {
    bits_ = bits;
    layout_ = &layout;
    layer_ = layer;
    update();
}

void CellDiagram::clear() {
    bits_.reset();
    layout_ = nullptr;
    update();
}

QColor CellDiagram::colourForBits(int bits) {
    // ColorBrewer RdYlBu without its near-white middle: every step distinct, none mistaken for "empty".
    static const std::array<QColor, 7> scale = {QColor(0xd7, 0x30, 0x27), QColor(0xf4, 0x6d, 0x43),
                                                QColor(0xfd, 0xae, 0x61), QColor(0xfe, 0xe0, 0x90),
                                                QColor(0xab, 0xd9, 0xe9), QColor(0x74, 0xad, 0xd1),
                                                QColor(0x45, 0x75, 0xb4)};
    return scale[static_cast<size_t>(std::clamp(bits, 2, 8) - 2)];
}

QColor CellDiagram::textColourOn(const QColor& fill) {
    const double luminance = 0.2126 * fill.redF() + 0.7152 * fill.greenF() + 0.0722 * fill.blueF();
    return luminance > 0.45 ? QColor(0x20, 0x20, 0x20) : QColor(Qt::white);
}

CellDiagram::Frame CellDiagram::frame() const {
    Frame f;
    const double gridW = kGridRight - kGridLeft, gridH = kGridBottom - kGridTop;
    f.sx = width() / gridW;
    f.sy = height() / gridH;
    // Keep boxes from turning into slivers on very wide or very tall widgets.
    f.sx = std::min(f.sx, 1.7 * f.sy);
    f.sy = std::min(f.sy, 1.1 * f.sx);
    f.ox = (width() - gridW * f.sx) / 2 - kGridLeft * f.sx;
    f.oy = (height() - gridH * f.sy) / 2 - kGridTop * f.sy;
    return f;
}

QRectF CellDiagram::boxRect(gruq::QuantPoint point) const {
    if (point == P::Count) return {};
    const Node& n = nodeOf(point);
    return frame().box(n.col, n.row);
}

QRectF CellDiagram::oneMinusZRect() const {
    // Wider than the others: there is room on its row, and "derived" needs it at small sizes.
    const Frame f = frame();
    return QRectF(f.at({kOneMinusZCol - kOneMinusZHalfWidth, kOneMinusZRow - kBoxHalfHeight}),
                  f.at({kOneMinusZCol + kOneMinusZHalfWidth, kOneMinusZRow + kBoxHalfHeight}));
}

QString CellDiagram::toolTipAt(QPointF pos) const {
    auto geneOf = [this](P point) -> QString {
        if (!layout_) return {};
        const int g = layout_->geneDeciding(layer_, point);
        if (g < 0) return tr("layer %1's quantized h (no gene of its own)").arg(layer_);
        return tr("set by gene %1 (layout %2)")
            .arg(QString::fromStdString(layout_->genes[size_t(g)].name), QString::fromStdString(layout_->name));
    };
    auto bitsText = [this](P point) {
        return bits_ ? tr("%1 bits").arg((*bits_)[static_cast<size_t>(point)]) : tr("no scheme selected");
    };
    for (const Node& n : nodes()) {
        if (!boxRect(n.point).contains(pos)) continue;
        QStringList lines = {QStringLiteral("%1 — %2").arg(QString::fromUtf8(quantPointName(n.point)), bitsText(n.point)),
                             QString::fromUtf8(n.meaning)};
        if (const QString gene = geneOf(n.point); !gene.isEmpty()) lines << gene;
        return lines.join('\n');
    }
    if (oneMinusZRect().contains(pos))
        return tr("1 − z — derived, no gene\nComputed exactly from the code of sig_z (%1), so it has sig_z's bits.")
            .arg(bitsText(P::SigZ));
    return {};
}

QSize CellDiagram::sizeHint() const { return {580, 380}; }
QSize CellDiagram::minimumSizeHint() const { return {400, 260}; }
int CellDiagram::heightForWidth(int width) const {
    const double aspect = (kGridBottom - kGridTop) / (kGridRight - kGridLeft);
    return std::clamp(static_cast<int>(width * aspect), minimumSizeHint().height(), 560);
}

bool CellDiagram::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QString text = toolTipAt(help->pos());
        if (text.isEmpty()) {
            QToolTip::hideText();
            event->ignore();
        } else {
            QToolTip::showText(help->globalPos(), text, this);
        }
        return true;
    }
    return QWidget::event(event);
}

namespace {

void drawBoxLabel(QPainter& p, const QRectF& box, const QString& name, const QString& bits, double fontPixels) {
    // Text stays inside an inner margin, so the fill is visible (and testable) near the box edges.
    const double marginX = std::max(4.0, box.width() * 0.06);
    const QRectF inner = box.adjusted(marginX, box.height() * 0.06, -marginX, -box.height() * 0.06);
    QFont font = p.font();
    font.setItalic(false);
    auto fits = [&](int pixels) {
        QFont plain = font, bold = font;
        plain.setPixelSize(pixels);
        bold.setPixelSize(pixels);
        bold.setBold(true);
        return QFontMetricsF(plain).horizontalAdvance(name) <= inner.width() &&
               QFontMetricsF(bold).horizontalAdvance(bits) <= inner.width();
    };
    int pixels = static_cast<int>(fontPixels);
    while (pixels > 7 && !fits(pixels)) --pixels;  // shrink long names until they fit
    font.setPixelSize(pixels);
    font.setBold(false);
    p.setFont(font);
    const QRectF upper(box.left(), inner.top(), box.width(), inner.height() / 2);
    const QRectF lower(box.left(), inner.center().y(), box.width(), inner.height() / 2);
    p.drawText(upper, Qt::AlignHCenter | Qt::AlignBottom, name);
    font.setBold(true);
    p.setFont(font);
    p.drawText(lower, Qt::AlignHCenter | Qt::AlignTop, bits);
}

void drawArrowHead(QPainter& p, QPointF tip, QPointF from, double size, const QColor& colour) {
    const QPointF v = tip - from;
    const double len = std::hypot(v.x(), v.y());
    if (len <= 0) return;
    const QPointF u = v / len, n(-u.y(), u.x());
    QPolygonF head;
    head << tip << tip - u * size + n * size * 0.45 << tip - u * size - n * size * 0.45;
    p.setPen(Qt::NoPen);
    p.setBrush(colour);
    p.drawPolygon(head);
}

}  // namespace

void CellDiagram::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const Frame f = frame();
    const QColor background = palette().color(QPalette::Base);
    const QColor ink = palette().color(QPalette::Text);
    const QColor wireColour = QColor(0x55, 0x5b, 0x66);
    p.fillRect(rect(), background);

    const double lw = f.lineWidth();
    const double arrow = std::clamp(std::min(f.sx, f.sy) * 0.15, 5.0, 11.0);
    const double gap = 2.2 * lw + 1.5;

    // Wires, each over a background-coloured halo so crossings read as bridges.
    for (const Wire& w : wires()) {
        std::vector<QPointF> px;
        for (const QPointF& g : w.points) px.push_back(f.at(g));
        QPainterPath halo;
        const std::vector<QPointF> inner = trimmed(px, gap + lw);
        halo.moveTo(inner.front());
        for (size_t i = 1; i < inner.size(); ++i) halo.lineTo(inner[i]);
        p.setBrush(Qt::NoBrush);
        p.setPen(QPen(background, lw + 2 * gap, Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin));
        p.drawPath(halo);

        QPainterPath path;
        path.moveTo(px.front());
        std::vector<QPointF> drawn = px;
        if (w.arrow) {  // stop the line at the arrowhead's base
            const QPointF v = drawn.back() - drawn[drawn.size() - 2];
            const double len = std::hypot(v.x(), v.y());
            if (len > arrow) drawn.back() -= v * (arrow * 0.8 / len);
        }
        for (size_t i = 1; i < drawn.size(); ++i) path.lineTo(drawn[i]);
        p.setPen(QPen(wireColour, lw, Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin));
        p.drawPath(path);
        if (w.arrow) drawArrowHead(p, px.back(), px[px.size() - 2], arrow, wireColour);
    }
    p.setPen(Qt::NoPen);
    p.setBrush(wireColour);
    for (const QPointF& j : junctions()) p.drawEllipse(f.at(j), 1.8 * lw + 0.8, 1.8 * lw + 0.8);

    // Wire labels.
    QFont labelFont = font();
    labelFont.setPixelSize(static_cast<int>(f.fontPixels()));
    labelFont.setItalic(true);
    p.setFont(labelFont);
    p.setPen(wireColour);
    for (const Label& l : labels()) p.drawText(f.at(l.at), QString::fromUtf8(l.text));

    // Boxes: weights square-cornered, operator outputs rounded.
    const QColor unselectedFill(0xdd, 0xdd, 0xdd), borderColour(0x30, 0x30, 0x30);
    const double radius = std::min(f.sx, f.sy) * 0.09;
    for (const Node& n : nodes()) {
        const QRectF box = f.box(n.col, n.row);
        const int b = bits_ ? (*bits_)[static_cast<size_t>(n.point)] : 0;
        const QColor fill = bits_ ? colourForBits(b) : unselectedFill;
        p.setPen(QPen(borderColour, lw));
        p.setBrush(fill);
        if (isWeightPoint(n.point)) p.drawRect(box);
        else p.drawRoundedRect(box, radius, radius);
        p.setPen(bits_ ? textColourOn(fill) : QColor(0x70, 0x70, 0x70));
        drawBoxLabel(p, box, QString::fromUtf8(quantPointName(n.point)), bits_ ? tr("%1 b").arg(b) : QStringLiteral("–"),
                     f.fontPixels());
    }
    // 1 − z: derived exactly from z's code, so it has no gene and no colour of its own.
    {
        const QRectF box = oneMinusZRect();
        p.setPen(QPen(QColor(0x80, 0x80, 0x80), lw, Qt::DashLine));
        p.setBrush(QColor(0xee, 0xee, 0xee));
        p.drawRoundedRect(box, radius, radius);
        p.setPen(QColor(0x50, 0x50, 0x50));
        drawBoxLabel(p, box, QStringLiteral("1 − z"), tr("derived"), f.fontPixels());
    }

    // Legend: one swatch per bit width, plus the derived box.
    {
        const double fontPx = f.fontPixels();
        QFont legendFont = font();
        legendFont.setPixelSize(static_cast<int>(fontPx));
        p.setFont(legendFont);
        const double swatchW = 0.62 * f.sx, swatchH = 0.42 * f.sy;
        const QPointF start = f.at({0.1, kLegendRow});
        p.setPen(ink);
        const QRectF caption(start.x(), start.y() - swatchH / 2, 1.2 * f.sx, swatchH);
        p.drawText(caption, Qt::AlignLeft | Qt::AlignVCenter, tr("bits:"));
        double x = start.x() + 0.75 * f.sx;
        for (int b = 2; b <= 8; ++b, x += swatchW) {
            const QRectF swatch(x, start.y() - swatchH / 2, swatchW, swatchH);
            p.setPen(QPen(borderColour, lw * 0.7));
            p.setBrush(colourForBits(b));
            p.drawRect(swatch);
            p.setPen(textColourOn(colourForBits(b)));
            p.drawText(swatch, Qt::AlignCenter, QString::number(b));
        }
        x += 0.35 * f.sx;
        const QRectF derived(x, start.y() - swatchH / 2, swatchW, swatchH);
        p.setPen(QPen(QColor(0x80, 0x80, 0x80), lw * 0.7, Qt::DashLine));
        p.setBrush(QColor(0xee, 0xee, 0xee));
        p.drawRect(derived);
        p.setPen(ink);
        const QString derivedText = tr("derived, no gene");
        const QFontMetricsF fm(legendFont);
        const double textLeft = derived.right() + 0.12 * f.sx;
        p.drawText(QRectF(textLeft, derived.top(), fm.horizontalAdvance(derivedText) + 2, swatchH),
                   Qt::AlignLeft | Qt::AlignVCenter, derivedText);
        // Shape key (weights square, activations rounded), only where it does not collide.
        const double keyW = 0.42 * f.sx, keyH = 0.3 * f.sy;
        const QString weightsText = tr("weights"), activationsText = tr("activations");
        const double keyWidth = 2 * keyW + fm.horizontalAdvance(weightsText) + fm.horizontalAdvance(activationsText) +
                                3 * fm.height();
        const double rightEdge = f.at({kGridRight, 0}).x();
        double kx = rightEdge - keyWidth;
        if (kx > textLeft + fm.horizontalAdvance(derivedText) + fm.height()) {
            for (const auto& [text, rounded] : {std::pair{weightsText, false}, std::pair{activationsText, true}}) {
                const QRectF shape(kx, start.y() - keyH / 2, keyW, keyH);
                p.setPen(QPen(borderColour, lw * 0.7));
                p.setBrush(Qt::white);
                if (rounded) p.drawRoundedRect(shape, keyH * 0.3, keyH * 0.3);
                else p.drawRect(shape);
                p.setPen(ink);
                const double tx = shape.right() + 0.3 * fm.height();
                p.drawText(QRectF(tx, derived.top(), fm.horizontalAdvance(text) + 2, swatchH),
                           Qt::AlignLeft | Qt::AlignVCenter, text);
                kx = tx + fm.horizontalAdvance(text) + 1.2 * fm.height();
            }
        }
    }

    if (!bits_) {  // no selection: wash out the cell and say what to do
        p.fillRect(QRectF(QPointF(0, 0), QPointF(width(), f.at({0, kLegendRow - 0.45}).y())),
                   QColor(background.red(), background.green(), background.blue(), 120));
        QFont hintFont = font();
        hintFont.setPixelSize(static_cast<int>(f.fontPixels() * 1.25));
        p.setFont(hintFont);
        const QString hint = tr("Click a point of the Pareto plot to see its bit widths");
        const QFontMetricsF fm(hintFont);
        QRectF r(0, 0, fm.horizontalAdvance(hint) + 2 * fm.height(), 2.2 * fm.height());
        r.moveCenter(f.at({(kGridLeft + kGridRight) / 2, 2.5}));
        p.setPen(QPen(QColor(0x90, 0x90, 0x90), 1));
        p.setBrush(QColor(255, 255, 255, 235));
        p.drawRoundedRect(r, 6, 6);
        p.setPen(QColor(0x40, 0x40, 0x40));
        p.drawText(r, Qt::AlignCenter, hint);
    }
}

}  // namespace gruq::ui
