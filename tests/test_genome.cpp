// Genome layouts, the text and JSON forms, their errors, and resolving genes to points.
#include "gruq/base/errors.h"
#include "gruq/quant/genome.h"
#include "gruq/data/split.h"

#include <QtTest>

#include <array>
#include <map>

#include <functional>
#include <set>
#include <string>
#include <vector>

using namespace gruq;

namespace {

Genome randomGenome(const GenomeLayout& layout, StableRng& rng) {
    Genome genome;
    genome.layout = &layout;
    const auto span = static_cast<uint64_t>(layout.maxBits - layout.minBits + 1);
    for (int g = 0; g < layout.geneCount(); ++g) {
        genome.bits.push_back(layout.minBits + static_cast<int>(rng.below(span)));
    }
    return genome;
}

// Runs `action`, expects InputError("genome", ...) and returns its message ("" if none was thrown).
std::string genomeErrorOf(const std::function<void()>& action, const std::string& expectedPath = "genome") {
    try {
        action();
    } catch (const InputError& e) {
        if (e.path() != expectedPath) return "wrong path: " + e.path();
        return e.what();
    }
    return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// The canonical default17 text with one gene's token replaced / removed.
std::string defaultTextWithout(const std::string& geneName) {
    std::string text;
    for (const auto& gene : defaultLayout().genes) {
        if (gene.name == geneName) continue;
        text += gene.name + "6 ";
    }
    return text;
}

}  // namespace

class TestGenome : public QObject {
    Q_OBJECT
private slots:
    void knownLayoutsValidate() {
        QCOMPARE(knownLayouts().size(), size_t(3));
        for (const GenomeLayout* layout : knownLayouts()) {
            layout->validate();
            QCOMPARE(layout->minBits, 2);
            QCOMPARE(layout->maxBits, 8);
            QCOMPARE(&layoutByName(layout->name), layout);
        }
        QCOMPARE(defaultLayout().name, std::string("default17"));
        QCOMPARE(homogeneousLayout().name, std::string("homogeneous"));
        QCOMPARE(perGateLayout().name, std::string("per-gate"));
        QCOMPARE(homogeneousLayout().geneCount(), 1);
        QCOMPARE(homogeneousLayout().genes[0].name, std::string("bits"));
        QCOMPARE(perGateLayout().geneCount(), kQuantPointCount);
    }

    void defaultLayoutMatchesDesignTable() {
        const std::vector<std::string> names = {"x",     "w_ih",   "w_hh",  "ih",     "hh",     "sum_r",
                                                "sum_z", "sig_r",  "sig_z", "mul_rn", "sum_n",  "tanh_n",
                                                "mul_zn", "mul_zh", "h",     "w_fc",   "fc"};
        const GenomeLayout& layout = defaultLayout();
        QCOMPARE(layout.geneCount(), 17);
        std::vector<int> timesSet(kQuantPointCount, 0);
        for (int g = 0; g < 17; ++g) {
            QCOMPARE(layout.genes[g].name, names[g]);
            QVERIFY(!layout.genes[g].description.empty());
            for (QuantPoint p : layout.genes[g].points) ++timesSet[static_cast<int>(p)];
        }
        for (int p = 0; p < kQuantPointCount; ++p) QCOMPARE(timesSet[p], 1);
        using P = QuantPoint;
        QCOMPARE(layout.genes[1].points, (std::vector<P>{P::WIr, P::WIz, P::WIn}));
        QCOMPARE(layout.genes[2].points, (std::vector<P>{P::WHr, P::WHz, P::WHn}));
        QCOMPARE(layout.genes[3].points, (std::vector<P>{P::IHr, P::IHz, P::IHn}));
        QCOMPARE(layout.genes[4].points, (std::vector<P>{P::HHr, P::HHz, P::HHn}));
        QCOMPARE(layout.genes[16].points, (std::vector<P>{P::Fc}));
    }

