// The integer engine against a float GRU written out by hand in double precision: with every point at
// 8 bits and ranges calibrated on the same data, dequantized logits track the float logits closely
// (checks gate order, 1 - z, the bias placement of n, zero points); lower bits degrade gracefully;
// results do not depend on the thread count.
#include "gruq/base/errors.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/data/split.h"
#include "model_test_support.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace gruq;
using namespace gruq::test;

namespace {

struct FloatTrace {
    std::vector<double> logits;  // count x C
};

double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Reference float GRU (PyTorch equations, layers stacked as torch::nn::GRU stacks them) that also records
// the range of every operator output of every layer.
FloatTrace runFloat(const FloatGruWeights& w, const SequenceSet& set, LayerRanges* ranges) {
    const int64_t F = w.shape.inputSize, H = w.shape.hiddenSize, C = w.shape.numClasses, L = w.shape.numLayers;
    FloatTrace trace;
    if (ranges) ranges->assign(size_t(L), ActivationRanges{});
    auto note = [&](int64_t layer, QuantPoint p, double v) {
        if (!ranges) return;
        ValueRange& r = (*ranges)[size_t(layer)][size_t(p)];
        r.min = std::min(r.min, v);
        r.max = std::max(r.max, v);
    };
    for (int64_t i = 0; i < set.count; ++i) {
        std::vector<std::vector<double>> h(size_t(L), std::vector<double>(size_t(H), 0.0));
        for (int64_t t = 0; t < set.steps; ++t) {
            const float* xt = set.sequence(i) + t * F;
            std::vector<double> x(xt, xt + F);
            for (int64_t k = 0; k < F; ++k) note(0, QuantPoint::X, x[size_t(k)]);
            for (int64_t l = 0; l < L; ++l) {
                const FloatGruLayer& p = w.layers[size_t(l)];
                const int64_t in = w.shape.layerInputSize(l);
                std::vector<double>& hl = h[size_t(l)];
                std::vector<double> ih(size_t(3 * H)), hh(size_t(3 * H));
                for (int64_t j = 0; j < 3 * H; ++j) {
                    double a = p.bIh[size_t(j)], b = p.bHh[size_t(j)];
                    for (int64_t k = 0; k < in; ++k) a += double(p.wIh[size_t(j * in + k)]) * x[size_t(k)];
                    for (int64_t k = 0; k < H; ++k) b += double(p.wHh[size_t(j * H + k)]) * hl[size_t(k)];
                    ih[size_t(j)] = a;
                    hh[size_t(j)] = b;
                    note(l, QuantPoint(int(QuantPoint::IHr) + int(j / H)), a);
                    note(l, QuantPoint(int(QuantPoint::HHr) + int(j / H)), b);
                }
                std::vector<double> hNew(static_cast<size_t>(H));
                for (int64_t j = 0; j < H; ++j) {
                    const double sr = ih[size_t(j)] + hh[size_t(j)], sz = ih[size_t(H + j)] + hh[size_t(H + j)];
                    const double r = sigmoid(sr), z = sigmoid(sz);
                    const double rn = r * hh[size_t(2 * H + j)];
                    const double sn = ih[size_t(2 * H + j)] + rn;
                    const double n = std::tanh(sn);
                    const double zn = (1 - z) * n, zh = z * hl[size_t(j)];
                    hNew[size_t(j)] = zn + zh;
                    note(l, QuantPoint::SumR, sr);
                    note(l, QuantPoint::SumZ, sz);
                    note(l, QuantPoint::MulRN, rn);
                    note(l, QuantPoint::SumN, sn);
                    note(l, QuantPoint::MulZN, zn);
                    note(l, QuantPoint::MulZH, zh);
                    note(l, QuantPoint::H, hNew[size_t(j)]);
                }
                hl = hNew;
                x = hNew;  // the next layer's input
            }
        }
        for (int64_t c = 0; c < C; ++c) {
            double v = w.bFc[size_t(c)];
            for (int64_t k = 0; k < H; ++k) v += double(w.wFc[size_t(c * H + k)]) * h.back()[size_t(k)];
            trace.logits.push_back(v);
            note(L - 1, QuantPoint::Fc, v);
        }
    }
    return trace;
}

// Every point of every one of `layers` layers at b bits.
LayerBits bitsOf(int b, int layers = 1) { return LayerBits(size_t(layers), allBits(b)); }

// Mean absolute error of dequantized engine logits vs float logits, relative to the logit range.
double relativeLogitError(const QuantizedGru& q, const std::vector<int32_t>& codes, const FloatTrace& ref) {
    const ActivationQuant& fq = q.logitQuant();
    double err = 0, lo = 1e300, hi = -1e300;
    for (size_t i = 0; i < codes.size(); ++i) {
        err += std::fabs(fq.scale * (codes[i] - fq.zeroPoint) - ref.logits[i]);
        lo = std::min(lo, ref.logits[i]);
        hi = std::max(hi, ref.logits[i]);
    }
    return err / double(codes.size()) / (hi - lo);
}

}  // namespace

