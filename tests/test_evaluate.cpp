// evaluateGenome end to end on a tiny task: the integer engine agrees with the fake-quant model on
// >= 99% of the test split for homogeneous 8/6/4 bits and 20 random genomes; 8-bit stays close to
// float; evaluations are reproducible; bad genomes and cancellation are handled.
#include "gruq/base/errors.h"
#include "gruq/quant/evaluate.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/model/float_training.h"
#include "gruq/data/mnist_task.h"
#include "gruq/data/split.h"
#include "test_support.h"

#include <QtTest>

using namespace gruq;

class TestEvaluate : public QObject {
    Q_OBJECT
    static constexpr double kClearMargin = 0.08;  // 8 percentage points (measured: 11 to 17)
    QTemporaryDir dataDir_, cacheDir_;
    TaskData data_;
    FloatTrainReport float_;


    GenomeEvaluation evaluate(const Genome& g) {
        EvaluateOptions o;
        o.withTest = true;
        return evaluateGenome(data_, float_.weights, g, test::tinyQat(), o);
    }

private slots:
    void initTestCase() {
        test::writeTinyMnist(dataDir_.path().toStdString(), 800, 400, true);
        MnistTaskOptions o;
        o.directory = dataDir_.path().toStdString();
        data_ = loadMnistTask(o);
        float_ = trainFloatBaseline(data_, test::tinyFloatConfig(cacheDir_.path().toStdString()));
        qInfo("float: validation %.3f test %.3f", float_.validationAccuracy, float_.testAccuracy);
        QVERIFY(float_.testAccuracy > 0.8);
    }

    void homogeneousBitsAgreeWithFakeQuant() {
        for (int b : {8, 6, 4, 3, 2}) {
            const GenomeEvaluation e = evaluate(uniformGenome(homogeneousLayout(), b));
            qInfo("%d bits: integer test %.3f, fake-quant test %.3f, agreement %.4f, %.0f%% of 8-bit size", b,
                  e.testAccuracy, e.fakeQuantTestAccuracy, e.agreement, 100 * e.size.fractionOf8Bit);
            QVERIFY2(e.agreement >= 0.99, qPrintable(QString::number(e.agreement)));
            if (b == 8) QVERIFY(std::abs(e.testAccuracy - float_.testAccuracy) <= 0.05);
        }
    }

    void randomGenomesAgreeWithFakeQuant() {
        StableRng rng(2024);
        double worst = 1.0;
        for (int i = 0; i < 20; ++i) {
            Genome g = uniformGenome(defaultLayout(), 8);
            for (int& b : g.bits) b = 2 + int(rng.below(7));
            const GenomeEvaluation e = evaluate(g);
            worst = std::min(worst, e.agreement);
            QVERIFY2(e.agreement >= 0.99, qPrintable(QString::fromStdString(g.toText()) + " agreement " +
                                                     QString::number(e.agreement)));
            QCOMPARE(e.size.totalBits(), modelSize(float_.weights.shape, g.resolve()).totalBits());
        }
        qInfo("worst agreement over 20 random genomes: %.4f", worst);
    }

    // Stacks of 2 and 3 layers: the fake-quant model and the integer engine agree as for one layer, with
    // mixed genomes (every layer its own bits); a one-layer genome is refused for a stacked model.
    void stackedGenomesAgreeWithFakeQuant() {
        for (int layers : {2, 3}) {
            FloatTrainConfig c = test::tinyFloatConfig(cacheDir_.path().toStdString());
            c.numLayers = layers;
            const FloatTrainReport stack = trainFloatBaseline(data_, c);
            QVERIFY2(stack.testAccuracy > 0.7, qPrintable(QString::number(stack.testAccuracy)));
            StableRng rng(77 + uint64_t(layers));
            for (int i = 0; i < 4; ++i) {
                Genome g = uniformGenome(stackedLayout(defaultLayout(), layers), 8);
                for (int& b : g.bits) b = 3 + int(rng.below(6));
                EvaluateOptions o;
                o.withTest = true;
                const GenomeEvaluation e = evaluateGenome(data_, stack.weights, g, test::tinyQat(), o);
                qInfo("%d layers, %s: integer test %.3f, fake-quant %.3f, agreement %.4f", layers, g.toText().c_str(),
                      e.testAccuracy, e.fakeQuantTestAccuracy, e.agreement);
                QVERIFY2(e.agreement >= 0.99, qPrintable(QString::number(e.agreement)));
                QCOMPARE(int(e.model.layers.size()), layers);
                QCOMPARE(e.size.totalBits(), modelSize(stack.weights.shape, g.resolve()).totalBits());
            }
            QVERIFY_THROWS_EXCEPTION(InputError, evaluateGenome(data_, stack.weights, uniformGenome(defaultLayout(), 8), test::tinyQat()));
        }
    }

