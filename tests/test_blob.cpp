// The firmware blob: writing then reading gives the identical integer model for homogeneous, mixed and
// per-gate genomes; its size is the size objective + the 640-byte header; every single-bit flip, every
// truncation, a wrong version and size-inconsistent headers are rejected with their specific code
// (test_firmware_export breaks every documented rule against both readers);
// randomly mutated headers (with a valid CRC) never crash the reader.
#include "gruq/export/blob.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/quant/size_metric.h"
#include "model_test_support.h"

#include <QtTest>

using namespace gruq;
using namespace gruq::test;

namespace {

ActivationRanges plausibleRanges(uint64_t seed) {
    StableRng rng(seed);
    ActivationRanges r{};
    for (auto& v : r) {
        v.min = -rng.uniform(0.1, 4.0);
        v.max = rng.uniform(0.1, 4.0);
    }
    return r;
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

void compareModels(const QuantizedGru& a, const QuantizedGru& b) {
    QCOMPARE(a.shape.key(), b.shape.key());
    QVERIFY(a.bits == b.bits);
    for (int p = 0; p < kQuantPointCount; ++p) {
        QCOMPARE(a.act[size_t(p)].bits, b.act[size_t(p)].bits);
        QCOMPARE(a.act[size_t(p)].scale, b.act[size_t(p)].scale);
        QCOMPARE(a.act[size_t(p)].zeroPoint, b.act[size_t(p)].zeroPoint);
    }
    QVERIFY(a.wIh == b.wIh);
    QVERIFY(a.wHh == b.wHh);
    QVERIFY(a.wFc == b.wFc);
    QVERIFY(a.wIhScale == b.wIhScale);
    QVERIFY(a.wHhScale == b.wHhScale);
    QCOMPARE(a.wFcScale, b.wFcScale);
    QVERIFY(a.bIh == b.bIh);
    QVERIFY(a.bHh == b.bHh);
    QVERIFY(a.bFc == b.bFc);
    for (int g = 0; g < 3; ++g) {
        QCOMPARE(a.ihRescale[size_t(g)].mantissa, b.ihRescale[size_t(g)].mantissa);
        QCOMPARE(a.ihRescale[size_t(g)].shift, b.ihRescale[size_t(g)].shift);
        QCOMPARE(a.hhRescale[size_t(g)].mantissa, b.hhRescale[size_t(g)].mantissa);
        QCOMPARE(a.hhRescale[size_t(g)].shift, b.hhRescale[size_t(g)].shift);
    }
    for (auto [x, y] : {std::pair{&a.fcRescale, &b.fcRescale}, std::pair{&a.mulRNRescale, &b.mulRNRescale},
                        std::pair{&a.mulZNRescale, &b.mulZNRescale}, std::pair{&a.mulZHRescale, &b.mulZHRescale}}) {
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

}  // namespace

class TestBlob : public QObject {
    Q_OBJECT
    FloatGruWeights weights_ = randomWeights(5, 9, 4, 3);

    QuantizedGru modelFor(const Genome& g, uint64_t seed = 1) { return buildQuantizedGru(weights_, g.resolve(), plausibleRanges(seed)); }

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
            const Genome& g = genomes[i];
            const QuantizedGru model = modelFor(g, i);
            // Every other blob carries a per-feature normalisation section.
            Normalization norm;
            norm.mean.clear();
            norm.stdDev.clear();
            for (int64_t f = 0; f < model.shape.inputSize; ++f) {
                norm.mean.push_back(float(rng.uniform(-3, 3)));
                norm.stdDev.push_back(float(rng.uniform(0.1, 5)));
            }
            const bool withNorm = i % 2 == 1;
            const std::vector<uint8_t> blob = writeBlob(model, g, "unit-test", withNorm ? &norm : nullptr);
            QCOMPARE(int64_t(blob.size()), int64_t(kBlobHeaderBytes) + modelSize(model.shape, model.bits).totalBytes() +
                                               (withNorm ? 8 * model.shape.inputSize : 0));
            QCOMPARE(int64_t(blob.size()), blobBytes(model.shape, model.bits, withNorm));
            const BlobContents back = readBlob(blob, "memory");
            QVERIFY(back.genome == g);
            QCOMPARE(back.taskName, std::string("unit-test"));
            compareModels(back.model, model);
            QCOMPARE(back.normalization.has_value(), withNorm);
            if (withNorm) QVERIFY(back.normalization->mean == norm.mean && back.normalization->stdDev == norm.stdDev);
            QVERIFY(writeBlob(back.model, back.genome, back.taskName, back.normalization ? &*back.normalization : nullptr) == blob);
        }
    }

    void writerRefusesInconsistentInput() {
        const Genome g = uniformGenome(defaultLayout(), 6);
        const QuantizedGru model = modelFor(g);
        QVERIFY_THROWS_EXCEPTION(InputError, writeBlob(model, uniformGenome(defaultLayout(), 5), "t"));
    }

    void everySingleBitFlipIsRejected() {
        StableRng rng(11);
        const Genome g = randomGenome(defaultLayout(), rng);
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
        QCOMPARE(seen[BlobError::Code::UnsupportedVersion], 16);
        QCOMPARE(seen[BlobError::Code::BadHeader], 16);
    }

    void everyTruncationIsRejected() {
        const Genome g = uniformGenome(homogeneousLayout(), 3);
        const std::vector<uint8_t> blob = writeBlob(modelFor(g), g, "cut");
        for (size_t n = 0; n < blob.size(); ++n) {
            const std::vector<uint8_t> cut(blob.begin(), blob.begin() + std::ptrdiff_t(n));
            QCOMPARE(codeOf(cut), BlobError::Code::Truncated);
        }
        std::vector<uint8_t> longer = blob;
        longer.push_back(0);
        QCOMPARE(codeOf(longer), BlobError::Code::SizeMismatch);
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
        QCOMPARE(variant([](auto& b) { setU16(b, 4, 3); }), BlobError::Code::UnsupportedVersion);
        QCOMPARE(variant([](auto& b) { setU16(b, 18, 10); }), BlobError::Code::SizeMismatch);  // H 9 -> 10
        QCOMPARE(variant([](auto& b) { setU16(b, 18, 0); }), BlobError::Code::BadShape);
        QCOMPARE(variant([](auto& b) { setU16(b, 16, 2045); }), BlobError::Code::BadShape);   // F + H > 2048
        QCOMPARE(variant([](auto& b) { b[56] = 9; }), BlobError::Code::BadBits);              // x at 9 bits
        QCOMPARE(variant([](auto& b) { b[22] = 7; }), BlobError::Code::BadBits);              // unknown layout
        QCOMPARE(variant([](auto& b) { b[24] = 5; }), BlobError::Code::BadBits);              // gene != point bits
        QCOMPARE(variant([](auto& b) { b[88] = 200; }), BlobError::Code::BadParameter);       // Z_x > 15
        QCOMPARE(variant([](auto& b) { b[448] = 63; }), BlobError::Code::BadParameter);       // shift 63
        QCOMPARE(variant([](auto& b) { b[620] = 1; }), BlobError::Code::BadParameter);        // reserved
    }

    void paddingBitsMustBeZero() {
        const Genome g = uniformGenome(defaultLayout(), 3);
        const QuantizedGru model = modelFor(g);
        const ModelSize size = modelSize(model.shape, model.bits);
        QVERIFY((size.weightBits + size.lutBits) % 8 != 0);  // this shape and width leave padding bits
        std::vector<uint8_t> b = writeBlob(model, g, "pad");
        b.back() |= 0x80;
        resealCrc(b);
        QCOMPARE(codeOf(b), BlobError::Code::BadParameter);
    }

    void mutatedHeadersWithValidCrcNeverCrash() {
        const Genome g = uniformGenome(perGateLayout(), 4);
        const std::vector<uint8_t> blob = writeBlob(modelFor(g), g, "fuzz");
        StableRng rng(99);
        int accepted = 0;
        for (int i = 0; i < 20000; ++i) {
            std::vector<uint8_t> b = blob;
            const int edits = 1 + int(rng.below(4));
            for (int e = 0; e < edits; ++e) b[16 + rng.below(kBlobHeaderBytes - 16 + 64)] = uint8_t(rng.below(256));
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
        qInfo("%d of 20000 mutants accepted (parameter changes within range)", accepted);
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