    void pointNamesAndWeightPoints() {
        const std::vector<std::string> names = {
            "x",     "w_ir",  "w_iz",  "w_in",  "w_hr",   "w_hz",  "w_hn",   "ih_r",   "ih_z",
            "ih_n",  "hh_r",  "hh_z",  "hh_n",  "sum_r",  "sum_z", "sig_r",  "sig_z",  "mul_rn",
            "sum_n", "tanh_n", "mul_zn", "mul_zh", "h",   "w_fc",  "fc"};
        QCOMPARE(int(names.size()), kQuantPointCount);
        int weightPoints = 0;
        for (int p = 0; p < kQuantPointCount; ++p) {
            const auto point = static_cast<QuantPoint>(p);
            QCOMPARE(std::string(quantPointName(point)), names[p]);
            QCOMPARE(perGateLayout().genes[p].name, names[p]);
            if (isWeightPoint(point)) ++weightPoints;
        }
        QCOMPARE(weightPoints, 7);
        QVERIFY(isWeightPoint(QuantPoint::WFc));
        QVERIFY(!isWeightPoint(QuantPoint::Fc));
        QVERIFY(!isWeightPoint(QuantPoint::X));
    }

    void validateRejectsBrokenLayouts() {
        GenomeLayout collide = perGateLayout();
        collide.genes[0].name = "W_IR";  // normalises to "wir" like gene "w_ir"
        collide.genes[0].points = {QuantPoint::X};
        QVERIFY_THROWS_EXCEPTION(std::logic_error, collide.validate());

        GenomeLayout doubleSet = defaultLayout();
        doubleSet.genes[0].points.push_back(QuantPoint::WIr);
        QVERIFY_THROWS_EXCEPTION(std::logic_error, doubleSet.validate());

        GenomeLayout unset = defaultLayout();
        unset.genes.pop_back();  // nothing sets Fc
        QVERIFY_THROWS_EXCEPTION(std::logic_error, unset.validate());

        GenomeLayout digitName = homogeneousLayout();
        digitName.genes[0].name = "bits2";  // "bits24" would be ambiguous
        QVERIFY_THROWS_EXCEPTION(std::logic_error, digitName.validate());
    }

    void canonicalText() {
        Genome genome = uniformGenome(defaultLayout(), 8);
        genome.bits[1] = 4;
        genome.bits[2] = 6;
        QCOMPARE(genome.toText(), std::string("x8 w_ih4 w_hh6 ih8 hh8 sum_r8 sum_z8 sig_r8 sig_z8 mul_rn8 "
                                              "sum_n8 tanh_n8 mul_zn8 mul_zh8 h8 w_fc8 fc8"));
        QCOMPARE(uniformGenome(homogeneousLayout(), 5).toText(), std::string("bits5"));
    }

    void textRoundTripRandomGenomes() {
        StableRng rng(20240601);
        for (const GenomeLayout* layout : knownLayouts()) {
            for (int i = 0; i < 1000; ++i) {
                const Genome genome = randomGenome(*layout, rng);
                const Genome parsed = parseGenomeText(genome.toText(), *layout);
                QVERIFY2(parsed == genome, genome.toText().c_str());
            }
        }
    }

    void jsonRoundTripRandomGenomes() {
        StableRng rng(77);
        for (const GenomeLayout* layout : knownLayouts()) {
            for (int i = 0; i < 200; ++i) {
                const Genome genome = randomGenome(*layout, rng);
                const Genome parsed = parseGenomeJson(genome.toJson());
                QVERIFY2(parsed == genome, genome.toJson().c_str());
            }
        }
        const std::string json = uniformGenome(homogeneousLayout(), 3).toJson();
        QCOMPARE(json, std::string(R"({"layout":"homogeneous","genes":{"bits":3}})"));
        const std::string defaultJson = uniformGenome(defaultLayout(), 8).toJson();
        QVERIFY(contains(defaultJson, R"({"layout":"default17","genes":{"x":8,"w_ih":8,"w_hh":8,)"));
    }