    void evaluationIsReproducible() {
        const Genome g = parseGenomeText(
            "x6 w_ih4 w_hh5 ih6 hh6 sum_r5 sum_z5 sig_r4 sig_z4 mul_rn6 sum_n6 tanh_n5 mul_zn5 mul_zh5 h6 w_fc4 fc6",
            defaultLayout());
        const GenomeEvaluation a = evaluate(g), b = evaluate(g);
        QCOMPARE(a.validationAccuracy, b.validationAccuracy);
        QCOMPARE(a.model.layers[0].wHh, b.model.layers[0].wHh);
        QCOMPARE(a.model.layers[0].bIh, b.model.layers[0].bIh);
        QVERIFY(a.totalSeconds > 0);
    }

    void invalidGenomeIsRejectedNamingTheGene() {
        Genome g = uniformGenome(defaultLayout(), 8);
        g.bits[5] = 11;
        try {
            evaluate(g);
            QFAIL("out-of-range gene accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("sum_r") != std::string::npos, e.what());
        }
        g.bits.pop_back();
        QVERIFY_THROWS_EXCEPTION(InputError, evaluate(g));
    }

    // QAT exists to win back what rounding loses. With (1 - z) * n at 3 bits (the rest at 8), two
    // baselines: post-training quantization (calibration only, no training step) and the same training
    // run with the learning rate at 0 (ranges tracked over the same batches, weights untouched: what a
    // no-op optimiser gives). Fine-tuning must beat both clearly. Measured on the tiny task (validation /
    // test): PTQ 0.738 / 0.777, frozen weights 0.675 / 0.730, QAT 0.850 / 0.902.
    // Not every operator is such a case: at 3 bits the hidden state loses accuracy to its calibrated
    // range (tracking the range over training batches wins it back, with or without weight updates),
    // and at homogeneous 3 or 4 bits this short budget recovers little.
    void qatBeatsPostTrainingQuantizationAtThreeBits() {
        const Genome mulZnAtThreeBits = parseGenomeText(
            "x8 w_ih8 w_hh8 ih8 hh8 sum_r8 sum_z8 sig_r8 sig_z8 mul_rn8 sum_n8 tanh_n8 mul_zn3 mul_zh8 h8 w_fc8 fc8",
            defaultLayout());
        QatConfig qat = test::tinyQat();
        qat.epochs = 4;
        qat.learningRate = 2e-3;
        QatConfig frozenWeights = qat;
        frozenWeights.learningRate = 0.0;
        QatConfig ptq = qat;
        ptq.epochs = 0;
        EvaluateOptions o;
        o.withTest = true;
        const GenomeEvaluation calibrated = evaluateGenome(data_, float_.weights, mulZnAtThreeBits, ptq, o);
        const GenomeEvaluation frozen = evaluateGenome(data_, float_.weights, mulZnAtThreeBits, frozenWeights, o);
        const GenomeEvaluation tuned = evaluateGenome(data_, float_.weights, mulZnAtThreeBits, qat, o);
        qInfo("mul_zn at 3 bits, validation / test: PTQ %.3f / %.3f, frozen weights %.3f / %.3f, QAT %.3f / %.3f "
              "(float test %.3f)", calibrated.validationAccuracy, calibrated.testAccuracy, frozen.validationAccuracy,
              frozen.testAccuracy, tuned.validationAccuracy, tuned.testAccuracy, float_.testAccuracy);
        for (const GenomeEvaluation* baseline : {&calibrated, &frozen}) {
            QVERIFY2(tuned.testAccuracy >= baseline->testAccuracy + kClearMargin,
                     qPrintable(QStringLiteral("test: QAT %1 vs %2").arg(tuned.testAccuracy).arg(baseline->testAccuracy)));
            QVERIFY2(tuned.validationAccuracy >= baseline->validationAccuracy + kClearMargin,
                     qPrintable(QStringLiteral("validation: QAT %1 vs %2")
                                    .arg(tuned.validationAccuracy)
                                    .arg(baseline->validationAccuracy)));
        }
    }

    // freezeRangesAfter (gruq-cli --qat-range-tracking): the share of QAT steps during which activation
    // ranges follow the training batches. At 0 the model keeps its calibrated ranges (those of PTQ) while
    // its weights still train; at 0.5 the ranges move.
    void rangeTrackingShareDecidesWhetherRangesMove() {
        const Genome g = uniformGenome(defaultLayout(), 6);
        QatConfig ptq = test::tinyQat();
        ptq.epochs = 0;
        QatConfig untracked = test::tinyQat();
        untracked.epochs = 2;
        untracked.freezeRangesAfter = 0.0;
        QatConfig tracked = untracked;
        tracked.freezeRangesAfter = 0.5;
        const QuantizedGruLayer calibrated = evaluateGenome(data_, float_.weights, g, ptq, {}).model.layers[0];
        const QuantizedGruLayer fixedRanges = evaluateGenome(data_, float_.weights, g, untracked, {}).model.layers[0];
        const QuantizedGruLayer movedRanges = evaluateGenome(data_, float_.weights, g, tracked, {}).model.layers[0];
        int moved = 0;
        for (size_t p = 0; p < calibrated.act.size(); ++p) {
            QCOMPARE(fixedRanges.act[p].scale, calibrated.act[p].scale);
            QCOMPARE(fixedRanges.act[p].zeroPoint, calibrated.act[p].zeroPoint);
            if (movedRanges.act[p].scale != calibrated.act[p].scale) ++moved;
        }
        qInfo("range tracking 0.5: %d of %zu activation scales moved from the calibrated ones", moved, calibrated.act.size());
        QVERIFY(moved > 0);
        QVERIFY(fixedRanges.wIh != calibrated.wIh);  // the weights trained all the same
    }

    // A scheme whose training diverges still gets an evaluation instead of ending the search: steps with a
    // non-finite loss or gradient are skipped (one NaN update made every weight NaN), and a model trained
    // out of the integer range falls back to the calibrated one, marked diverged. Here: learning rate 1e30.
    void divergingTrainingFallsBackToTheCalibratedModel() {
        QatConfig qat = test::tinyQat();
        qat.learningRate = 1e30;
        const Genome g = uniformGenome(defaultLayout(), 4);
        const GenomeEvaluation e = evaluateGenome(data_, float_.weights, g, qat, {});
        qInfo("learning rate 1e30: %lld of %lld steps skipped, diverged %d, validation %.3f",
              static_cast<long long>(e.skippedSteps), static_cast<long long>(qat.samplesPerEpoch / qat.batchSize),
              int(e.diverged), e.validationAccuracy);
        QVERIFY(e.diverged);
        QatConfig ptq = test::tinyQat();
        ptq.epochs = 0;
        const GenomeEvaluation calibrated = evaluateGenome(data_, float_.weights, g, ptq, {});
        QCOMPARE(e.validationAccuracy, calibrated.validationAccuracy);  // the calibrated model, exactly
        QVERIFY(e.model.layers[0].wIh == calibrated.model.layers[0].wIh);
        const GenomeEvaluation calm = evaluateGenome(data_, float_.weights, g, test::tinyQat(), {});
        QVERIFY(!calm.diverged);
        QCOMPARE(calm.skippedSteps, int64_t(0));
    }

    // Multi-fidelity: the rung only reads the model, so a promoted evaluation equals one without a rung
    // bit for bit; a stopped one trains only up to the rung and returns the rung's model and accuracy.
    void rungPromotesOrStopsAtItsStep() {
        const Genome g = parseGenomeText(
            "x6 w_ih4 w_hh5 ih6 hh6 sum_r5 sum_z5 sig_r4 sig_z4 mul_rn6 sum_n6 tanh_n5 mul_zn5 mul_zh5 h6 w_fc4 fc6",
            defaultLayout());
        QatConfig qat = test::tinyQat();
        qat.epochs = 2;  // 256 / 64 = 4 steps per epoch: 8 steps, the rung after 2
        QCOMPARE(rungStepOf(0.25, 8), int64_t(2));
        QCOMPARE(rungStepOf(0.01, 8), int64_t(1));
        QCOMPARE(rungStepOf(0.99, 8), int64_t(7));
        QCOMPARE(rungStepOf(0.5, 1), int64_t(0));
        QCOMPARE(rungStepOf(0.0, 8), int64_t(0));

        const GenomeEvaluation full = evaluateGenome(data_, float_.weights, g, qat, {});
        int calls = 0;
        double seenSize = -1, seenAccuracy = -1;
        EvaluateOptions promoted;
        promoted.rungFraction = 0.25;
        promoted.rungValidationShare = 0.5;
        promoted.promote = [&](double size, double accuracy) {
            ++calls;
            seenSize = size;
            seenAccuracy = accuracy;
            return true;
        };
        int64_t before = qatStepsRun();
        const GenomeEvaluation p = evaluateGenome(data_, float_.weights, g, qat, promoted);
        QCOMPARE(qatStepsRun() - before, int64_t(8));
        QCOMPARE(calls, 1);
        QCOMPARE(seenSize, full.size.fractionOf8Bit);
        QCOMPARE(p.rungValidationAccuracy, seenAccuracy);
        QCOMPARE(p.fidelity, 1.0);
        QCOMPARE(p.validationAccuracy, full.validationAccuracy);
        QCOMPARE(p.fakeQuantValidationAccuracy, full.fakeQuantValidationAccuracy);
        QCOMPARE(p.model.layers[0].wIh, full.model.layers[0].wIh);
        QCOMPARE(p.model.layers[0].wHh, full.model.layers[0].wHh);
        QCOMPARE(p.model.layers[0].bHh, full.model.layers[0].bHh);
        QCOMPARE(p.model.wFc, full.model.wFc);

        EvaluateOptions stopped = promoted;
        stopped.withTest = true;
        stopped.promote = [](double, double) { return false; };
        before = qatStepsRun();
        const GenomeEvaluation s = evaluateGenome(data_, float_.weights, g, qat, stopped);
        QCOMPARE(qatStepsRun() - before, int64_t(2));
        QCOMPARE(s.fidelity, 0.25);
        QCOMPARE(s.rungValidationAccuracy, p.rungValidationAccuracy);
        QCOMPARE(s.validationAccuracy, s.rungValidationAccuracy);
        QCOMPARE(s.fakeQuantValidationAccuracy, -1.0);
        QVERIFY(s.model.layers[0].wHh != full.model.layers[0].wHh);  // the rung's weights: training went on after it
        // The rung's accuracy is the stored model's on the leading half of the validation split.
        std::vector<int64_t> half(size_t(data_.validation.count / 2));
        for (size_t i = 0; i < half.size(); ++i) half[i] = int64_t(i);
        QCOMPARE(IntegerGruEngine(s.model).accuracy(subset(data_.validation, half)), s.validationAccuracy);
        QCOMPARE(s.testAccuracy, IntegerGruEngine(s.model).accuracy(data_.test));
        qInfo("rung (2 of 8 steps, half the validation split) %.3f, full run %.3f", s.validationAccuracy,
              full.validationAccuracy);

        EvaluateOptions bad = promoted;
        bad.rungFraction = 1.0;
        QVERIFY_THROWS_EXCEPTION(InputError, evaluateGenome(data_, float_.weights, g, qat, bad));
        bad = promoted;
        bad.promote = nullptr;
        QVERIFY_THROWS_EXCEPTION(InputError, evaluateGenome(data_, float_.weights, g, qat, bad));
        bad = promoted;
        bad.rungValidationShare = 0;
        QVERIFY_THROWS_EXCEPTION(InputError, evaluateGenome(data_, float_.weights, g, qat, bad));
    }

    void cancelStopsTheEvaluation() {
        CancelFlag cancel;
        cancel.request();
        EvaluateOptions o;
        o.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled, evaluateGenome(data_, float_.weights, uniformGenome(homogeneousLayout(), 8),
                                                           test::tinyQat(), o));
    }
};

QTEST_APPLESS_MAIN(TestEvaluate)
#include "test_evaluate.moc"
