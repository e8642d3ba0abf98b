// The firmware blob: writing then reading gives the identical integer model for homogeneous, mixed and
// per-gate genomes, of one layer and stacked (2 and 3 layers with random per-layer bits); its size is the
// size objective + the 640-byte header for one layer, blobBytes() always; a stacked blob keeps the first
// layer and the head where a one-layer blob has them; version-1 and -2 blobs still read; every single-bit
// flip, every truncation, a wrong version, size-inconsistent headers, bad layer counts and truncated or
// inconsistent layer sections are rejected with their specific code (test_firmware_export breaks every
// documented rule against both readers); randomly mutated headers and layer records (with a valid CRC)
// never crash the reader.
#include "gruq/export/blob.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/quant/size_metric.h"
#include "model_test_support.h"

#include <QtTest>

using namespace gruq;
using namespace gruq::test;

namespace {

LayerRanges plausibleRanges(uint64_t seed, int64_t layers = 1) {
    StableRng rng(seed);
    LayerRanges all(static_cast<size_t>(layers));
    for (auto& r : all) {
        for (auto& v : r) {
            v.min = -rng.uniform(0.1, 4.0);
            v.max = rng.uniform(0.1, 4.0);
        }
    }
    return all;
}

Genome randomGenome(const GenomeLayout& layout, StableRng& rng) {
    Genome g = uniformGenome(layout, 8);
    for (int& b : g.bits) b = 2 + int(rng.below(7));
    return g;
}

void setU16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
    b[at] = uint8_t(v);
    b[at + 1] = uint8_t(v >> 8);
}

void setU32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + size_t(i)] = uint8_t(v >> (8 * i));
}

uint32_t u32(const std::vector<uint8_t>& b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}

void resealCrc(std::vector<uint8_t>& b) {
    const uint32_t crc = crc32Of(b.data() + 16, b.size() - 16);
    for (int i = 0; i < 4; ++i) b[12 + size_t(i)] = uint8_t(crc >> (8 * i));
}

BlobError::Code codeOf(const std::vector<uint8_t>& bytes) {
    try {
        readBlob(bytes, "test.bin");
    } catch (const BlobError& e) {
        return e.code();
    }
    return BlobError::Code(0);
}

void compareLayers(const QuantizedGruLayer& a, const QuantizedGruLayer& b) {
    QVERIFY(a.bits == b.bits);
    for (int p = 0; p < kQuantPointCount; ++p) {
        QCOMPARE(a.act[size_t(p)].bits, b.act[size_t(p)].bits);
        QCOMPARE(a.act[size_t(p)].scale, b.act[size_t(p)].scale);
        QCOMPARE(a.act[size_t(p)].zeroPoint, b.act[size_t(p)].zeroPoint);
    }
    QVERIFY(a.wIh == b.wIh);
    QVERIFY(a.wHh == b.wHh);
    QVERIFY(a.wIhScale == b.wIhScale);
    QVERIFY(a.wHhScale == b.wHhScale);
    QVERIFY(a.bIh == b.bIh);
    QVERIFY(a.bHh == b.bHh);
    for (int g = 0; g < 3; ++g) {
        QCOMPARE(a.ihRescale[size_t(g)].mantissa, b.ihRescale[size_t(g)].mantissa);
        QCOMPARE(a.ihRescale[size_t(g)].shift, b.ihRescale[size_t(g)].shift);
        QCOMPARE(a.hhRescale[size_t(g)].mantissa, b.hhRescale[size_t(g)].mantissa);
        QCOMPARE(a.hhRescale[size_t(g)].shift, b.hhRescale[size_t(g)].shift);
    }
    for (auto [x, y] : {std::pair{&a.mulRNRescale, &b.mulRNRescale}, std::pair{&a.mulZNRescale, &b.mulZNRescale},
                        std::pair{&a.mulZHRescale, &b.mulZHRescale}}) {
        QCOMPARE(x->mantissa, y->mantissa);
        QCOMPARE(x->shift, y->shift);
    }
    for (auto [x, y] : {std::pair{&a.sumRRescale, &b.sumRRescale}, std::pair{&a.sumZRescale, &b.sumZRescale},
                        std::pair{&a.sumNRescale, &b.sumNRescale}, std::pair{&a.hRescale, &b.hRescale}}) {
        QCOMPARE(x->multiplierA, y->multiplierA);
        QCOMPARE(x->multiplierB, y->multiplierB);
        QCOMPARE(x->shift, y->shift);
    }
    QVERIFY(a.sigRLut == b.sigRLut);
    QVERIFY(a.sigZLut == b.sigZLut);
    QVERIFY(a.tanhNLut == b.tanhNLut);
}