    void acceptedSpellings() {
        const Genome expected = [] {
            Genome g = uniformGenome(defaultLayout(), 8);
            g.bits[1] = 4;
            return g;
        }();
        const std::string rest = "x8 w_hh8 ih8 hh8 sum_r8 sum_z8 sig_r8 sig_z8 mul_rn8 sum_n8 tanh_n8 mul_zn8 "
                                 "mul_zh8 h8 w_fc8 fc8";
        QVERIFY(parseGenomeText("wih4 " + rest, defaultLayout()) == expected);
        QVERIFY(parseGenomeText("W_IH=4 " + rest, defaultLayout()) == expected);
        QVERIFY(parseGenomeText(rest + " W_ih = 4", defaultLayout()) == expected);
        QVERIFY(parseGenomeText("  \n" + rest + "\twIH4\n", defaultLayout()) == expected);
        // Commas, with or without spaces, and any order.
        QVERIFY(parseGenomeText("fc8,w_fc8, h8 ,mul_zh=8,MULZN8,tanhn8,sum_n8,mul_rn8,sig_z8,sig_r8,"
                                "sum_z8,sum_r8,hh8,ih8,w_hh8,WIH4,X8",
                                defaultLayout()) == expected);
        QVERIFY(parseGenomeText("BITS=7", homogeneousLayout()) == uniformGenome(homogeneousLayout(), 7));
        QVERIFY(parseGenomeText("bits007", homogeneousLayout()) == uniformGenome(homogeneousLayout(), 7));
    }

    void textErrorsNameTheProblem() {
        const GenomeLayout& layout = defaultLayout();
        auto parse = [&](const std::string& text) {
            return genomeErrorOf([&] { parseGenomeText(text, layout); });
        };
        std::string message = parse(defaultTextWithout("sum_r") + "sum_r9");
        QVERIFY2(contains(message, "gene 'sum_r': 9 bits is outside 2..8"), message.c_str());
        QVERIFY2(contains(message, "default17"), message.c_str());

        message = parse(defaultTextWithout("x") + "x1");
        QVERIFY2(contains(message, "gene 'x': 1 bits is outside 2..8"), message.c_str());

        message = parse(defaultTextWithout("x") + "x99999999999999999999");
        QVERIFY2(contains(message, "gene 'x'") && contains(message, "outside 2..8"), message.c_str());

        message = parse("foo8 " + defaultTextWithout(""));
        QVERIFY2(contains(message, "unknown gene 'foo' in 'foo8'"), message.c_str());
        QVERIFY2(contains(message, "layout default17 has: x, w_ih, w_hh, ih"), message.c_str());

        message = parse(defaultTextWithout("tanh_n"));
        QVERIFY2(contains(message, "missing genes: tanh_n"), message.c_str());
        {
            std::string text;
            for (const auto& gene : layout.genes) {
                if (gene.name != "tanh_n" && gene.name != "h") text += gene.name + "5,";
            }
            message = parse(text);
            QVERIFY2(contains(message, "missing genes: tanh_n, h"), message.c_str());
        }

        message = parse("");
        QVERIFY2(contains(message, "missing genes: x, w_ih, w_hh, ih, hh, sum_r"), message.c_str());
        QVERIFY2(contains(message, "w_fc, fc"), message.c_str());
        message = parse(" ,, \n");
        QVERIFY2(contains(message, "missing genes: x, w_ih"), message.c_str());

        message = parse(defaultTextWithout("") + "X=4");
        QVERIFY2(contains(message, "gene 'x' given twice"), message.c_str());
        QVERIFY2(contains(message, "X=4"), message.c_str());

        for (const std::string token : {"8x", "x", "x=", "=8", "x8y", "x=8=3", "x-3", "x=+3", "=", "w ih8"}) {
            message = parse(token + ", " + defaultTextWithout("x"));
            const std::string firstToken = token.substr(0, token.find(' '));
            QVERIFY2(contains(message, "malformed token '" + firstToken + "'"), (token + " -> " + message).c_str());
        }

        // A token that looks like a known gene with a digit in its name is an unknown gene.
        message = parse("x8=4 " + defaultTextWithout("x"));
        QVERIFY2(contains(message, "unknown gene 'x8'"), message.c_str());

        // Other layouts name themselves.
        message = genomeErrorOf([] { parseGenomeText("bits9", homogeneousLayout()); });
        QVERIFY2(contains(message, "gene 'bits': 9 bits is outside 2..8") && contains(message, "homogeneous"),
                 message.c_str());
        message = genomeErrorOf([] { parseGenomeText("w_ih4", perGateLayout()); });
        QVERIFY2(contains(message, "unknown gene 'w_ih'") && contains(message, "per-gate"), message.c_str());
    }

