// Float GRU baseline: learns a tiny task, caches by key, reloads identically, rejects damaged files.
#include "gruq/base/errors.h"
#include "gruq/model/float_training.h"
#include "gruq/data/mnist_task.h"
#include "test_support.h"

#include <QtTest>

#include <filesystem>
#include <fstream>

using namespace gruq;

class TestFloatTraining : public QObject {
    Q_OBJECT
    QTemporaryDir dataDir_, cacheDir_;
    TaskData data_;

    FloatTrainConfig smallConfig() const {
        FloatTrainConfig c = test::tinyFloatConfig(cacheDir_.path().toStdString());
        c.epochs = 4;
        return c;
    }

private slots:
    void initTestCase() {
        test::writeTinyMnist(dataDir_.path().toStdString(), 600, 200, true);
        MnistTaskOptions o;
        o.directory = dataDir_.path().toStdString();
        data_ = loadMnistTask(o);
    }

    void learnsTheTinyTask() {
        int epochsSeen = 0;
        TrainObserver obs;
        obs.epochFinished = [&](const EpochReport& e) { QCOMPARE(e.epoch, ++epochsSeen); };
        const FloatTrainReport r = trainFloatBaseline(data_, smallConfig(), obs);
        QCOMPARE(epochsSeen, 4);
        QVERIFY(!r.fromCache);
        QVERIFY2(r.testAccuracy > 0.6, qPrintable(QString::number(r.testAccuracy)));  // chance is 0.1
        QVERIFY(r.samplesPerSecond > 0);
        QCOMPARE(r.weights.shape.hiddenSize, int64_t(16));
        QCOMPARE(r.weights.shape.inputSize, int64_t(28));
        QCOMPARE(r.weights.shape.numClasses, int64_t(10));
        QVERIFY(std::filesystem::exists(r.cachePath));
        // The stored weights reproduce the reported accuracy.
        QCOMPARE(evaluateFloatAccuracy(r.weights, data_.test, 1), r.testAccuracy);
    }

    void secondRunIsACacheHitWithIdenticalWeights() {
        const FloatTrainReport a = trainFloatBaseline(data_, smallConfig());
        const FloatTrainReport b = trainFloatBaseline(data_, smallConfig());
        QVERIFY(a.fromCache && b.fromCache);
        QCOMPARE(b.weights.wHh, a.weights.wHh);
        QCOMPARE(b.testAccuracy, a.testAccuracy);
        QVERIFY(!b.epochs.empty());
    }

    void differentSeedOrShapeIsAMiss() {
        FloatTrainConfig c = smallConfig();
        const FloatTrainReport a = trainFloatBaseline(data_, c);
        c.seed = 9;
        c.epochs = 1;
        const FloatTrainReport b = trainFloatBaseline(data_, c);
        QVERIFY(!b.fromCache);
        QVERIFY(b.cachePath != a.cachePath);
        QVERIFY(c.cacheKey(data_) != smallConfig().cacheKey(data_));
    }

    void trainingIsDeterministicForASeed() {
        FloatTrainConfig c = smallConfig();
        c.useCache = false;
        c.epochs = 1;
        const FloatTrainReport a = trainFloatBaseline(data_, c);
        const FloatTrainReport b = trainFloatBaseline(data_, c);
        QCOMPARE(a.weights.wIh, b.weights.wIh);
        QCOMPARE(a.weights.wFc, b.weights.wFc);
    }

    void damagedCacheIsRetrained() {
        FloatTrainConfig c = smallConfig();
        c.epochs = 1;
        c.seed = 77;
        const FloatTrainReport a = trainFloatBaseline(data_, c);
        {
            std::fstream f(a.cachePath, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(100);
            f.put('\x7f');
        }
        const FloatTrainReport b = trainFloatBaseline(data_, c);
        QVERIFY(!b.fromCache);
        QCOMPARE(loadFloatWeights(b.cachePath).wHh, b.weights.wHh);  // rewritten and readable again
    }

    void weightFileErrorsNameTheFile() {
        const std::string path = cacheDir_.path().toStdString() + "/bad.bin";
        std::ofstream(path) << "not a model";
        try {
            loadFloatWeights(path);
            QFAIL("garbage accepted");
        } catch (const InputError& e) {
            QVERIFY(std::string(e.what()).find(path) != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(InputError, loadFloatWeights(path + ".missing"));
    }

    void cancelStopsTraining() {
        FloatTrainConfig c = smallConfig();
        c.useCache = false;
        CancelFlag cancel;
        cancel.request();
        TrainObserver obs;
        obs.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled, trainFloatBaseline(data_, c, obs));
    }

    void badSettingsAreRejected() {
        FloatTrainConfig c = smallConfig();
        c.hiddenSize = 0;
        QVERIFY_THROWS_EXCEPTION(InputError, trainFloatBaseline(data_, c));
    }
};

QTEST_APPLESS_MAIN(TestFloatTraining)
#include "test_float_training.moc"
