// The fused QAT GRU sequence operation against the per-timestep reference graph on small shapes:
// same forward values, same observed ranges, same gradients for every parameter and the input, in float
// mode, with fake quantization (homogeneous 8/4/2 bits and mixed genomes), and in frozen mode; the
// same results bit for bit on 1 and 2 threads; a diverged model (NaN weights) runs without reading
// outside the activation tables. Zero-padded rows (lengths): the padding is never read, and a row of
// length L gives bit for bit what the first L steps alone give (values, gradients, observed ranges).
#include "model_test_support.h"
#include "gruq/quant/fused_gru_sequence.h"
#include "gruq/quant/qat_gru.h"

#include <QtTest>

using namespace gruq;
using namespace gruq::test;

namespace {

struct Outcome {
    torch::Tensor logits;
    std::vector<torch::Tensor> grads;  // every parameter (w_ih, w_hh, b_ih, b_hh per layer, w_fc, b_fc), then x
    std::vector<std::string> names;
    LayerRanges ranges;
};

// One calibration forward on smaller inputs (so that the training batch exceeds the calibrated ranges
// and clamping masks the straight-through gradients), then one forward + backward in `mode`.
Outcome runOnce(const FloatGruWeights& w, const LayerBits& bits, const torch::Tensor& xIn, const torch::Tensor& y,
                QatMode mode, bool fused, const torch::Tensor& lengths = {}) {
    QatGru model(w, bits);
    model->setFusedSequence(fused);
    model->setMode(QatMode::Calibrate);
    {
        torch::NoGradGuard noGrad;
        model->forward(xIn * 0.6, lengths);
    }
    Outcome o;
    model->setMode(mode);
    torch::Tensor x = xIn.clone().requires_grad_(true);
    o.logits = model->forward(x, lengths);
    torch::nn::functional::cross_entropy(o.logits, y).backward();
    for (const auto& p : model->named_parameters()) {
        o.grads.push_back(p.value().grad().clone());
        o.names.push_back(p.key());
    }
    o.grads.push_back(x.grad().clone());
    o.names.push_back("x");
    o.ranges = model->ranges();
    return o;
}

// A mixed genome: every width 2..8 somewhere in each layer's cell (the layers differ).
LayerBits mixedBits(int layers = 1) {
    LayerBits all;
    for (int l = 0; l < layers; ++l) {
        BitAssignment bits;
        for (size_t i = 0; i < bits.size(); ++i) bits[i] = 2 + int((i + size_t(3 * l)) % 7);
        all.push_back(bits);
    }
    return all;
}

LayerBits uniformBits(int b, int layers = 1) { return LayerBits(size_t(layers), allBits(b)); }

// Every point of every layer: |a - b| <= tolerance (0: equal).
bool sameRanges(const LayerRanges& a, const LayerRanges& b, double tolerance = 0) {
    if (a.size() != b.size()) return false;
    for (size_t l = 0; l < a.size(); ++l) {
        for (int p = 0; p < kQuantPointCount; ++p) {
            if (std::abs(a[l][size_t(p)].min - b[l][size_t(p)].min) > tolerance) return false;
            if (std::abs(a[l][size_t(p)].max - b[l][size_t(p)].max) > tolerance) return false;
        }
    }
    return true;
}

double maxRelDiff(const torch::Tensor& a, const torch::Tensor& b) {
    const double scale = std::max(1e-6, b.abs().max().item<double>());
    return (a - b).abs().max().item<double>() / scale;
}

}  // namespace

class TestFusedGru : public QObject {
    Q_OBJECT
    FloatGruWeights weights_ = randomWeights(3, 6, 4, 21);
    torch::Tensor x_, y_;

    void compare(const LayerBits& bits, QatMode mode, double tolerance, const char* what) {
        compareOn(bits.size() == 1 ? weights_ : randomWeights(3, 6, 4, 22, int64_t(bits.size())), bits, mode, tolerance, what);
    }
    void compareOn(const FloatGruWeights& weights, const LayerBits& bits, QatMode mode, double tolerance, const char* what) {
        const Outcome ref = runOnce(weights, bits, x_, y_, mode, false);
        const Outcome fused = runOnce(weights, bits, x_, y_, mode, true);
        const double logitDiff = maxRelDiff(fused.logits, ref.logits);
        QVERIFY2(logitDiff <= tolerance, qPrintable(QString("%1: logits differ by %2").arg(what).arg(logitDiff)));
        QCOMPARE(fused.names, ref.names);
        for (size_t i = 0; i < ref.grads.size(); ++i) {
            const double d = maxRelDiff(fused.grads[i], ref.grads[i]);
            QVERIFY2(d <= tolerance, qPrintable(QString("%1: gradient of %2 differs by %3")
                                                    .arg(what, QString::fromStdString(ref.names[i]))
                                                    .arg(d)));
        }
        QVERIFY(sameRanges(fused.ranges, ref.ranges, 1e-5));
    }

private slots:
    void initTestCase() {
        torch::manual_seed(5);
        x_ = torch::randn({5, 7, 3});
        y_ = torch::tensor({0, 1, 2, 3, 1}, torch::kLong);
    }