void compareModels(const QuantizedGru& a, const QuantizedGru& b) {
    QCOMPARE(a.shape.key(), b.shape.key());
    QCOMPARE(a.shape.numLayers, b.shape.numLayers);
    QCOMPARE(a.layers.size(), b.layers.size());
    for (size_t l = 0; l < a.layers.size(); ++l) {
        compareLayers(a.layers[l], b.layers[l]);
        if (QTest::currentTestFailed()) qWarning("layer %zu differs", l + 1);
    }
    QVERIFY(a.wFc == b.wFc);
    QCOMPARE(a.wFcScale, b.wFcScale);
    QVERIFY(a.bFc == b.bFc);
    QCOMPARE(a.fcRescale.mantissa, b.fcRescale.mantissa);
    QCOMPARE(a.fcRescale.shift, b.fcRescale.shift);
}

// The one-layer genome of the base layout that resolves to these widths (one layer's, head included).
Genome oneLayerGenomeFor(const GenomeLayout& stacked, const BitAssignment& bits) {
    Genome g;
    g.layout = &layoutByName(stacked.baseName);
    for (const GeneSpec& gene : g.layout->genes) g.bits.push_back(bits[pointIndex(gene.points.front())]);
    return g;
}

}  // namespace

class TestBlob : public QObject {
    Q_OBJECT

    // F 5, H 9, C 4, as many layers as the genome's layout has.
    QuantizedGru modelFor(const Genome& g, uint64_t seed = 1) {
        const int64_t L = g.layout->layers;
        return buildQuantizedGru(randomWeights(5, 9, 4, 3 + uint64_t(L), L), g.resolve(), plausibleRanges(seed, L));
    }

    static Normalization randomNormalization(int64_t F, StableRng& rng) {
        Normalization norm;
        norm.mean.clear();
        norm.stdDev.clear();
        for (int64_t f = 0; f < F; ++f) {
            norm.mean.push_back(float(rng.uniform(-3, 3)));
            norm.stdDev.push_back(float(rng.uniform(0.1, 5)));
        }
        return norm;
    }

    void checkRoundTrip(const Genome& g, const QuantizedGru& model, const Normalization* norm) {
        const std::vector<uint8_t> blob = writeBlob(model, g, "unit-test", norm);
        QCOMPARE(int64_t(blob.size()), blobBytes(model.shape, model.bits(), norm != nullptr));
        if (model.shape.numLayers == 1) {
            QCOMPARE(int64_t(blob.size()), int64_t(kBlobHeaderBytes) + modelSize(model.shape, model.bits()).totalBytes() +
                                               (norm ? 8 * model.shape.inputSize : 0));
        }
        const BlobContents back = readBlob(blob, "memory");
        // The oldest version that holds the model: 2 for one layer, 3 for a stack.
        QCOMPARE(back.formatVersion, model.shape.numLayers == 1 ? 2 : 3);
        QVERIFY(back.genome == g);
        QCOMPARE(back.taskName, std::string("unit-test"));
        compareModels(back.model, model);
        QCOMPARE(back.normalization.has_value(), norm != nullptr);
        if (norm) QVERIFY(back.normalization->mean == norm->mean && back.normalization->stdDev == norm->stdDev);
        QVERIFY(writeBlob(back.model, back.genome, back.taskName, back.normalization ? &*back.normalization : nullptr) == blob);
    }

