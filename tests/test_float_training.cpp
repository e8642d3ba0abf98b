// Float GRU baseline: learns a tiny task, caches by key, reloads identically, rejects damaged files.
#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"
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
        QCOMPARE(b.weights.layers[0].wHh, a.weights.layers[0].wHh);
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
        QCOMPARE(a.weights.layers[0].wIh, b.weights.layers[0].wIh);
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
        QCOMPARE(loadFloatWeights(b.cachePath).layers[0].wHh, b.weights.layers[0].wHh);  // rewritten and readable again
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

    // Two stacked layers (torch's num_layers = 2): learns the task, layer 2 reads H inputs, the file keeps
    // both layers, and a layer count is part of the cache key.
    void stackedModelLearnsAndRoundTrips() {
        FloatTrainConfig c = smallConfig();
        c.numLayers = 2;
        QVERIFY(c.cacheKey(data_) != smallConfig().cacheKey(data_));
        const FloatTrainReport r = trainFloatBaseline(data_, c);
        QCOMPARE(r.weights.shape.numLayers, int64_t(2));
        QCOMPARE(r.weights.shape.key(), std::string("F28-H16x2-C10"));
        QCOMPARE(int(r.weights.layers.size()), 2);
        QCOMPARE(r.weights.layers[1].wIh.size(), size_t(3 * 16 * 16));
        QVERIFY2(r.testAccuracy > 0.6, qPrintable(QString::number(r.testAccuracy)));  // chance is 0.1
        const FloatGruWeights loaded = loadFloatWeights(r.cachePath);
        QCOMPARE(loaded.shape.numLayers, int64_t(2));
        QCOMPARE(loaded.layers[1].wHh, r.weights.layers[1].wHh);
        QCOMPARE(evaluateFloatAccuracy(loaded, data_.test, 1), r.testAccuracy);
        // The second layer matters: without it the accuracy is another one.
        FloatGruWeights zeroed = loaded;
        std::fill(zeroed.layers[1].wIh.begin(), zeroed.layers[1].wIh.end(), 0.0f);
        QVERIFY(evaluateFloatAccuracy(zeroed, data_.test, 1) != r.testAccuracy);
    }

    // Model files written before stacking (magic GRUQFLT1: no layer count) still read, as one layer.
    void oneLayerFileFormatStillReads() {
        const FloatTrainReport r = trainFloatBaseline(data_, smallConfig());
        const FloatGruWeights& w = r.weights;
        std::string bytes = "GRUQFLT1";
        auto raw = [&](const void* p, size_t n) { bytes.append(static_cast<const char*>(p), n); };
        const int64_t dims[3] = {w.shape.inputSize, w.shape.hiddenSize, w.shape.numClasses};
        raw(dims, sizeof dims);
        const FloatGruLayer& l = w.layers[0];
        for (const auto* v : {&l.wIh, &l.wHh, &l.bIh, &l.bHh, &w.wFc, &w.bFc}) {
            const uint64_t n = v->size();
            raw(&n, sizeof n);
            raw(v->data(), v->size() * sizeof(float));
        }
        const uint64_t checksum = fnv1a64(bytes);
        raw(&checksum, sizeof checksum);
        const std::string path = cacheDir_.path().toStdString() + "/v1.bin";
        std::ofstream(path, std::ios::binary) << bytes;
        const FloatGruWeights loaded = loadFloatWeights(path);
        QCOMPARE(loaded.shape.numLayers, int64_t(1));
        QCOMPARE(loaded.layers[0].wHh, l.wHh);
        QCOMPARE(loaded.bFc, w.bFc);
    }

    void badSettingsAreRejected() {
        FloatTrainConfig c = smallConfig();
        c.hiddenSize = 0;
        QVERIFY_THROWS_EXCEPTION(InputError, trainFloatBaseline(data_, c));
        c.hiddenSize = 257;
        QVERIFY_THROWS_EXCEPTION(InputError, trainFloatBaseline(data_, c));
        c.hiddenSize = 16;
        for (int64_t layers : {0, 4}) {
            c.numLayers = layers;
            QVERIFY_THROWS_EXCEPTION(InputError, trainFloatBaseline(data_, c));
        }
    }
};

QTEST_APPLESS_MAIN(TestFloatTraining)
#include "test_float_training.moc"
