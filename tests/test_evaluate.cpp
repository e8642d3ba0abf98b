// evaluateGenome end to end on a tiny task: the integer engine agrees with the fake-quant model on
// >= 99% of the test split for homogeneous 8/6/4 bits and 20 random genomes; 8-bit stays close to
// float; evaluations are reproducible; bad genomes and cancellation are handled.
#include "gruq/base/errors.h"
#include "gruq/quant/evaluate.h"
#include "gruq/model/float_training.h"
#include "gruq/data/mnist_task.h"
#include "gruq/data/split.h"
#include "test_support.h"

#include <QtTest>

using namespace gruq;

class TestEvaluate : public QObject {
    Q_OBJECT
    static constexpr int kQatEpochs = 3;
    static constexpr double kQatLearningRate = 2e-3;
    static constexpr double kClearMargin = 0.10;  // 10 percentage points
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

    void evaluationIsReproducible() {
        const Genome g = parseGenomeText(
            "x6 w_ih4 w_hh5 ih6 hh6 sum_r5 sum_z5 sig_r4 sig_z4 mul_rn6 sum_n6 tanh_n5 mul_zn5 mul_zh5 h6 w_fc4 fc6",
            defaultLayout());
        const GenomeEvaluation a = evaluate(g), b = evaluate(g);
        QCOMPARE(a.validationAccuracy, b.validationAccuracy);
        QCOMPARE(a.model.wHh, b.model.wHh);
        QCOMPARE(a.model.bIh, b.model.bIh);
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

    // QAT exists to win back what rounding loses. At 3 bits everywhere, post-training quantization
    // (calibration only: the same evaluation with no fine-tuning step) must score clearly below QAT.
    void qatBeatsPostTrainingQuantizationAtThreeBits() {
        const Genome threeBits = uniformGenome(homogeneousLayout(), 3);
        QatConfig ptq = test::tinyQat();
        ptq.epochs = 0;
        QatConfig qat = test::tinyQat();
        qat.epochs = kQatEpochs;
        qat.learningRate = kQatLearningRate;
        EvaluateOptions o;
        o.withTest = true;
        const GenomeEvaluation before = evaluateGenome(data_, float_.weights, threeBits, ptq, o);
        const GenomeEvaluation after = evaluateGenome(data_, float_.weights, threeBits, qat, o);
        qInfo("3 bits: PTQ validation %.3f test %.3f; QAT validation %.3f test %.3f (float test %.3f)",
              before.validationAccuracy, before.testAccuracy, after.validationAccuracy, after.testAccuracy,
              float_.testAccuracy);
        QVERIFY2(after.testAccuracy >= before.testAccuracy + kClearMargin,
                 qPrintable(QStringLiteral("QAT %1 vs PTQ %2").arg(after.testAccuracy).arg(before.testAccuracy)));
        QVERIFY2(after.validationAccuracy >= before.validationAccuracy + kClearMargin,
                 qPrintable(QStringLiteral("QAT %1 vs PTQ %2").arg(after.validationAccuracy).arg(before.validationAccuracy)));
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