    // A 2-layer blob and the facts about it the damage tests need.
    struct Stacked {
        std::vector<uint8_t> blob;
        QuantizedGru model;
        size_t section = 0;  // first byte of the layer section
        size_t record = 0;   // first byte of layer 2's record
    };
    Stacked stackedBlob(const GenomeLayout& base, int layers, uint64_t seed, bool withNorm) {
        StableRng rng(seed);
        const Genome g = randomGenome(stackedLayout(base, layers), rng);
        Stacked s;
        s.model = modelFor(g, seed);
        const Normalization norm = randomNormalization(s.model.shape.inputSize, rng);
        s.blob = writeBlob(s.model, g, "stacked", withNorm ? &norm : nullptr);
        s.section = s.blob.size() - u32(s.blob, 616);
        s.record = s.section + kBlobGeneExtensionBytes;
        return s;
    }

private slots:
    void crcIsZlibs() {
        const char* check = "123456789";
        QCOMPARE(crc32Of(reinterpret_cast<const uint8_t*>(check), 9), 0xCBF43926u);
    }

    void roundTripIsIdentical() {
        StableRng rng(7);
        std::vector<Genome> genomes = {uniformGenome(homogeneousLayout(), 8), uniformGenome(homogeneousLayout(), 2),
                                       uniformGenome(defaultLayout(), 5)};
        for (int i = 0; i < 12; ++i) genomes.push_back(randomGenome(defaultLayout(), rng));
        for (int i = 0; i < 12; ++i) genomes.push_back(randomGenome(perGateLayout(), rng));
        for (size_t i = 0; i < genomes.size(); ++i) {
            const QuantizedGru model = modelFor(genomes[i], i);
            // Every other blob carries a per-feature normalisation section.
            const Normalization norm = randomNormalization(model.shape.inputSize, rng);
            checkRoundTrip(genomes[i], model, i % 2 == 1 ? &norm : nullptr);
            if (QTest::currentTestFailed()) return;
        }
    }

    // 2 and 3 layers, every layout, random bits per layer (per-gate-L3: 69 genes, past the header's 32).
    void stackedRoundTripIsIdentical() {
        StableRng rng(17);
        int blobs = 0;
        for (int layers : {2, 3}) {
            for (const GenomeLayout* base : knownLayouts()) {
                const GenomeLayout& layout = stackedLayout(*base, layers);
                for (int i = 0; i < 4; ++i) {
                    const Genome g = i == 0 && base == &homogeneousLayout() ? uniformGenome(layout, 2) : randomGenome(layout, rng);
                    const QuantizedGru model = modelFor(g, uint64_t(100 * layers + i));
                    QCOMPARE(int64_t(model.layers.size()), int64_t(layers));
                    const Normalization norm = randomNormalization(model.shape.inputSize, rng);
                    checkRoundTrip(g, model, i % 2 == 0 ? &norm : nullptr);
                    if (QTest::currentTestFailed()) {
                        qWarning("genome %s", g.toText().c_str());
                        return;
                    }
                    ++blobs;
                }
            }
        }
        qInfo("%d stacked blobs round-trip", blobs);
    }

    // A stacked blob keeps the first layer and the head exactly where a one-layer blob of them has them:
    // the header's layer fields, the payload and the normalisation section are byte for byte those of the
    // one-layer model (only the size, CRC, genome, layer count and layer-section fields differ).
    void stackedBlobKeepsTheFirstLayerWhereVersion2HasIt() {
        for (int layers : {2, 3}) {
            const Stacked s = stackedBlob(defaultLayout(), layers, uint64_t(layers), true);
            const BlobContents back = readBlob(s.blob, "stacked");
            QuantizedGru one = s.model;
            one.layers.resize(1);
            one.shape.numLayers = 1;
            const Genome g = oneLayerGenomeFor(*back.genome.layout, one.layers.front().bits);
            const std::vector<uint8_t> single = writeBlob(one, g, "stacked", &*back.normalization);
            QCOMPARE(s.section, single.size());
            for (size_t i = 16; i < single.size(); ++i) {
                const bool differs = (i >= 23 && i < 56) || i == 612 || (i >= 616 && i < 620);
                if (!differs && s.blob[i] != single[i]) QFAIL(qPrintable(QString("byte %1 differs").arg(i)));
            }
        }
    }