    void jsonErrorsNameTheProblem() {
        auto parse = [](const std::string& json) { return genomeErrorOf([&] { parseGenomeJson(json); }); };
        std::string message = parse("{\"layout\": \"homogeneous\", \"genes\": {\"bits\": 4");
        QVERIFY2(contains(message, "malformed JSON"), message.c_str());
        message = parse("[1, 2]");
        QVERIFY2(contains(message, "object"), message.c_str());
        message = parse(R"({"genes": {"bits": 4}})");
        QVERIFY2(contains(message, "\"layout\""), message.c_str());
        message = parse(R"({"layout": "homogeneous"})");
        QVERIFY2(contains(message, "\"genes\""), message.c_str());
        message = parse(R"({"layout": 17, "genes": {"bits": 4}})");
        QVERIFY2(contains(message, "\"layout\" must be a string"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": [4]})");
        QVERIFY2(contains(message, "\"genes\" must be an object"), message.c_str());
        message = parse(R"({"layout": "default18", "genes": {"bits": 4}})");
        QVERIFY2(contains(message, "unknown layout 'default18'") &&
                     contains(message, "default17, homogeneous, per-gate"),
                 message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {"bits": 4.5}})");
        QVERIFY2(contains(message, "gene 'bits': bits must be an integer"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {"bits": "4"}})");
        QVERIFY2(contains(message, "gene 'bits': bits must be an integer"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {"bits": 9}})");
        QVERIFY2(contains(message, "gene 'bits': 9 bits is outside 2..8"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {"bits": -3}})");
        QVERIFY2(contains(message, "gene 'bits': -3 bits is outside 2..8"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {"bits": 4, "foo": 3}})");
        QVERIFY2(contains(message, "unknown gene 'foo'"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {"bits": 4, "BITS": 3}})");
        QVERIFY2(contains(message, "gene 'bits' given twice"), message.c_str());
        message = parse(R"({"layout": "homogeneous", "genes": {}})");
        QVERIFY2(contains(message, "missing genes: bits"), message.c_str());

        // Spellings as in the text form.
        QVERIFY(parseGenomeJson(R"({"layout": "homogeneous", "genes": {"Bits": 2}})") ==
                uniformGenome(homogeneousLayout(), 2));
    }

    void layoutByNameErrors() {
        const std::string message = genomeErrorOf([] { layoutByName("per_gate"); }, "genome layout");
        QVERIFY2(contains(message, "unknown layout 'per_gate'") && contains(message, "default17, homogeneous, per-gate"),
                 message.c_str());
    }

    void validateGenomeErrors() {
        Genome genome = uniformGenome(defaultLayout(), 4);
        validateGenome(genome);
        genome.bits.pop_back();
        std::string message = genomeErrorOf([&] { validateGenome(genome); });
        QVERIFY2(contains(message, "wrong length: 16 genes given, layout default17 has 17"), message.c_str());
        // Code-built genomes are checked before use, too.
        QVERIFY_THROWS_EXCEPTION(InputError, genome.resolve());
        QVERIFY_THROWS_EXCEPTION(InputError, genome.toText());

        genome = uniformGenome(defaultLayout(), 4);
        genome.bits[5] = 9;
        message = genomeErrorOf([&] { validateGenome(genome); });
        QVERIFY2(contains(message, "gene 'sum_r': 9 bits is outside 2..8"), message.c_str());

        message = genomeErrorOf([] { validateGenome(Genome{}); });
        QVERIFY2(contains(message, "no layout"), message.c_str());
    }

