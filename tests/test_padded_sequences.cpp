// Padded sequences (an .npz with lengths) end to end. The label is the sign of feature 0 at each
// sequence's last valid step, and the padding after it holds values like the data's, so a model that
// reads the padding cannot tell where a sequence ended: the float model trained with the lengths
// reaches a high test accuracy and one trained on the same data without them does not; padding filled with garbage changes no logit; QAT at 8 bits and a mixed genome keep the
// accuracy, the fake-quant and integer models agree; the exported C runtime, fed each sequence's valid
// steps, matches the integer engine bit for bit.
#include "gruq/data/numpy_task.h"
#include "gruq/export/blob.h"
#include "gruq/export/firmware_export.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/evaluate.h"
#include "gruq/quant/integer_engine.h"
#include "numpy_test_support.h"
#include "runtime_test_support.h"

#include <QtTest>

using namespace gruq;

namespace {

constexpr int64_t kCount = 900, kSteps = 10, kFeatures = 2;

// x [N, T, 2] padded after lengths[i] steps with values like the data's; y = (x[i, lengths[i] - 1, 0] > 0).
std::map<std::string, std::string> paddedMembers(bool withLengths) {
    std::vector<float> x(static_cast<size_t>(kCount * kSteps * kFeatures), 0.0f);
    std::vector<int64_t> y(static_cast<size_t>(kCount), 0), lengths(static_cast<size_t>(kCount), 0);
    uint32_t s = 11;
    auto uniform = [&s] {
        s = s * 1664525u + 1013904223u;
        return float((s >> 8) & 0xffffff) / float(1 << 24);
    };
    for (int64_t i = 0; i < kCount; ++i) {
        const int64_t n = 3 + int64_t(uniform() * 7.99f);  // 3..10 valid steps
        lengths[size_t(i)] = n;
        for (int64_t t = 0; t < kSteps; ++t) {
            for (int64_t f = 0; f < kFeatures; ++f) x[size_t((i * kSteps + t) * kFeatures + f)] = 2.0f * uniform() - 1.0f;
        }
        y[size_t(i)] = x[size_t((i * kSteps + n - 1) * kFeatures)] > 0.0f;
    }
    std::map<std::string, std::string> m{{"x", test::npyFloats(x, {kCount, kSteps, kFeatures})}, {"y", test::npyLabels(y)}};
    if (withLengths) m["lengths"] = test::npyLabels(lengths);
    return m;
}

FloatTrainConfig floatConfig(const std::string& cacheDir) {
    FloatTrainConfig c = test::tinyFloatConfig(cacheDir);
    c.epochs = 25;
    return c;
}

}  // namespace

class TestPaddedSequences : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    TaskData data_;
    FloatTrainReport float_;

    TaskData load(bool withLengths) {
        const std::string path = dir_.filePath(withLengths ? "padded.npz" : "unpadded.npz").toStdString();
        test::writeNpz(path, paddedMembers(withLengths));
        NumpyTaskOptions o;
        o.path = path;
        return loadNumpyTask(o);
    }

private slots:
    void initTestCase() {
        data_ = load(true);
        QVERIFY(data_.test.padded() && data_.train.padded() && data_.validation.padded());
        float_ = trainFloatBaseline(data_, floatConfig(dir_.path().toStdString()));
    }

    void theFloatModelReadsTheLastValidStep() {
        const TaskData unpadded = load(false);
        const FloatTrainReport blind = trainFloatBaseline(unpadded, floatConfig(dir_.path().toStdString()));
        qInfo("float test accuracy: with lengths %.3f, same data without them %.3f", float_.testAccuracy, blind.testAccuracy);
        QVERIFY2(float_.testAccuracy >= 0.9, qPrintable(QString::number(float_.testAccuracy)));
        QVERIFY2(blind.testAccuracy <= float_.testAccuracy - 0.15, qPrintable(QString::number(blind.testAccuracy)));
    }

    void paddingContentChangesNoLogit() {
        SequenceSet garbage = data_.test;
        for (int64_t i = 0; i < garbage.count; ++i) {
            for (int64_t t = garbage.lengthOf(i); t < garbage.steps; ++t) {
                for (int64_t f = 0; f < garbage.features; ++f) garbage.x[size_t((i * garbage.steps + t) * garbage.features + f)] = 1e4f;
            }
        }
        QVERIFY(evaluateFloatLogits(float_.weights, data_.test, 1) == evaluateFloatLogits(float_.weights, garbage, 1));
        const GenomeEvaluation e = evaluateGenome(data_, float_.weights, uniformGenome(defaultLayout(), 6), test::tinyQat());
        const IntegerGruEngine engine(e.model);
        QVERIFY(engine.logitsOf(data_.test, 1) == engine.logitsOf(garbage, 1));
    }

    void quantizedModelsKeepTheAccuracyAndRunBitExactInC() {
        const Genome mixed = parseGenomeText(
            "x8 w_ih6 w_hh5 ih8 hh7 sum_r6 sum_z6 sig_r5 sig_z6 mul_rn6 sum_n7 tanh_n6 mul_zn6 mul_zh7 h7 w_fc6 fc8", defaultLayout());
        const QString harness = dir_.filePath("harness");
        test::Run r = test::buildGenericHarness(GRUQ_RUNTIME_HARNESS, GRUQ_RUNTIME_DIR, harness);
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        EvaluateOptions withTest;
        withTest.withTest = true;
        for (const Genome& g : {uniformGenome(defaultLayout(), 8), mixed}) {
            const GenomeEvaluation e = evaluateGenome(data_, float_.weights, g, test::tinyQat(), withTest);
            qInfo("%s: integer test %.3f (float %.3f), fake-quant / integer agreement %.3f", g.toText().c_str(), e.testAccuracy,
                  float_.testAccuracy, e.agreement);
            QVERIFY(e.testAccuracy >= float_.testAccuracy - 0.03);
            QVERIFY(e.agreement >= 0.99);

            const QString out = dir_.filePath(QString::fromStdString("fw-" + std::to_string(g.bits[1])));
            exportFirmware(firmwareExportFor(e, data_, "test"), out.toStdString());
            const IntegerGruEngine engine(readBlobFile(out.toStdString() + "/model.bin").model);
            test::writeBytes(dir_.filePath("codes.bin").toStdString(), test::codesFile(engine, data_.test));
            r = test::run(harness, {out + "/model.bin", dir_.filePath("codes.bin"), dir_.filePath("logits.bin")});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            QVERIFY(test::readBytes(dir_.filePath("logits.bin").toStdString()) == test::logitsBytes(engine.logitsOf(data_.test, 1)));
        }
    }
};

QTEST_GUILESS_MAIN(TestPaddedSequences)
#include "test_padded_sequences.moc"