    // A one-layer model is written as version 2 (byte 612 reserved, 0), so firmware that reads only
    // version 2 loads it. The same model as version 3 (layer count 1 in byte 612) and as version 1 reads
    // and gives the same model; written back it is the version-2 blob again.
    void oneLayerBlobsAreVersion2AndEveryVersionReads() {
        StableRng rng(3);
        const Genome g = randomGenome(perGateLayout(), rng);
        const QuantizedGru model = modelFor(g);
        const std::vector<uint8_t> v2 = writeBlob(model, g, "old");
        QCOMPARE(int(v2[4] | v2[5] << 8), 2);
        for (size_t i = 612; i < 640; ++i) QCOMPARE(int(v2[i]), 0);
        std::vector<uint8_t> v3 = v2;
        setU16(v3, 4, 3);
        v3[612] = 1;
        resealCrc(v3);
        std::vector<uint8_t> v1 = v2;
        setU16(v1, 4, 1);
        resealCrc(v1);
        for (const std::vector<uint8_t>* other : std::vector<const std::vector<uint8_t>*>{&v2, &v3, &v1}) {
            const BlobContents back = readBlob(*other, "old.bin");
            QCOMPARE(back.formatVersion, int((*other)[4]));
            QVERIFY(back.genome == g);
            compareModels(back.model, model);
            QVERIFY(writeBlob(back.model, back.genome, back.taskName) == v2);
        }
        for (uint16_t version : {2, 1}) {
            std::vector<uint8_t> withCount = version == 2 ? v2 : v1;  // byte 612 is reserved before version 3
            withCount[612] = 1;
            resealCrc(withCount);
            QCOMPARE(codeOf(withCount), BlobError::Code::BadParameter);
        }
        // A version-2 reader's view of a stacked blob is not a valid version-2 blob.
        std::vector<uint8_t> stacked = stackedBlob(defaultLayout(), 2, 9, false).blob;
        setU16(stacked, 4, 2);
        resealCrc(stacked);
        QCOMPARE(codeOf(stacked), BlobError::Code::BadBits);  // 31 genes are not default17's 17
    }

    void versionsAboveTheNewestAreRefusedByNumber() {
        const Genome g = uniformGenome(defaultLayout(), 4);
        std::vector<uint8_t> b = writeBlob(modelFor(g), g, "v");
        setU16(b, 4, 4);
        try {
            readBlob(b, "future.bin");
            QFAIL("version 4 accepted");
        } catch (const BlobError& e) {
            QCOMPARE(e.code(), BlobError::Code::UnsupportedVersion);
            QVERIFY2(QString(e.what()).contains("version 4"), e.what());
        }
    }

    void writerRefusesInconsistentInput() {
        const Genome g = uniformGenome(defaultLayout(), 6);
        const QuantizedGru model = modelFor(g);
        QVERIFY_THROWS_EXCEPTION(InputError, writeBlob(model, uniformGenome(defaultLayout(), 5), "t"));
        // A one-layer genome for a 2-layer model, and a 2-layer model whose second layer's x is not the first's h.
        const Genome g2 = uniformGenome(stackedLayout(defaultLayout(), 2), 6);
        QuantizedGru stacked = modelFor(g2);
        QVERIFY_THROWS_EXCEPTION(InputError, writeBlob(stacked, g, "t"));
        stacked.layers[1].act[pointIndex(QuantPoint::X)].zeroPoint ^= 1;
        QVERIFY_THROWS_EXCEPTION(InputError, writeBlob(stacked, g2, "t"));
    }

    void everySingleBitFlipIsRejected() {
        StableRng rng(11);
        for (int layers : {1, 2}) {
            const Genome g = randomGenome(stackedLayout(defaultLayout(), layers), rng);
            const std::vector<uint8_t> blob = writeBlob(modelFor(g), g, "flip");
            std::map<BlobError::Code, int> seen;
            for (size_t byte = 0; byte < blob.size(); ++byte) {
                for (int bit = 0; bit < 8; ++bit) {
                    std::vector<uint8_t> damaged = blob;
                    damaged[byte] ^= uint8_t(1u << bit);
                    const BlobError::Code code = codeOf(damaged);
                    QVERIFY2(code != BlobError::Code(0), qPrintable(QString("flip at byte %1 bit %2 accepted").arg(byte).arg(bit)));
                    if (byte >= 16) QCOMPARE(code, BlobError::Code::BadChecksum);
                    ++seen[code];
                }
            }
            QCOMPARE(seen[BlobError::Code::BadMagic], 32);
            // The version is outside the CRC. One layer, version 2 -> 3: no layer count in byte 612 (0);
            // 2 -> 0 and the rest: unknown. Stacked, version 3 -> 2 or 1: too many genes for one layer.
            QCOMPARE(seen[BlobError::Code::UnsupportedVersion], layers == 1 ? 15 : 14);
            if (layers == 1) {
                QCOMPARE(seen[BlobError::Code::BadLayerCount], 1);
            } else {
                QCOMPARE(seen[BlobError::Code::BadBits], 2);
            }
            QCOMPARE(seen[BlobError::Code::BadHeader], 16);
        }
    }

