// SchemeInspector and CellDiagram: gene table, diagram colours per point (sampled from the rendered
// widget), metrics, confusion matrix routing, invalid rows, tooltips. Set GRUQ_SNAPSHOT_DIR to also
// save PNGs of the rendered inspector for a visual check.
#include "cell_diagram.h"
#include "gruq/quant/genome.h"
#include "layer_strip.h"
#include "scheme_inspector.h"

#include <QApplication>
#include <QDir>
#include <QHelpEvent>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabBar>
#include <QTableWidget>
#include <QToolTip>
#include <QtTest>

#include <cstdlib>

using gruq::QuantPoint;
using gruq::ui::CellDiagram;
using gruq::ui::IndividualRow;
using gruq::ui::InspectorContext;
using gruq::ui::SchemeInspector;

namespace {

// Every bit width 2..8 appears, neighbouring genes differ.
const QVector<int> kMixedGenes = {8, 4, 6, 5, 7, 3, 2, 4, 8, 3, 5, 6, 2, 7, 8, 4, 6};

IndividualRow makeRow(qint64 id, const std::string& layoutName, const QVector<int>& genes) {
    IndividualRow row;
    row.id = id;
    row.layout = QString::fromStdString(layoutName);
    row.genes = genes;
    const gruq::Genome genome{&gruq::layoutByName(layoutName), std::vector<int>(genes.begin(), genes.end())};
    row.genome = QString::fromStdString(genome.toText());
    row.validationAccuracy = 0.8731;
    row.fakeQuantValidationAccuracy = 0.8745;
    row.testAccuracy = -1;
    row.fakeQuantTestAccuracy = -1;
    row.sizeBits = 81234;
    row.sizeFraction = 0.62;
    row.seconds = 12.5;
    row.generation = 3;
    return row;
}

gruq::BitAssignment resolved(const IndividualRow& row) {
    const gruq::Genome genome{&gruq::layoutByName(row.layout.toStdString()),
                              std::vector<int>(row.genes.begin(), row.genes.end())};
    return genome.resolve().front();
}

InspectorContext makeContext() {
    InspectorContext context;
    context.classNames = {"zero", "one", "two"};
    context.floatValidationAccuracy = 0.8812;
    context.floatTestAccuracy = 0.8790;
    context.eightBit = makeRow(1, "homogeneous", {8});
    context.eightBit.baseline = true;
    context.eightBit.generation = -1;
    context.eightBit.sizeBits = 131024;
    context.eightBit.sizeFraction = 1.0;
    context.eightBit.validationAccuracy = 0.8800;
    return context;
}

bool near(const QColor& a, const QColor& b, int tolerance = 6) {
    return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
           std::abs(a.blue() - b.blue()) <= tolerance;
}

// The fill of a box: a pixel just inside its left border at mid height, away from the centred label
// (the diagram keeps labels at least 4 px from the box edges).
QColor fillOf(const QImage& image, const QRectF& box) {
    const QPoint at(static_cast<int>(box.left() + 2.5),
                    static_cast<int>(box.center().y()));
    return image.pixelColor(at);
}

void verifyDiagramColours(CellDiagram& diagram, const gruq::BitAssignment& bits) {
    const QImage image = diagram.grab().toImage();
    for (int i = 0; i < gruq::kQuantPointCount; ++i) {
        const auto point = static_cast<QuantPoint>(i);
        const QColor got = fillOf(image, diagram.boxRect(point));
        const QColor want = CellDiagram::colourForBits(bits[static_cast<size_t>(i)]);
        QVERIFY2(near(got, want), qPrintable(QStringLiteral("%1: got %2, want %3 (%4 bits)")
                                                 .arg(gruq::quantPointName(point), got.name(), want.name())
                                                 .arg(bits[static_cast<size_t>(i)])));
    }
}

void snapshot(QWidget& widget, const QString& name) {
    const QByteArray dir = qgetenv("GRUQ_SNAPSHOT_DIR");
    if (dir.isEmpty()) return;
    QDir().mkpath(QString::fromLocal8Bit(dir));
    QApplication::processEvents();  // let pending layout requests settle first
    QVERIFY(widget.grab().save(QDir(QString::fromLocal8Bit(dir)).filePath(name)));
}

}  // namespace