    void floatModeMatches() { compare(uniformBits(8), QatMode::Float, 1e-5, "float"); }

    // Stacked layers: the fused operation returns every step's h for the next layer and takes its gradient
    // back through the stack; values, every layer's gradients and ranges equal the per-step reference graph.
    void stackedLayersMatch() {
        for (int layers : {2, 3}) {
            for (QatMode mode : {QatMode::Float, QatMode::Train, QatMode::Frozen}) {
                compare(mixedBits(layers), mode, 1e-5, qPrintable(QString("%1 layers, mode %2").arg(layers).arg(int(mode))));
            }
        }
        // The second layer's gradients are not zero (the stack is trained, not just run).
        const Outcome o = runOnce(randomWeights(3, 6, 4, 22, 2), mixedBits(2), x_, y_, QatMode::Train, true);
        const auto l1 = std::find(o.names.begin(), o.names.end(), "w_ih_l1");
        QVERIFY(l1 != o.names.end());
        QVERIFY(o.grads[size_t(l1 - o.names.begin())].abs().max().item<double>() > 0);
        const auto l0 = std::find(o.names.begin(), o.names.end(), "w_hh");
        QVERIFY(o.grads[size_t(l0 - o.names.begin())].abs().max().item<double>() > 0);
    }

    // Padding holds garbage instead of zeros: nothing changes, and no gradient reaches it.
    void paddingIsNeverRead() {
        const torch::Tensor lengths = torch::tensor({7, 3, 1, 5, 6}, torch::kInt32);
        const torch::Tensor valid = torch::arange(7).view({1, 7, 1}).lt(lengths.view({5, 1, 1})).expand_as(x_);
        const torch::Tensor zeros = torch::where(valid, x_, torch::zeros_like(x_));
        const torch::Tensor garbage = torch::where(valid, x_, torch::randn_like(x_) * 1e3);
        for (int layers : {1, 2}) {
          const FloatGruWeights w = layers == 1 ? weights_ : randomWeights(3, 6, 4, 22, layers);
          for (QatMode mode : {QatMode::Float, QatMode::Train}) {
            const Outcome a = runOnce(w, mixedBits(layers), zeros, y_, mode, true, lengths);
            const Outcome b = runOnce(w, mixedBits(layers), garbage, y_, mode, true, lengths);
            QVERIFY(torch::equal(a.logits, b.logits));
            for (size_t i = 0; i < a.grads.size(); ++i) QVERIFY2(torch::equal(a.grads[i], b.grads[i]), qPrintable(QString::number(i)));
            QVERIFY(torch::equal(a.grads.back().masked_select(valid.logical_not()), torch::zeros({(~valid).sum().item<int64_t>()})));
            QVERIFY(sameRanges(a.ranges, b.ranges));
          }
        }
    }

    // Every row of length 4 out of 7 steps: the same as the first 4 steps without padding, bit for bit (one
    // layer, and a stack whose second layer sees the first one's held state on the padding steps).
    void paddedRowsStopAtTheirLength() {
        const torch::Tensor lengths = torch::full({5}, 4, torch::kInt32);
        for (int layers : {1, 2}) {
            const FloatGruWeights w = layers == 1 ? weights_ : randomWeights(3, 6, 4, 22, layers);
            const Outcome padded = runOnce(w, mixedBits(layers), x_, y_, QatMode::Train, true, lengths);
            const Outcome cut = runOnce(w, mixedBits(layers), x_.narrow(1, 0, 4).contiguous(), y_, QatMode::Train, true);
            QVERIFY(torch::equal(padded.logits, cut.logits));
            for (size_t i = 0; i + 1 < padded.grads.size(); ++i) QVERIFY(torch::equal(padded.grads[i], cut.grads[i]));
            QVERIFY(torch::equal(padded.grads.back().narrow(1, 0, 4), cut.grads.back()));
            QVERIFY(sameRanges(padded.ranges, cut.ranges));
        }
    }