    void everyTruncationIsRejected() {
        for (int layers : {1, 2}) {
            const Genome g = uniformGenome(stackedLayout(homogeneousLayout(), layers), 3);
            const std::vector<uint8_t> blob = writeBlob(modelFor(g), g, "cut");
            for (size_t n = 0; n < blob.size(); ++n) {
                const std::vector<uint8_t> cut(blob.begin(), blob.begin() + std::ptrdiff_t(n));
                QCOMPARE(codeOf(cut), BlobError::Code::Truncated);
            }
            std::vector<uint8_t> longer = blob;
            longer.push_back(0);
            QCOMPARE(codeOf(longer), BlobError::Code::SizeMismatch);
        }
    }

    void specificCodesForDamagedHeaders() {
        const Genome g = uniformGenome(defaultLayout(), 4);
        const std::vector<uint8_t> blob = writeBlob(modelFor(g), g, "hdr");
        auto variant = [&](auto edit) {
            std::vector<uint8_t> b = blob;
            edit(b);
            resealCrc(b);
            return codeOf(b);
        };
        QCOMPARE(variant([](auto& b) { setU16(b, 4, 4); }), BlobError::Code::UnsupportedVersion);
        QCOMPARE(variant([](auto& b) { setU16(b, 18, 10); }), BlobError::Code::SizeMismatch);  // H 9 -> 10
        QCOMPARE(variant([](auto& b) { setU16(b, 18, 0); }), BlobError::Code::BadShape);
        QCOMPARE(variant([](auto& b) { setU16(b, 16, 2045); }), BlobError::Code::BadShape);   // F + H > 2048
        QCOMPARE(variant([](auto& b) { b[56] = 9; }), BlobError::Code::BadBits);              // x at 9 bits
        QCOMPARE(variant([](auto& b) { b[22] = 7; }), BlobError::Code::BadBits);              // unknown layout
        QCOMPARE(variant([](auto& b) { b[24] = 5; }), BlobError::Code::BadBits);              // gene != point bits
        QCOMPARE(variant([](auto& b) { b[88] = 200; }), BlobError::Code::BadParameter);       // Z_x > 15
        QCOMPARE(variant([](auto& b) { b[448] = 63; }), BlobError::Code::BadParameter);       // shift 63
        QCOMPARE(variant([](auto& b) { b[620] = 1; }), BlobError::Code::BadParameter);        // reserved
        QCOMPARE(variant([](auto& b) { b[612] = 1; }), BlobError::Code::BadParameter);        // reserved in version 2
        QCOMPARE(variant([](auto& b) { b[616] = 1; }), BlobError::Code::BadParameter);        // reserved in version 2
        // The same model as version 3 (layer count 1 in byte 612), as builds before the version-2 rule wrote it.
        auto version3 = [&](auto edit) {
            return variant([&](auto& b) {
                setU16(b, 4, 3);
                b[612] = 1;
                edit(b);
            });
        };
        QCOMPARE(version3([](auto&) {}), BlobError::Code(0));
        QCOMPARE(version3([](auto& b) { b[620] = 1; }), BlobError::Code::BadParameter);        // reserved
        QCOMPARE(version3([](auto& b) { b[613] = 1; }), BlobError::Code::BadParameter);        // reserved
        QCOMPARE(version3([](auto& b) { b[612] = 0; }), BlobError::Code::BadLayerCount);
        QCOMPARE(version3([](auto& b) { b[612] = 4; }), BlobError::Code::BadLayerCount);
        QCOMPARE(version3([](auto& b) { b[612] = 255; }), BlobError::Code::BadLayerCount);
        QCOMPARE(version3([](auto& b) { b[612] = 2; }), BlobError::Code::BadBits);  // 17 genes are not default17-L2's 31
        // A one-layer blob with a layer section.
        std::vector<uint8_t> b = blob;
        setU16(b, 4, 3);
        b[612] = 1;
        b.resize(b.size() + kBlobGeneExtensionBytes, 0);
        setU32(b, 8, uint32_t(b.size()));
        setU32(b, 616, kBlobGeneExtensionBytes);
        resealCrc(b);
        QCOMPARE(codeOf(b), BlobError::Code::BadLayerSection);
    }