class TestSchemeInspector : public QObject {
    Q_OBJECT
private slots:
    void colourScaleIsDistinctAndReadable();
    void diagramBoxesDoNotOverlapAndFit();
    void diagramColoursEveryPointByItsBits();
    void diagramClearShowsGreyBoxes();
    void diagramToolTipNamesPointAndGene();
    void inspectorShowsMixedDefaultGenome();
    void inspectorRendersHomogeneousAndPerGate();
    void stackedGenomeShowsOneLayerAtATime();
    void metricsWithoutEightBitBaseline();
    void confusionRoutedByIdWithPerClassAccuracy();
    void confusionRequestedOncePerIndividual();
    void invalidRowsShowAnError();
    void clearSelectionResets();
    void exportButtonEmitsId();
};

void TestSchemeInspector::colourScaleIsDistinctAndReadable() {
    for (int a = 2; a <= 8; ++a) {
        for (int b = a + 1; b <= 8; ++b)
            QVERIFY(!near(CellDiagram::colourForBits(a), CellDiagram::colourForBits(b), 20));
        // Text colour contrast: WCAG-style luminance difference.
        const QColor fill = CellDiagram::colourForBits(a), text = CellDiagram::textColourOn(fill);
        auto lum = [](const QColor& c) { return 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF(); };
        QVERIFY2(std::abs(lum(fill) - lum(text)) > 0.35, qPrintable(QString::number(a)));
    }
    QCOMPARE(CellDiagram::colourForBits(1), CellDiagram::colourForBits(2));  // clamped
    QCOMPARE(CellDiagram::colourForBits(9), CellDiagram::colourForBits(8));
    QVERIFY(CellDiagram::colourForBits(2).red() > CellDiagram::colourForBits(2).blue());  // warm
    QVERIFY(CellDiagram::colourForBits(8).blue() > CellDiagram::colourForBits(8).red());  // cool
}

void TestSchemeInspector::diagramBoxesDoNotOverlapAndFit() {
    CellDiagram diagram;
    for (QSize size : {diagram.minimumSizeHint(), diagram.sizeHint(), QSize(1400, 500), QSize(500, 900)}) {
        diagram.resize(size);
        std::vector<QRectF> boxes;
        for (int i = 0; i < gruq::kQuantPointCount; ++i) boxes.push_back(diagram.boxRect(static_cast<QuantPoint>(i)));
        boxes.push_back(diagram.oneMinusZRect());
        for (size_t i = 0; i < boxes.size(); ++i) {
            QVERIFY(QRectF(diagram.rect()).contains(boxes[i]));
            QVERIFY(boxes[i].width() > 20 && boxes[i].height() > 15);
            for (size_t j = i + 1; j < boxes.size(); ++j) QVERIFY(!boxes[i].intersects(boxes[j]));
        }
    }
}

void TestSchemeInspector::diagramColoursEveryPointByItsBits() {
    CellDiagram diagram;
    gruq::BitAssignment bits{};
    for (int i = 0; i < gruq::kQuantPointCount; ++i) bits[static_cast<size_t>(i)] = 2 + i % 7;
    diagram.setBits(bits);
    for (QSize size : {diagram.minimumSizeHint(), QSize(900, 560)}) {
        diagram.resize(size);
        verifyDiagramColours(diagram, bits);
    }
}

void TestSchemeInspector::diagramClearShowsGreyBoxes() {
    CellDiagram diagram;
    diagram.resize(diagram.sizeHint());
    gruq::BitAssignment bits{};
    bits.fill(2);
    diagram.setBits(bits);
    QVERIFY(diagram.hasBits());
    diagram.clear();
    QVERIFY(!diagram.hasBits());
    const QImage image = diagram.grab().toImage();
    const QColor fill = fillOf(image, diagram.boxRect(QuantPoint::X));
    QVERIFY2(fill.red() == fill.green() && fill.green() == fill.blue(), qPrintable(fill.name()));  // grey
}

