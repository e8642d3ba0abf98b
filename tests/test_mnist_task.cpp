// MNIST-format task loading: views, normalisation, seeded split, errors naming the file.
#include "gruq/base/errors.h"
#include "gruq/data/mnist_task.h"
#include "gruq/data/task_registry.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <filesystem>

using namespace gruq;

class TestMnistTask : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string root() const { return dir_.path().toStdString(); }

private slots:
    void initTestCase() { test::writeTinyMnist(root(), 200, 50, true); }

    void rowView() {
        MnistTaskOptions o;
        o.directory = root();
        const TaskData d = loadMnistTask(o);
        QCOMPARE(d.task, std::string("smnist-row"));
        QCOMPARE(d.train.steps, int64_t(28));
        QCOMPARE(d.train.features, int64_t(28));
        QCOMPARE(d.train.count + d.validation.count, int64_t(200));
        QCOMPARE(d.validation.count, int64_t(20));  // 10% stratified: 2 of each of the 10 classes
        QCOMPARE(d.test.count, int64_t(50));
        QCOMPARE(d.numClasses(), 10);
        for (int64_t c : classCounts(d.validation, 10)) QCOMPARE(c, int64_t(2));
    }

    void trainingSplitIsNormalised() {
        MnistTaskOptions o;
        o.directory = root();
        const TaskData d = loadMnistTask(o);
        double sum = 0, sumSq = 0;
        for (float v : d.train.x) {
            sum += v;
            sumSq += double(v) * v;
        }
        const double n = double(d.train.x.size());
        QVERIFY(std::abs(sum / n) < 1e-4);
        QVERIFY(std::abs(sumSq / n - 1.0) < 1e-3);
        QVERIFY(!d.normalization.perFeature());  // one statistic for all pixels
        QVERIFY(d.normalization.mean[0] > 0.0f && d.normalization.mean[0] < 1.0f);
    }

    void pixelViewIsTheSamePixelsInOneColumn() {
        MnistTaskOptions rows, pixels;
        rows.directory = pixels.directory = root();
        pixels.view = MnistView::Pixels;
        const TaskData r = loadMnistTask(rows), p = loadMnistTask(pixels);
        QCOMPARE(p.task, std::string("smnist-pixel"));
        QCOMPARE(p.train.steps, int64_t(784));
        QCOMPARE(p.train.features, int64_t(1));
        QCOMPARE(p.train.x, r.train.x);  // same row-major pixel order
        QCOMPARE(p.train.y, r.train.y);
    }

    void splitDependsOnSeedOnly() {
        MnistTaskOptions a, b, c;
        a.directory = b.directory = c.directory = root();
        c.seed = 5;
        const TaskData da = loadMnistTask(a), db = loadMnistTask(b), dc = loadMnistTask(c);
        QCOMPARE(da.validation.x, db.validation.x);
        QVERIFY(da.validation.x != dc.validation.x);
    }

    void rawFilesAndCaps() {
        QTemporaryDir raw;
        test::writeTinyMnist(raw.path().toStdString(), 100, 30, false);
        MnistTaskOptions o;
        o.directory = raw.path().toStdString();
        o.maxTrain = 50;
        o.maxTest = 10;
        const TaskData d = loadMnistTask(o);
        QCOMPARE(d.train.count + d.validation.count, int64_t(50));
        QCOMPARE(d.test.count, int64_t(10));
    }

    void labelCountMismatchNamesTheLabelFile() {
        QTemporaryDir bad;
        const std::string dir = bad.path().toStdString();
        test::writeTinyMnist(dir, 40, 10, false);
        IdxArray labels;
        labels.dims = {39};
        labels.data.assign(39, 1);
        writeIdxFile(dir + "/train-labels-idx1-ubyte", labels, false);
        MnistTaskOptions o;
        o.directory = dir;
        try {
            loadMnistTask(o);
            QFAIL("label count mismatch accepted");
        } catch (const InputError& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("train-labels-idx1-ubyte") != std::string::npos, what.c_str());
            QVERIFY2(what.find("39") != std::string::npos && what.find("40") != std::string::npos, what.c_str());
        }
    }

    void labelOutOfRange() {
        QTemporaryDir bad;
        const std::string dir = bad.path().toStdString();
        test::writeTinyMnist(dir, 10, 10, false);
        IdxArray labels;
        labels.dims = {10};
        labels.data.assign(10, 1);
        labels.data[4] = 42;
        writeIdxFile(dir + "/t10k-labels-idx1-ubyte", labels, false);
        MnistTaskOptions o;
        o.directory = dir;
        QVERIFY_THROWS_EXCEPTION(InputError, loadMnistTask(o));
    }

    void missingFolderAndFile() {
        MnistTaskOptions o;
        o.directory = root() + "/does-not-exist";
        QVERIFY_THROWS_EXCEPTION(InputError, loadMnistTask(o));
        QTemporaryDir partial;
        test::writeTinyMnist(partial.path().toStdString(), 10, 10, false);
        std::filesystem::remove(partial.path().toStdString() + "/t10k-images-idx3-ubyte");
        o.directory = partial.path().toStdString();
        try {
            loadMnistTask(o);
            QFAIL("missing file accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("t10k-images-idx3-ubyte") != std::string::npos, e.what());
        }
    }

    void registryLoadsByName() {
        TaskLoadOptions o;
        o.path = root();
        const TaskData d = loadTask("smnist-pixel", o);
        QCOMPARE(d.train.steps, int64_t(784));
        QVERIFY_THROWS_EXCEPTION(InputError, loadTask("cifar", o));
        QCOMPARE(defaultTaskName(), std::string("smnist-row"));
    }

    void defaultFashionMnistWhenInstalled() {
        if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
            QSKIP("dataset-fashion-mnist not installed");
        }
        MnistTaskOptions o;  // default folder
        o.maxTrain = 1000;
        o.maxTest = 100;
        const TaskData d = loadMnistTask(o);
        QCOMPARE(d.classNames.front(), std::string("T-shirt/top"));
        QCOMPARE(d.train.count + d.validation.count, int64_t(1000));
    }
};

QTEST_APPLESS_MAIN(TestMnistTask)
#include "test_mnist_task.moc"