    // The layer section: a wrong layer count, truncated or longer sections, a record whose payload-bytes
    // field or x quantizer disagrees, a record's widths that are not the genome's (each with the sizes and
    // CRC repaired, so that the rule behind them is what is tested).
    void damagedLayerSectionsGetTheirCodes() {
        const Stacked s = stackedBlob(perGateLayout(), 2, 5, true);
        QCOMPARE(codeOf(s.blob), BlobError::Code(0));
        auto variant = [&](auto edit) {
            std::vector<uint8_t> b = s.blob;
            edit(b);
            resealCrc(b);
            return codeOf(b);
        };
        // The section shortened or lengthened, blob-bytes and section-bytes fields following.
        auto resized = [&](int64_t delta) {
            return variant([&](std::vector<uint8_t>& b) {
                b.resize(size_t(int64_t(b.size()) + delta), 0);
                setU32(b, 8, uint32_t(b.size()));
                setU32(b, 616, uint32_t(b.size() - s.section));
            });
        };
        const int64_t sectionBytes = int64_t(s.blob.size() - s.section);
        for (int64_t cut : {int64_t(1), int64_t(8), int64_t(100), sectionBytes - int64_t(kBlobGeneExtensionBytes) - 1,
                            sectionBytes - int64_t(kBlobGeneExtensionBytes), sectionBytes - 10, sectionBytes}) {
            QVERIFY2(resized(-cut) == BlobError::Code::BadLayerSection, qPrintable(QString("cut by %1").arg(cut)));
        }
        QCOMPARE(resized(1), BlobError::Code::BadLayerSection);
        QCOMPARE(resized(int64_t(kBlobLayerRecordBytes)), BlobError::Code::BadLayerSection);
        // Only the blob-bytes field out of step: a size mismatch, not a layer-section one.
        QCOMPARE(variant([&](auto& b) { setU32(b, 616, u32(b, 616) - 1); }), BlobError::Code::SizeMismatch);
        // Three layers claimed, two present (per-gate-L3 has 69 genes, so claim it through a homogeneous blob).
        {
            const Stacked h = stackedBlob(homogeneousLayout(), 2, 6, false);
            std::vector<uint8_t> b = h.blob;
            b[612] = 3;
            resealCrc(b);
            QCOMPARE(codeOf(b), BlobError::Code::BadLayerSection);
            b[612] = 1;
            resealCrc(b);
            QCOMPARE(codeOf(b), BlobError::Code::BadLayerSection);  // one layer with a section
        }
        const size_t x = pointIndex(QuantPoint::X);
        QCOMPARE(variant([&](auto& b) { setU32(b, s.record + 500, u32(b, s.record + 500) + 1); }), BlobError::Code::BadLayerSection);
        QCOMPARE(variant([&](auto& b) { b[s.record + 32 + 4 * x] ^= 1; }), BlobError::Code::BadLayerSection);  // x zero point
        QCOMPARE(variant([&](auto& b) { b[s.record + 132 + 8 * x] ^= 1; }), BlobError::Code::BadLayerSection);  // x scale
        // Widths: layer 2's x not layer 1's h; the header's fc not the last layer's; a gene past the header.
        const int hBits = s.model.layers[0].bits[pointIndex(QuantPoint::H)];
        QCOMPARE(variant([&](auto& b) { b[s.record + x] = uint8_t(hBits == 8 ? 7 : 8); }), BlobError::Code::BadBits);
        QCOMPARE(variant([&](auto& b) { b[56 + 24] = uint8_t(b[56 + 24] == 8 ? 7 : 8); }), BlobError::Code::BadBits);
        QCOMPARE(variant([&](auto& b) { b[s.section + 3] = 9; }), BlobError::Code::BadBits);   // gene 35 at 9 bits
        QCOMPARE(variant([&](auto& b) { b[s.section + 60] = 4; }), BlobError::Code::BadBits);  // after the last gene
        QCOMPARE(variant([&](auto& b) { b[s.record + 25] = 1; }), BlobError::Code::BadBits);   // point byte 25
        // Parameters of layer 2.
        QCOMPARE(variant([&](auto& b) { b[s.record + 510] = 1; }), BlobError::Code::BadParameter);  // record reserved
        QCOMPARE(variant([&](auto& b) { setU32(b, s.record + 380 + 4, 63); }), BlobError::Code::BadParameter);  // shift
        QCOMPARE(variant([&](auto& b) { setU32(b, s.record + kBlobLayerRecordBytes, (1u << 30) + 1); }), BlobError::Code::BadParameter);
    }