void TestSchemeInspector::diagramToolTipNamesPointAndGene() {
    CellDiagram diagram;
    diagram.resize(diagram.sizeHint());
    const IndividualRow row = makeRow(5, "default17", kMixedGenes);
    diagram.setBits(resolved(row), gruq::defaultLayout());

    const QString hz = diagram.toolTipAt(diagram.boxRect(QuantPoint::HHz).center());
    QVERIFY2(hz.contains("hh_z") && hz.contains("W_hz h + b_hz") && hz.contains("update gate"), qPrintable(hz));
    QVERIFY2(hz.contains(QStringLiteral("%1 bits").arg(kMixedGenes[4])), qPrintable(hz));  // gene 5 = hh
    QVERIFY2(hz.contains("gene hh"), qPrintable(hz));
    QVERIFY(diagram.toolTipAt(diagram.oneMinusZRect().center()).contains("derived"));
    QVERIFY(diagram.toolTipAt(QPointF(1, 1)).isEmpty());

    // Through the real event path too.
    diagram.show();
    QVERIFY(QTest::qWaitForWindowExposed(&diagram));
    const QPoint centre = diagram.boxRect(QuantPoint::SigZ).center().toPoint();
    QHelpEvent help(QEvent::ToolTip, centre, diagram.mapToGlobal(centre));
    QApplication::sendEvent(&diagram, &help);
    QTRY_VERIFY2(QToolTip::text().contains("sig_z"), qPrintable(QToolTip::text()));
    QToolTip::hideText();
}

void TestSchemeInspector::inspectorShowsMixedDefaultGenome() {
    SchemeInspector inspector;
    inspector.resize(560, 1500);
    inspector.setContext(makeContext());
    const IndividualRow row = makeRow(42, "default17", kMixedGenes);
    inspector.showIndividual(row);
    inspector.show();
    QVERIFY(QTest::qWaitForWindowExposed(&inspector));
    QCOMPARE(inspector.currentId(), qint64(42));

    auto* genes = inspector.findChild<QTableWidget*>("geneTable");
    QVERIFY(genes);
    QCOMPARE(genes->rowCount(), 17);
    for (int i = 0; i < 17; ++i) {
        QCOMPARE(genes->item(i, 0)->text(), QString::fromStdString(gruq::defaultLayout().genes[i].name));
        QCOMPARE(genes->item(i, 1)->text().toInt(), kMixedGenes[i]);
    }

    auto* diagram = const_cast<CellDiagram*>(inspector.diagram());
    QVERIFY(diagram->width() >= diagram->minimumSizeHint().width());
    verifyDiagramColours(*diagram, resolved(row));

    auto* header = inspector.findChild<QLabel*>("headerLabel");
    QVERIFY(header->text().contains("#42") && header->text().contains("generation 3"));
    QVERIFY(header->text().contains(row.genome));

    const QString metrics = inspector.findChild<QLabel*>("metricsLabel")->text();
    QVERIFY2(metrics.contains(QStringLiteral("%1 bytes").arg(row.sizeBytes())), qPrintable(metrics));
    QVERIFY2(metrics.contains("Δ size vs 8-bit"), qPrintable(metrics));
    // (81234 - 131024) bits: 10155 - 16378 bytes, -38.0 %
    QVERIFY2(metrics.contains(QStringLiteral("\u22126223 bytes")), qPrintable(metrics));
    QVERIFY2(metrics.contains(QStringLiteral("\u221238.0 %")), qPrintable(metrics));
    QVERIFY2(metrics.contains(QStringLiteral("\u22120.69 pp")), qPrintable(metrics));  // vs 8-bit validation
    QVERIFY2(metrics.contains(QStringLiteral("\u22120.81 pp")), qPrintable(metrics));  // vs float validation
    QVERIFY2(metrics.contains("not measured"), qPrintable(metrics));                 // test accuracy
    QVERIFY(metrics.contains("12.5 s"));

    auto* placeholder = inspector.findChild<QLabel*>("confusionPlaceholder");
    QVERIFY(placeholder->isVisible());
    QCOMPARE(placeholder->text(), QStringLiteral("computing confusion matrix…"));
    inspector.setConfusion(42, {{50, 3, 2}, {4, 40, 6}, {0, 10, 30}});
    inspector.resize(560, 1250);
    snapshot(inspector, "scheme_inspector_mixed.png");
    snapshot(*diagram, "cell_diagram_mixed.png");
    diagram->resize(1100, 720);
    snapshot(*diagram, "cell_diagram_large.png");
}