    void clampingActuallyHappens() {
        // Guard for the comparisons below: with these inputs some gradients are masked by clamps.
        QatGru model(weights_, uniformBits(4));
        model->setFusedSequence(false);
        model->setMode(QatMode::Calibrate);
        {
            torch::NoGradGuard noGrad;
            model->forward(x_ * 0.6);
        }
        const ActivationRanges calibrated = model->ranges()[0];
        model->setMode(QatMode::Train);
        model->forward(x_);
        int exceeded = 0;
        for (int p = 0; p < kQuantPointCount; ++p) exceeded += model->ranges()[0][size_t(p)].max > calibrated[size_t(p)].max;
        QVERIFY(exceeded >= 5);
    }

    void fakeQuantModesMatch() {
        for (int b : {8, 4, 2}) {
            compare(uniformBits(b), QatMode::Train, 1e-5, qPrintable(QString("train %1 bits").arg(b)));
            compare(uniformBits(b), QatMode::Frozen, 1e-5, qPrintable(QString("frozen %1 bits").arg(b)));
        }
        StableRng rng(3);
        for (int i = 0; i < 6; ++i) {
            LayerBits bits(1);
            for (int& v : bits[0]) v = 2 + int(rng.below(7));
            compare(bits, QatMode::Train, 1e-5, qPrintable(QString("mixed %1").arg(i)));
        }
    }

    void sameResultOnOneAndTwoThreads() {
        // The layer runs on the calling thread, the ops around it (input quantizer, head, loss) on torch's
        // threads: the thread count must not change a single bit.
        const FloatGruWeights w = randomWeights(2, 9, 3, 8);
        torch::manual_seed(9);
        const torch::Tensor x = torch::randn({40, 6, 2});
        const torch::Tensor y = torch::randint(0, 3, {40}, torch::kLong);
        const int before = torch::get_num_threads();
        torch::set_num_threads(1);
        const Outcome one = runOnce(w, uniformBits(5), x, y, QatMode::Train, true);
        torch::set_num_threads(2);
        const Outcome two = runOnce(w, uniformBits(5), x, y, QatMode::Train, true);
        torch::set_num_threads(before);
        QVERIFY(torch::equal(one.logits, two.logits));
        for (size_t i = 0; i < one.grads.size(); ++i) QVERIFY2(torch::equal(one.grads[i], two.grads[i]), qPrintable(QString::number(i)));
        QVERIFY(sameRanges(one.ranges, two.ranges));
        // And the thread count changed nothing against the reference either.
        const Outcome ref = runOnce(w, uniformBits(5), x, y, QatMode::Train, false);
        QVERIFY(maxRelDiff(two.logits, ref.logits) <= 1e-5);
    }

    void divergedWeightsDoNotEscapeTheTables() {
        // NaN recurrent weights (a diverged run): every sum feeding sigmoid / tanh is NaN, and its table
        // index must still land inside the table, whatever the compiler makes of clamping a NaN. An
        // out-of-table read crashes here or, in the sanitizer build, is reported.
        CellQuantizers cq;
        for (int p = 0; p < kCellPointCount; ++p) {
            CellQuantizer& q = cq.q[size_t(p)];
            q.active = true;
            if (p == kSigR || p == kSigZ || p == kTanhN) {
                q.fixedLevels = true;
                q.levels = 15.0f;
                q.lo = p == kTanhN ? -15.0f : 0.0f;
                q.hi = 15.0f;
            } else {
                q.scale = 0.1f;
                q.zeroPoint = 8.0f;
                q.qmax = 15.0f;
            }
        }
        cq.observe = true;
        const torch::Tensor x = torch::randn({20, 5, 3});
        const torch::Tensor wIh = torch::randn({12, 3}), bIh = torch::randn({12}), bHh = torch::randn({12});
        const torch::Tensor wHh = torch::full({12, 4}, std::numeric_limits<float>::quiet_NaN());
        torch::Tensor observed;
        const torch::Tensor h = fusedGruSequence(x, wIh, bIh, wHh, bHh, cq, &observed);
        QCOMPARE(h.sizes(), torch::IntArrayRef({20, 4}));
        QCOMPARE(observed.sizes(), torch::IntArrayRef({kCellPointCount, 2}));
    }
};

QTEST_APPLESS_MAIN(TestFusedGru)
#include "test_fused_gru.moc"