    void bitBounds() {
        for (const GenomeLayout* layout : knownLayouts()) {
            for (int bits : {2, 8}) {
                const Genome genome = uniformGenome(*layout, bits);
                validateGenome(genome);
                QVERIFY(parseGenomeText(genome.toText(), *layout) == genome);
            }
            for (int bits : {1, 9}) {
                QVERIFY_THROWS_EXCEPTION(InputError, uniformGenome(*layout, bits));
                Genome genome = uniformGenome(*layout, 4);
                genome.bits.back() = bits;
                QVERIFY_THROWS_EXCEPTION(InputError, validateGenome(genome));
                const std::string text = layout->genes.back().name + std::to_string(bits);
                const std::string message =
                    genomeErrorOf([&] { parseGenomeText(text + " " + uniformGenome(*layout, 4).toText(), *layout); });
                QVERIFY2(contains(message, "outside 2..8"), message.c_str());
            }
        }
        QVERIFY_THROWS_EXCEPTION(InputError, parseGenomeText("bits1", homogeneousLayout()));
        QVERIFY_THROWS_EXCEPTION(InputError, parseGenomeText("bits9", homogeneousLayout()));
    }

    void uniformGenomeSetsEveryGene() {
        for (const GenomeLayout* layout : knownLayouts()) {
            const Genome genome = uniformGenome(*layout, 5);
            QCOMPARE(genome.layout, layout);
            QCOMPARE(int(genome.bits.size()), layout->geneCount());
            for (int bits : genome.bits) QCOMPARE(bits, 5);
            const LayerBits resolved = genome.resolve();
            QCOMPARE(int(resolved.size()), 1);
            for (int bits : resolved.front()) QCOMPARE(bits, 5);
        }
    }

    void resolveDefaultLayout() {
        using P = QuantPoint;
        const std::set<P> wIh = {P::WIr, P::WIz, P::WIn};
        Genome genome = uniformGenome(defaultLayout(), 8);
        genome.bits[1] = 3;  // w_ih
        BitAssignment resolved = genome.resolve().front();
        for (int p = 0; p < kQuantPointCount; ++p) {
            QCOMPARE(resolved[p], wIh.count(static_cast<P>(p)) ? 3 : 8);
        }

        // Distinct bits per gene, so every point shows which gene set it.
        genome = parseGenomeText("x2 w_ih3 w_hh4 ih5 hh6 sum_r7 sum_z8 sig_r2 sig_z3 mul_rn4 sum_n5 tanh_n6 "
                                 "mul_zn7 mul_zh8 h2 w_fc3 fc4",
                                 defaultLayout());
        resolved = genome.resolve().front();
        const BitAssignment expected = {2,          // x
                                        3, 3, 3,    // w_ih
                                        4, 4, 4,    // w_hh
                                        5, 5, 5,    // ih
                                        6, 6, 6,    // hh
                                        7, 8,       // sum_r, sum_z
                                        2, 3,       // sig_r, sig_z
                                        4, 5, 6,    // mul_rn, sum_n, tanh_n
                                        7, 8,       // mul_zn, mul_zh
                                        2, 3, 4};   // h, w_fc, fc
        QCOMPARE(resolved, expected);
    }

    void resolveHomogeneousAndPerGate() {
        BitAssignment resolved = parseGenomeText("bits6", homogeneousLayout()).resolve().front();
        for (int bits : resolved) QCOMPARE(bits, 6);

        StableRng rng(5);
        const Genome genome = randomGenome(perGateLayout(), rng);
        resolved = genome.resolve().front();
        for (int p = 0; p < kQuantPointCount; ++p) QCOMPARE(resolved[p], genome.bits[p]);

        Genome one = uniformGenome(perGateLayout(), 8);
        one.bits[static_cast<int>(QuantPoint::TanhN)] = 2;
        resolved = one.resolve().front();
        for (int p = 0; p < kQuantPointCount; ++p) {
            QCOMPARE(resolved[p], p == static_cast<int>(QuantPoint::TanhN) ? 2 : 8);
        }
    }