// A 2-layer genome: the gene table lists all 31 genes; the diagram shows layer 1, the layer tabs and the
// strip switch it to layer 2 (its own bits; its x is layer 1's h), tooltips name the layer's genes.
void TestSchemeInspector::stackedGenomeShowsOneLayerAtATime() {
    const gruq::GenomeLayout& layout = gruq::stackedLayout(gruq::defaultLayout(), 2);
    QVector<int> genes;
    for (int g = 0; g < layout.geneCount(); ++g) genes.push_back(2 + (g * 5 + g / 15) % 7);  // layer 2 differs
    SchemeInspector inspector;
    inspector.resize(640, 1500);
    inspector.setContext(makeContext());
    const IndividualRow row = makeRow(77, layout.name, genes);
    inspector.showIndividual(row);
    inspector.show();
    QVERIFY(QTest::qWaitForWindowExposed(&inspector));
    QCOMPARE(inspector.currentId(), qint64(77));
    QCOMPARE(inspector.findChild<QTableWidget*>("geneTable")->rowCount(), 31);

    const gruq::LayerBits bits = gruq::Genome{&layout, std::vector<int>(genes.begin(), genes.end())}.resolve();
    QVERIFY(bits[0] != bits[1]);  // the layers differ, so a diagram showing the wrong one is caught
    auto* tabs = inspector.findChild<QTabBar*>("layerTabs");
    auto* strip = inspector.findChild<gruq::ui::LayerStrip*>("layerStrip");
    QVERIFY(tabs && strip);
    QVERIFY(tabs->isVisible() && strip->isVisible());
    QCOMPARE(tabs->count(), 2);
    QCOMPARE(tabs->tabText(1), QStringLiteral("Layer 2"));
    auto* diagram = const_cast<CellDiagram*>(inspector.diagram());
    QCOMPARE(inspector.shownLayer(), 0);
    verifyDiagramColours(*diagram, bits[0]);

    // The tab: layer 2's bits; the tooltip of its w_ih names l2_w_ih, its x says it has no gene.
    QTest::mouseClick(tabs, Qt::LeftButton, {}, tabs->tabRect(1).center());
    QCOMPARE(inspector.shownLayer(), 1);
    verifyDiagramColours(*diagram, bits[1]);
    QVERIFY(diagram->toolTipAt(diagram->boxRect(QuantPoint::WIr).center()).contains("l2_w_ih"));
    QVERIFY(diagram->toolTipAt(diagram->boxRect(QuantPoint::X).center()).contains("layer 1's quantized h"));
    QVERIFY(diagram->toolTipAt(diagram->boxRect(QuantPoint::WFc).center()).contains("gene w_fc"));
    QCOMPARE(strip->currentLayer(), 1);

    // The strip: every layer's cells in the bits' colours; clicking layer 1's row goes back to it.
    const QImage image = strip->grab().toImage();
    for (int l = 0; l < 2; ++l) {
        for (QuantPoint p : {QuantPoint::WIr, QuantPoint::SigZ, QuantPoint::H}) {
            const QRect cell = strip->cellRect(l, p);
            QVERIFY(near(image.pixelColor(cell.center()), CellDiagram::colourForBits(bits[size_t(l)][gruq::pointIndex(p)])));
        }
    }
    QVERIFY(strip->cellRect(0, QuantPoint::Fc).isEmpty());  // the head is drawn once, after the last layer
    QVERIFY(!strip->cellRect(1, QuantPoint::Fc).isEmpty());
    QTest::mouseClick(strip, Qt::LeftButton, {}, strip->cellRect(0, QuantPoint::H).center());
    QCOMPARE(inspector.shownLayer(), 0);
    QCOMPARE(tabs->currentIndex(), 0);
    verifyDiagramColours(*diagram, bits[0]);
    snapshot(inspector, "scheme_inspector_stacked.png");

    // A one-layer genome hides the layer controls again.
    inspector.showIndividual(makeRow(78, "default17", kMixedGenes));
    QVERIFY(!tabs->isVisible() && !strip->isVisible());
}