    void paddingBitsMustBeZero() {
        const Genome g = uniformGenome(defaultLayout(), 3);
        const QuantizedGru model = modelFor(g);
        const ModelSize size = modelSize(model.shape, model.bits());
        QVERIFY((size.weightBits + size.lutBits) % 8 != 0);  // this shape and width leave padding bits
        std::vector<uint8_t> b = writeBlob(model, g, "pad");
        b.back() |= 0x80;
        resealCrc(b);
        QCOMPARE(codeOf(b), BlobError::Code::BadParameter);
        // The last layer's stream of a stacked blob (F 5, H 9 at 3 bits: 243 + 243 weight bits + LUTs).
        const Genome g2 = uniformGenome(stackedLayout(defaultLayout(), 2), 3);
        std::vector<uint8_t> b2 = writeBlob(modelFor(g2), g2, "pad");
        QCOMPARE(codeOf(b2), BlobError::Code(0));
        b2.back() |= 0x80;
        resealCrc(b2);
        QCOMPARE(codeOf(b2), BlobError::Code::BadParameter);
    }

    void mutatedHeadersWithValidCrcNeverCrash() {
        int accepted = 0, tried = 0;
        for (int layers : {1, 2, 3}) {
            const Genome g = uniformGenome(stackedLayout(perGateLayout(), layers), 4);
            const std::vector<uint8_t> blob = writeBlob(modelFor(g), g, "fuzz");
            const size_t section = blob.size() - u32(blob, 616);
            StableRng rng(99 + uint64_t(layers));
            for (int i = 0; i < (layers == 1 ? 20000 : 5000); ++i, ++tried) {
                std::vector<uint8_t> b = blob;
                const int edits = 1 + int(rng.below(4));
                for (int e = 0; e < edits; ++e) {
                    // the header and the start of the payload, or (stacked) the layer section's records
                    const size_t at = layers > 1 && rng.below(2) ? section + rng.below(blob.size() - section)
                                                                 : 16 + rng.below(kBlobHeaderBytes - 16 + 64);
                    b[at] = uint8_t(rng.below(256));
                }
                resealCrc(b);
                try {
                    const BlobContents c = readBlob(b, "mutant");
                    IntegerGruEngine engine(c.model);  // an accepted model must be runnable
                    std::vector<uint8_t> codes(size_t(3 * c.model.shape.inputSize), 1);
                    std::vector<int32_t> logits(size_t(c.model.shape.numClasses));
                    engine.run(codes.data(), 3, logits.data());
                    ++accepted;
                } catch (const BlobError&) {
                }
            }
        }
        qInfo("%d of %d mutants accepted (parameter changes within range)", accepted, tried);
    }

    void fileErrorsNameTheFile() {
        try {
            readBlobFile("/nonexistent/model.bin");
            QFAIL("no error");
        } catch (const InputError& e) {
            QVERIFY(QString(e.what()).contains("/nonexistent/model.bin"));
        }
    }
};

QTEST_APPLESS_MAIN(TestBlob)
#include "test_blob.moc"