class TestIntegerEngine : public QObject {
    Q_OBJECT
    FloatGruWeights weights_ = randomWeights(5, 12, 3, 11);
    SequenceSet data_ = randomSequences(64, 20, 5, 12);
    LayerRanges ranges_;
    FloatTrace reference_;

private slots:
    void initTestCase() { reference_ = runFloat(weights_, data_, &ranges_); }

    void eightBitTracksTheFloatGru() {
        const QuantizedGru q = buildQuantizedGru(weights_, bitsOf(8), ranges_);
        const IntegerGruEngine engine(q);
        const double err = relativeLogitError(q, engine.logitsOf(data_, 1), reference_);
        qInfo("8-bit mean |logit error| = %.4f of the logit range", err);
        QVERIFY2(err < 0.02, qPrintable(QString::number(err)));
    }

    // Stacked layers: layer l >= 2 runs on layer l-1's h at every step (as torch::nn::GRU stacks them). At
    // 8 bits the engine tracks the float stack, and the bound is tight enough that a different second layer
    // breaks it.
    void stackedEightBitTracksTheFloatStack_data() {
        QTest::addColumn<int>("layers");
        QTest::newRow("2 layers") << 2;
        QTest::newRow("3 layers") << 3;
    }
    void stackedEightBitTracksTheFloatStack() {
        QFETCH(int, layers);
        const FloatGruWeights w = randomWeights(5, 12, 3, 21, layers);
        LayerRanges ranges;
        const FloatTrace reference = runFloat(w, data_, &ranges);
        const QuantizedGru q = buildQuantizedGru(w, bitsOf(8, layers), ranges);
        QCOMPARE(int(q.layers.size()), layers);
        for (int l = 1; l < layers; ++l) {  // the codes pass between layers unchanged: same quantizer
            QCOMPARE(q.layers[size_t(l)].quant(QuantPoint::X).scale, q.layers[size_t(l - 1)].quant(QuantPoint::H).scale);
            QCOMPARE(q.layers[size_t(l)].quant(QuantPoint::X).zeroPoint, q.layers[size_t(l - 1)].quant(QuantPoint::H).zeroPoint);
        }
        const double err = relativeLogitError(q, IntegerGruEngine(q).logitsOf(data_, 1), reference);
        qInfo("%d layers, 8 bits: mean |logit error| = %.4f of the logit range", layers, err);
        QVERIFY2(err < 0.03, qPrintable(QString::number(err)));
        // The float stack with a different second layer gives other logits: the bound above can fail.
        FloatGruWeights other = w;
        other.layers[1] = randomWeights(5, 12, 3, 99, layers).layers[1];
        QVERIFY(relativeLogitError(q, IntegerGruEngine(q).logitsOf(data_, 1), runFloat(other, data_, nullptr)) > 0.03);
    }