void TestSchemeInspector::inspectorRendersHomogeneousAndPerGate() {
    SchemeInspector inspector;
    inspector.resize(600, 1400);
    inspector.setContext(makeContext());
    inspector.show();
    QVERIFY(QTest::qWaitForWindowExposed(&inspector));
    auto* diagram = const_cast<CellDiagram*>(inspector.diagram());
    auto* genes = inspector.findChild<QTableWidget*>("geneTable");

    IndividualRow homogeneous = makeRow(1, "homogeneous", {8});
    homogeneous.baseline = true;
    homogeneous.generation = -1;
    homogeneous.sizeBits = 131024;
    inspector.showIndividual(homogeneous);
    QCOMPARE(genes->rowCount(), 1);
    QVERIFY(inspector.findChild<QLabel*>("headerLabel")->text().contains("homogeneous baseline"));
    QVERIFY(inspector.findChild<QLabel*>("metricsLabel")->text().contains("This is the homogeneous 8-bit baseline"));
    verifyDiagramColours(*diagram, resolved(homogeneous));

    QVector<int> perGate;
    for (int i = 0; i < gruq::kQuantPointCount; ++i) perGate << 8 - i % 7;
    const IndividualRow fine = makeRow(7, "per-gate", perGate);
    inspector.showIndividual(fine);
    QCOMPARE(genes->rowCount(), gruq::kQuantPointCount);
    verifyDiagramColours(*diagram, resolved(fine));
    snapshot(inspector, "scheme_inspector_per_gate.png");
}

void TestSchemeInspector::metricsWithoutEightBitBaseline() {
    SchemeInspector inspector;
    InspectorContext context;  // nothing known yet
    inspector.setContext(context);
    inspector.showIndividual(makeRow(9, "default17", kMixedGenes));
    const QString metrics = inspector.findChild<QLabel*>("metricsLabel")->text();
    QVERIFY2(metrics.contains("10155 bytes"), qPrintable(metrics));
    QVERIFY(metrics.contains("not evaluated yet"));
    QVERIFY(!metrics.contains("Δ integer vs 8-bit"));
    // The baseline arriving later updates the shown metrics.
    inspector.setContext(makeContext());
    QVERIFY(inspector.findChild<QLabel*>("metricsLabel")->text().contains("Δ size vs 8-bit"));
}

void TestSchemeInspector::confusionRoutedByIdWithPerClassAccuracy() {
    SchemeInspector inspector;
    inspector.setContext(makeContext());
    inspector.showIndividual(makeRow(42, "default17", kMixedGenes));
    auto* table = inspector.findChild<QTableWidget*>("confusionTable");
    QVERIFY(table);

    inspector.setConfusion(41, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}});  // stale answer: ignored
    QCOMPARE(table->rowCount(), 0);
    QVERIFY(table->isHidden());

    inspector.setConfusion(42, {{50, 3, 2}, {4, 40, 6}, {0, 10, 30}});
    QVERIFY(!table->isHidden());
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(table->columnCount(), 4);
    QCOMPARE(table->verticalHeaderItem(1)->text(), QStringLiteral("one"));
    QCOMPARE(table->horizontalHeaderItem(2)->text(), QStringLiteral("two"));
    QCOMPARE(table->item(1, 2)->text(), QStringLiteral("6"));
    QCOMPARE(table->item(0, 3)->data(Qt::UserRole).toDouble(), 50.0 / 55.0);
    QCOMPARE(table->item(1, 3)->text(), QStringLiteral("80.00 %"));
    QCOMPARE(table->item(2, 3)->text(), QStringLiteral("75.00 %"));
    // Shade follows the fraction of the row: the diagonal of row 0 is darker than its off-diagonals.
    QVERIFY(table->item(0, 0)->background().color().lightness() < table->item(0, 1)->background().color().lightness());
    QVERIFY(inspector.findChild<QLabel*>("confusionPlaceholder")->text().contains("145 samples"));

    inspector.setConfusion(41, {{9, 9}, {9, 9}});  // still ignored after a valid one
    QCOMPARE(table->rowCount(), 3);

    // A new selection drops the old matrix.
    inspector.showIndividual(makeRow(43, "default17", kMixedGenes));
    QVERIFY(table->isHidden());
    QCOMPARE(inspector.findChild<QLabel*>("confusionPlaceholder")->text(), QStringLiteral("computing confusion matrix…"));
}