    // The L-layer forms: the cell's genes once per layer ("l2_..."), x on the first layer, the head once; the
    // counts per L are those of docs/quantization.md.
    void stackedLayoutsRepeatTheCellGenes() {
        QCOMPARE(stackedLayout(defaultLayout(), 1).name, std::string("default17"));
        QCOMPARE(&stackedLayout(defaultLayout(), 1), &defaultLayout());
        const std::map<std::string, std::array<int, 3>> counts = {
            {"default17", {17, 31, 45}}, {"homogeneous", {1, 1, 1}}, {"per-gate", {25, 47, 69}}};
        for (const GenomeLayout* base : knownLayouts()) {
            for (int layers = 1; layers <= 3; ++layers) {
                const GenomeLayout& stacked = stackedLayout(*base, layers);
                QCOMPARE(stacked.layers, layers);
                QCOMPARE(stacked.geneCount(), counts.at(base->name)[size_t(layers - 1)]);
                QCOMPARE(&layoutByName(stacked.name), &stacked);  // found by name, made once
                QCOMPARE(stacked.baseName, base->name);
            }
        }
        QCOMPARE(stackedLayout(defaultLayout(), 2).name, std::string("default17-L2"));
        QVERIFY_THROWS_EXCEPTION(InputError, stackedLayout(defaultLayout(), 0));
        QVERIFY_THROWS_EXCEPTION(InputError, stackedLayout(defaultLayout(), 4));
        QVERIFY_THROWS_EXCEPTION(InputError, layoutByName("default17-L4"));
        QVERIFY_THROWS_EXCEPTION(InputError, layoutByName("default17-L1"));
    }

    void resolveStackedLayout() {
        using P = QuantPoint;
        const GenomeLayout& layout = stackedLayout(defaultLayout(), 3);
        // Layer 1's genes, then layers 2 and 3's cell genes, then the head: every gene its own width.
        Genome genome = uniformGenome(layout, 8);
        for (int g = 0; g < layout.geneCount(); ++g) genome.bits[size_t(g)] = 2 + g % 7;
        const LayerBits bits = genome.resolve();
        QCOMPARE(int(bits.size()), 3);
        auto geneBits = [&](const std::string& name) {
            for (int g = 0; g < layout.geneCount(); ++g) {
                if (layout.genes[size_t(g)].name == name) return genome.bits[size_t(g)];
            }
            return -1;
        };
        QCOMPARE(bits[0][pointIndex(P::X)], geneBits("x"));
        QCOMPARE(bits[0][pointIndex(P::WIz)], geneBits("w_ih"));
        QCOMPARE(bits[1][pointIndex(P::WIz)], geneBits("l2_w_ih"));
        QCOMPARE(bits[2][pointIndex(P::TanhN)], geneBits("l3_tanh_n"));
        QCOMPARE(bits[2][pointIndex(P::H)], geneBits("l3_h"));
        // Layer l >= 2 reads layer l-1's quantized h: its x is that h.
        QCOMPARE(bits[1][pointIndex(P::X)], geneBits("h"));
        QCOMPARE(bits[2][pointIndex(P::X)], geneBits("l2_h"));
        // The head's bits are decided once; every layer carries them.
        for (int l = 0; l < 3; ++l) {
            QCOMPARE(bits[size_t(l)][pointIndex(P::WFc)], geneBits("w_fc"));
            QCOMPARE(bits[size_t(l)][pointIndex(P::Fc)], geneBits("fc"));
        }
        // Text and JSON forms round-trip, and name the stacked layout.
        QCOMPARE(parseGenomeText(genome.toText(), layout), genome);
        QCOMPARE(parseGenomeJson(genome.toJson()), genome);
        QVERIFY(genome.toJson().find("\"default17-L3\"") != std::string::npos);
        // Homogeneous: one gene sets every point of every layer.
        for (const BitAssignment& layer : parseGenomeText("bits5", stackedLayout(homogeneousLayout(), 2)).resolve()) {
            for (int b : layer) QCOMPARE(b, 5);
        }
    }

    void genomeOfTheWrongLayerCountIsRefused() {
        const Genome oneLayer = uniformGenome(defaultLayout(), 8);
        checkGenomeLayers(oneLayer, 1);
        try {
            checkGenomeLayers(oneLayer, 2);
            QFAIL("a one-layer genome passed for a two-layer model");
        } catch (const InputError& e) {
            const std::string m = e.what();
            QVERIFY2(m.find("17 genes") != std::string::npos && m.find("default17-L2, 31 genes") != std::string::npos, e.what());
        }
        // Text with the wrong gene count for a stacked layout names the missing genes.
        QVERIFY_THROWS_EXCEPTION(InputError, parseGenomeText(oneLayer.toText(), stackedLayout(defaultLayout(), 2)));
    }
};

QTEST_APPLESS_MAIN(TestGenome)
#include "test_genome.moc"