    // Two bits fewer quarter the step of every quantizer, so the logit error must grow clearly at each
    // step down (measured: about 3-4x per two bits), and stay bounded.
    void errorGrowsAsBitsShrink() {
        std::vector<double> errors;
        for (int b : {8, 6, 4}) {
            const QuantizedGru q = buildQuantizedGru(weights_, bitsOf(b), ranges_);
            errors.push_back(relativeLogitError(q, IntegerGruEngine(q).logitsOf(data_, 1), reference_));
            qInfo("%d bits: mean |logit error| = %.4f", b, errors.back());
            QVERIFY(errors.back() < 0.5);
        }
        QVERIFY2(errors[1] > 2.0 * errors[0], qPrintable(QStringLiteral("6 bits %1 vs 8 bits %2").arg(errors[1]).arg(errors[0])));
        QVERIFY2(errors[2] > 2.0 * errors[1], qPrintable(QStringLiteral("4 bits %1 vs 6 bits %2").arg(errors[2]).arg(errors[1])));
    }

    void swappedGatesWouldBeCaught() {
        // Guard against a test that cannot fail: swapping r and z weights in the float model changes
        // the float logits far beyond the 8-bit error bound above.
        FloatGruWeights swapped = weights_;
        const int64_t H = weights_.shape.hiddenSize, F = weights_.shape.inputSize;
        std::vector<float>& wIh = swapped.layers[0].wIh;
        std::swap_ranges(wIh.begin(), wIh.begin() + H * F, wIh.begin() + H * F);
        const QuantizedGru q = buildQuantizedGru(swapped, bitsOf(8), ranges_);
        QVERIFY(relativeLogitError(q, IntegerGruEngine(q).logitsOf(data_, 1), reference_) > 0.03);
    }

    void threadsDoNotChangeResults() {
        LayerBits bits = bitsOf(5);
        bits[0][size_t(QuantPoint::H)] = 7;
        bits[0][size_t(QuantPoint::WHz)] = 3;
        const IntegerGruEngine engine(buildQuantizedGru(weights_, bits, ranges_));
        QCOMPARE(engine.logitsOf(data_, 1), engine.logitsOf(data_, 3));
    }

    // The batched path (16 sequences per kernel call, vectorised, chosen per CPU) against run() one
    // sequence at a time: every width 2..8 and random mixed genomes, a count that leaves a partial group,
    // odd sizes, padded sequences of random lengths, 1 and 2 threads. Bit for bit.
    void batchedPathEqualsOneSequenceAtATime_data() {
        QTest::addColumn<QString>("isa");
        for (const char* isa : {"avx512-vnni", "avx2", "sse2", "portable"}) QTest::newRow(isa) << QString::fromLatin1(isa);
    }

    void batchedPathEqualsOneSequenceAtATime() {
        QFETCH(QString, isa);
        const std::string best = IntegerGruEngine::batchedKernelIsa();
        // A CPU without the instruction set cannot run that kernel (CI machines differ): it is then
        // neither chosen by the engine nor testable here, and the row says so.
        if (!IntegerGruEngine::useBatchedKernel(isa.toStdString())) {
            qInfo("%s: not supported by this CPU (the engine uses %s)", qPrintable(isa), best.c_str());
            QCOMPARE(std::string(IntegerGruEngine::batchedKernelIsa()), best);  // refused, nothing changed
            QVERIFY(best != isa.toStdString());
            return;
        }
        struct Restore {
            std::string isa;
            ~Restore() { IntegerGruEngine::useBatchedKernel(isa); }
        } restore{best};
        const FloatGruWeights weights = randomWeights(7, 19, 4, 5);
        SequenceSet padded = randomSequences(37, 11, 7, 9);
        StableRng rng(3);
        padded.lengths.resize(size_t(padded.count));
        for (auto& length : padded.lengths) length = int32_t(1 + rng.next() % 11);
        LayerRanges ranges;
        runFloat(weights, padded, &ranges);
        std::vector<LayerBits> schemes;
        for (int b = 2; b <= 8; ++b) schemes.push_back(bitsOf(b));
        const GenomeLayout& layout = layoutByName("default17");
        for (int i = 0; i < 6; ++i) {
            Genome g = uniformGenome(layout, 8);
            for (int& bits : g.bits) bits = int(2 + rng.next() % 7);
            schemes.push_back(g.resolve());
        }
        for (const LayerBits& bits : schemes) {
            const IntegerGruEngine small(buildQuantizedGru(weights_, bits, ranges_));
            QCOMPARE(small.logitsOf(data_, 1), small.logitsOneByOne(data_, 1));
            const IntegerGruEngine odd(buildQuantizedGru(weights, bits, ranges));
            const std::vector<int32_t> reference = odd.logitsOneByOne(padded, 1);
            QCOMPARE(odd.logitsOf(padded, 1), reference);
            QCOMPARE(odd.logitsOf(padded, 2), reference);
        }
        // Stacks of 2 and 3 layers with mixed genomes (every layer its own bits), padded, odd sizes.
        for (int layers = 2; layers <= 3; ++layers) {
            const FloatGruWeights stack = randomWeights(7, 19, 4, 40 + uint64_t(layers), layers);
            LayerRanges stackRanges;
            runFloat(stack, padded, &stackRanges);
            for (int i = 0; i < 3; ++i) {
                Genome g = uniformGenome(stackedLayout(layout, layers), 8);
                for (int& bits : g.bits) bits = int(2 + rng.next() % 7);
                const IntegerGruEngine engine(buildQuantizedGru(stack, g.resolve(), stackRanges));
                const std::vector<int32_t> reference = engine.logitsOneByOne(padded, 1);
                QCOMPARE(engine.logitsOf(padded, 1), reference);
                QCOMPARE(engine.logitsOf(padded, 2), reference);
            }
        }
    }