void TestSchemeInspector::confusionRequestedOncePerIndividual() {
    SchemeInspector inspector;
    QSignalSpy spy(&inspector, &SchemeInspector::confusionRequested);
    IndividualRow row = makeRow(42, "default17", kMixedGenes);
    inspector.showIndividual(row);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toLongLong(), 42);
    inspector.setConfusion(42, {{1, 0}, {0, 1}});
    row.testAccuracy = 0.86;  // the same individual refreshed: keeps its matrix, no new request
    inspector.showIndividual(row);
    QCOMPARE(spy.count(), 1);
    QVERIFY(!inspector.findChild<QTableWidget*>("confusionTable")->isHidden());
    QVERIFY(inspector.findChild<QLabel*>("metricsLabel")->text().contains("86.00 %"));
    inspector.showIndividual(makeRow(43, "default17", kMixedGenes));
    QCOMPARE(spy.count(), 2);
}

void TestSchemeInspector::invalidRowsShowAnError() {
    SchemeInspector inspector;
    inspector.resize(500, 900);
    inspector.show();
    QSignalSpy requests(&inspector, &SchemeInspector::confusionRequested);
    auto* header = inspector.findChild<QLabel*>("headerLabel");

    IndividualRow unknown = makeRow(3, "default17", kMixedGenes);
    unknown.layout = "nope";
    inspector.showIndividual(unknown);
    QVERIFY2(header->text().contains("Cannot show") && header->text().contains("nope"), qPrintable(header->text()));
    QCOMPARE(inspector.currentId(), qint64(0));
    QVERIFY(!inspector.diagram()->hasBits());
    QVERIFY(!inspector.findChild<QPushButton*>("exportButton")->isEnabled());

    IndividualRow shortGenome = makeRow(4, "default17", kMixedGenes);
    shortGenome.genes.resize(5);
    inspector.showIndividual(shortGenome);
    QVERIFY(header->text().contains("Cannot show"));
    QCOMPARE(inspector.findChild<QTableWidget*>("geneTable")->rowCount(), 0);

    IndividualRow outOfRange = makeRow(5, "homogeneous", {8});
    outOfRange.genes = {12};
    inspector.showIndividual(outOfRange);
    QVERIFY(header->text().contains("Cannot show"));
    inspector.setConfusion(5, {{1}});  // no crash, nothing shown
    QVERIFY(inspector.findChild<QTableWidget*>("confusionTable")->isHidden());
    QCOMPARE(requests.count(), 0);
    (void)inspector.grab();  // paints without crashing

    inspector.showIndividual(makeRow(6, "default17", kMixedGenes));  // recovers
    QVERIFY(!header->text().contains("Cannot show"));
    QCOMPARE(inspector.currentId(), qint64(6));
}

void TestSchemeInspector::clearSelectionResets() {
    SchemeInspector inspector;
    inspector.setContext(makeContext());
    inspector.showIndividual(makeRow(42, "default17", kMixedGenes));
    inspector.setConfusion(42, {{1, 0}, {0, 1}});
    inspector.clearSelection();
    QCOMPARE(inspector.currentId(), qint64(0));
    QVERIFY(!inspector.diagram()->hasBits());
    QCOMPARE(inspector.findChild<QTableWidget*>("geneTable")->rowCount(), 0);
    QVERIFY(inspector.findChild<QTableWidget*>("confusionTable")->isHidden());
    QVERIFY(!inspector.findChild<QPushButton*>("exportButton")->isEnabled());
    QVERIFY(inspector.findChild<QLabel*>("headerLabel")->text().contains("No scheme selected"));
    inspector.resize(560, 900);
    snapshot(inspector, "scheme_inspector_empty.png");
}

void TestSchemeInspector::exportButtonEmitsId() {
    SchemeInspector inspector;
    QSignalSpy spy(&inspector, &SchemeInspector::exportRequested);
    auto* button = inspector.findChild<QPushButton*>("exportButton");
    QVERIFY(button);
    button->click();  // nothing selected: disabled, no signal
    QCOMPARE(spy.count(), 0);
    inspector.showIndividual(makeRow(77, "default17", kMixedGenes));
    button->click();
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toLongLong(), 77);
}

QTEST_MAIN(TestSchemeInspector)
#include "test_scheme_inspector.moc"