    void inputQuantizationUsesTheXQuantizer() {
        const QuantizedGru q = buildQuantizedGru(weights_, bitsOf(4), ranges_);
        const IntegerGruEngine engine(q);
        const float values[4] = {-100.0f, 0.0f, 100.0f, float(ranges_[0][0].max)};
        uint8_t codes[4];
        engine.quantizeInput(values, 4, codes);
        QCOMPARE(int(codes[0]), 0);
        QCOMPARE(int(codes[1]), q.inputQuant().zeroPoint);  // real 0 is exact
        QCOMPARE(int(codes[2]), 15);
        QCOMPARE(int(codes[3]), 15);
        // The engine's vectorised loop gives quantizeValue's code for every value, special ones included.
        std::vector<float> many = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                                   -std::numeric_limits<float>::infinity(), 1e30f, -1e30f, 0.0f, -0.0f};
        const double step = q.inputQuant().scale;
        for (int i = -40; i <= 40; ++i) many.push_back(float(step * (i + 0.5)));  // halves of the step
        for (int i = 0; i < 200; ++i) many.push_back(float(std::sin(i * 0.37) * 3.0));
        std::vector<uint8_t> got(many.size());
        engine.quantizeInput(many.data(), int64_t(many.size()), got.data());
        for (size_t i = 0; i < many.size(); ++i) QCOMPARE(int(got[i]), quantizeValue(many[i], q.inputQuant()));
    }

    void argmaxTiesGoToTheLowestIndex() {
        const int32_t logits[4] = {1, 3, 3, 2};
        QCOMPARE(IntegerGruEngine::argmax(logits, 4), 1);
    }

    void inconsistentModelIsRejected() {
        QuantizedGru q = buildQuantizedGru(weights_, bitsOf(8), ranges_);
        q.layers[0].wHh.pop_back();
        QVERIFY_THROWS_EXCEPTION(std::exception, IntegerGruEngine{q});
        LayerBits bad = bitsOf(8);
        bad[0][3] = 9;
        QVERIFY_THROWS_EXCEPTION(std::exception, buildQuantizedGru(weights_, bad, ranges_));
        // A stack needs one bit assignment and one set of ranges per layer.
        const FloatGruWeights stack = randomWeights(5, 12, 3, 21, 2);
        QVERIFY_THROWS_EXCEPTION(InputError, buildQuantizedGru(stack, bitsOf(8, 1), LayerRanges(2, ranges_[0])));
        QVERIFY_THROWS_EXCEPTION(InputError, buildQuantizedGru(stack, bitsOf(8, 2), LayerRanges(1, ranges_[0])));
    }
};

QTEST_APPLESS_MAIN(TestIntegerEngine)
#include "test_integer_engine.moc"
