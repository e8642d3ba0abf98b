// The user's NumPy data: the .npy parser (types, byte orders, versions, damage), .npz archives (stored
// and deflated, damaged), files written by NumPy itself, and the npz task (splits, normalisation,
// class names, separate files, folders of .npy files, and every refusal with its message).
#include "gruq/base/errors.h"
#include "gruq/data/numpy_task.h"
#include "gruq/data/task_registry.h"
#include "numpy_test_support.h"

#include <QProcess>
#include <QtTest>

#include <algorithm>
#include <filesystem>
#include <set>

using namespace gruq;
using namespace gruq::test;

namespace {

// The InputError's text, or "" when none was thrown.
template <typename F>
std::string inputErrorOf(F&& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

#define EXPECT_PROBLEM(expr, needle)                                                                   \
    do {                                                                                               \
        const std::string message = inputErrorOf([&] { (void)(expr); });                               \
        QVERIFY2(message.find(needle) != std::string::npos, ("got: '" + message + "'").c_str());      \
    } while (0)

}  // namespace

class TestNumpyTask : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::string path(const std::string& name) const { return dir_.path().toStdString() + "/" + name; }

private slots:
    void npyRoundTripsEveryNumberType() {
        const NpyArray f = parseNpy(makeNpy("<f4", {2, 3}, rawBytes(std::vector<float>{1.5f, -2, 3, 4, 5, 6e-3f})), "a");
        QCOMPARE(f.shape, (std::vector<int64_t>{2, 3}));
        QCOMPARE(f.asDouble(0), 1.5);
        QCOMPARE(f.asDouble(5), double(6e-3f));
        const NpyArray i2 = parseNpy(makeNpy("<i2", {3}, rawBytes(std::vector<int16_t>{-32768, 7, 32767})), "b");
        QCOMPARE(i2.asInteger(0), int64_t(-32768));
        QCOMPARE(i2.asInteger(2), int64_t(32767));
        const NpyArray u1 = parseNpy(makeNpy("|u1", {2}, std::string("\xff\x01", 2)), "c");
        QCOMPARE(u1.asInteger(0), int64_t(255));
        const NpyArray u8 = parseNpy(makeNpy("<u8", {1}, rawBytes(std::vector<uint64_t>{~uint64_t(0)})), "d");
        QCOMPARE(u8.asInteger(0), int64_t(-1));  // beyond int64: reported negative, so every caller refuses it
        const NpyArray scalar = parseNpy(makeNpy("<f8", {}, rawBytes(std::vector<double>{2.25})), "e");
        QCOMPARE(scalar.elementCount(), int64_t(1));
        QCOMPARE(scalar.asDouble(0), 2.25);
    }

    void npyReadsBigEndianVersion2AndUnicode() {
        // '>f4' 1.0 = 3f 80 00 00 and '>i2' -2 = ff fe, in a version-2 header (4-byte length).
        std::string v1 = makeNpy(">f4", {2}, std::string("\x3f\x80\x00\x00\xc0\x00\x00\x00", 8));
        std::string v2 = std::string("\x93NUMPY\x02\x00", 8);
        const std::string header = v1.substr(10);
        const uint32_t headerLength = uint32_t(v1.size() - 10 - 8);
        v2 += rawBytes(std::vector<uint32_t>{headerLength});
        v2 += header;
        const NpyArray f = parseNpy(v2, "v2");
        QCOMPARE(f.asDouble(0), 1.0);
        QCOMPARE(f.asDouble(1), -2.0);
        const NpyArray i = parseNpy(makeNpy(">i2", {1}, std::string("\xff\xfe", 2)), "be");
        QCOMPARE(i.asInteger(0), int64_t(-2));
        // '<U3': "yes", "é" (U+00E9), "日本" -> UTF-8.
        const NpyArray u = parseNpy(makeNpy("<U3", {3}, rawBytes(std::vector<uint32_t>{'y', 'e', 's', 0xe9, 0, 0, 0x65e5, 0x672c, 0})), "u");
        QCOMPARE(u.asString(0), std::string("yes"));
        QCOMPARE(u.asString(1), std::string("\xc3\xa9"));
        QCOMPARE(u.asString(2), std::string("\xe6\x97\xa5\xe6\x9c\xac"));
    }

    void npyDamageIsNamed() {
        const std::string good = makeNpy("<f4", {4}, rawBytes(std::vector<float>{1, 2, 3, 4}));
        EXPECT_PROBLEM(parseNpy("PK\x03\x04 not npy", "f"), "no \\x93NUMPY magic");
        EXPECT_PROBLEM(parseNpy(good.substr(0, good.size() - 1), "f"), "truncated file");
        EXPECT_PROBLEM(parseNpy(good + "x", "f"), "trailing bytes");
        EXPECT_PROBLEM(parseNpy(good.substr(0, 20), "f"), "truncated .npy header");
        std::string v9 = good;
        v9[6] = 9;
        EXPECT_PROBLEM(parseNpy(v9, "f"), "version 9 is not supported");
        EXPECT_PROBLEM(parseNpy(makeNpy("<c8", {1}, std::string(8, '\0')), "f"), "unsupported element type '<c8'");
        EXPECT_PROBLEM(parseNpy(makeNpy("|O", {1}, std::string(8, '\0')), "f"), "object arrays are not read");
        EXPECT_PROBLEM(parseNpy(makeNpy("<f4", {1u << 20, 1u << 20}, ""), "f", int64_t(1) << 31), "too large");
        std::string structured = good;
        structured.replace(structured.find("'<f4'"), 5, "[('a',");
        EXPECT_PROBLEM(parseNpy(structured, "f"), "structured arrays are not supported");
        std::string fortran = makeNpy("<f4", {2, 2}, rawBytes(std::vector<float>{1, 2, 3, 4}));
        fortran.replace(fortran.find("False"), 5, "True ");
        EXPECT_PROBLEM(parseNpy(fortran, "f"), "Fortran-order");
    }

    void npzStoredAndDeflatedReadBack() {
        const std::map<std::string, std::string> members = npzMembers(numpyToy(10, 4, 2, 2));
        for (bool deflate : {false, true}) {
            const auto read = readNpzBytes(makeNpz(members, deflate), "mem");
            QCOMPARE(read.size(), size_t(2));
            QVERIFY(read.at("x") == members.at("x"));
            QVERIFY(read.at("y") == members.at("y"));
        }
        std::string cut = makeNpz(members, true);
        cut.resize(cut.size() - 30);  // the central directory is gone
        EXPECT_PROBLEM(readNpzBytes(cut, "mem"), "not a valid .npz (zip) file");
        std::string flipped = makeNpz(members, true);
        flipped[60] = char(flipped[60] ^ 0x55);  // inside the first member's deflated data
        const std::string message = inputErrorOf([&] { readNpzBytes(flipped, "mem"); });
        QVERIFY2(!message.empty(), "a damaged member was read without complaint");
        EXPECT_PROBLEM(readNpzFile(path("none.npz")), "cannot open the file");
    }

    // Files written by NumPy itself (python3-numpy): savez and savez_compressed, float64 / int16 / uint8
    // features, int64 labels, unicode class names; gruq reads exactly NumPy's values.
    void readsWhatNumpyWrites() {
        const QString script = QStringLiteral(
            "import numpy as np, sys\n"
            "d = sys.argv[1]\n"
            "x = (np.arange(4 * 3 * 2, dtype=np.float64) / 7.0 - 1.5).reshape(4, 3, 2)\n"
            "y = np.array([0, 1, 1, 0], dtype=np.int64)\n"
            "np.savez(d + '/plain.npz', x=x, y=y, class_names=np.array(['down', 'up']))\n"
            "np.savez_compressed(d + '/packed.npz', x=(x * 100).astype(np.int16), y=y.astype(np.uint8))\n"
            "np.save(d + '/x.npy', (np.arange(20 * 3 * 2) % 256).astype(np.uint8).reshape(20, 3, 2))\n"
            "np.save(d + '/y.npy', (np.arange(20) % 2).astype(np.int32))\n");
        QProcess python;
        python.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), script, dir_.path()});
        QVERIFY2(python.waitForFinished(60000) && python.exitCode() == 0, python.readAllStandardError().constData());

        const NumpySequences plain = numpySequencesFromMembers(readNpzFile(path("plain.npz")), "plain");
        QCOMPARE(plain.set.count, int64_t(4));
        QCOMPARE(plain.set.steps, int64_t(3));
        QCOMPARE(plain.set.features, int64_t(2));
        for (int i = 0; i < 24; ++i) QCOMPARE(plain.set.x[size_t(i)], float(i / 7.0 - 1.5));
        QCOMPARE(plain.set.y, (std::vector<int32_t>{0, 1, 1, 0}));
        QCOMPARE(plain.classNames, (std::vector<std::string>{"down", "up"}));

        const NumpySequences packed = numpySequencesFromMembers(readNpzFile(path("packed.npz")), "packed");
        for (int i = 0; i < 24; ++i) QCOMPARE(packed.set.x[size_t(i)], float(int16_t((i / 7.0 - 1.5) * 100)));
        QCOMPARE(packed.set.y, (std::vector<int32_t>{0, 1, 1, 0}));

        // A folder of x.npy + y.npy (uint8 features, int32 labels) is a dataset too.
        std::filesystem::create_directory(path("folder"));
        std::filesystem::rename(path("x.npy"), path("folder/x.npy"));
        std::filesystem::rename(path("y.npy"), path("folder/y.npy"));
        TaskLoadOptions folder;
        folder.path = path("folder");
        folder.normalize = false;
        const TaskData fromFolder = loadTask("npz", folder);
        QCOMPARE(fromFolder.train.count + fromFolder.validation.count + fromFolder.test.count, int64_t(20));
        std::set<float> values(fromFolder.train.x.begin(), fromFolder.train.x.end());
        for (float v : values) QVERIFY(v == std::floor(v) && v >= 0 && v <= 255);
    }

    void oneFileIsSplitStratifiedAndSeeded() {
        const NumpyToy toy = numpyToy(500, 6, 3, 5);
        writeNpz(path("toy.npz"), npzMembers(toy));
        NumpyTaskOptions o;
        o.path = path("toy.npz");
        o.seed = 3;
        const TaskData a = loadNumpyTask(o);
        QCOMPARE(a.task, std::string("npz"));
        QCOMPARE(a.numClasses(), 5);
        QCOMPARE(a.test.count, int64_t(100));        // 20% of each class of 100
        QCOMPARE(a.validation.count, int64_t(40));   // 10% of the remaining 80 per class
        QCOMPARE(a.train.count, int64_t(360));
        for (const SequenceSet* s : {&a.train, &a.validation, &a.test}) {
            for (int64_t c : classCounts(*s, 5)) QCOMPARE(c, s->count / 5);  // stratified
        }
        QCOMPARE(loadNumpyTask(o).test.x, a.test.x);  // same seed, same split
        o.seed = 4;
        QVERIFY(loadNumpyTask(o).test.x != a.test.x);
        // Training-split statistics per feature: the normalised training features have mean 0, std 1.
        QCOMPARE(a.normalization.mean.size(), size_t(3));
        for (int64_t f = 0; f < 3; ++f) {
            double sum = 0, squares = 0;
            const int64_t n = a.train.count * a.train.steps;
            for (int64_t i = 0; i < n; ++i) {
                const double v = a.train.x[size_t(i * 3 + f)];
                sum += v;
                squares += v * v;
            }
            QVERIFY(std::fabs(sum / double(n)) < 1e-4);
            QVERIFY(std::fabs(squares / double(n) - 1.0) < 1e-3);
        }
        o.normalize = false;
        const TaskData raw = loadNumpyTask(o);
        const std::set<float> original(toy.x.begin(), toy.x.end());
        QVERIFY(original.count(raw.train.x[0]) == 1);  // raw values, unchanged
    }

    void separateFilesAndClassNames() {
        auto members = npzMembers(numpyToy(30, 4, 2, 3));
        members["class_names"] = makeNpy("<U2", {3}, rawBytes(std::vector<uint32_t>{'a', 0, 'b', 0, 'c', 'c'}));
        writeNpz(path("train.npz"), members);
        writeNpz(path("validation.npz"), npzMembers(numpyToy(9, 4, 2, 3, 1)));
        writeNpz(path("test.npz"), npzMembers(numpyToy(12, 4, 2, 3, 2)), true);
        TaskLoadOptions o;
        o.path = path("train.npz");
        o.validationPath = path("validation.npz");
        o.testPath = path("test.npz");
        const TaskData d = loadTask("npz", o);
        QCOMPARE(d.train.count, int64_t(30));
        QCOMPARE(d.validation.count, int64_t(9));
        QCOMPARE(d.test.count, int64_t(12));
        QCOMPARE(d.classNames, (std::vector<std::string>{"a", "b", "cc"}));
    }

    void refusalsNameTheProblem() {
        const NumpyToy toy = numpyToy(40, 4, 2, 2);
        auto load = [&](std::map<std::string, std::string> members) {
            writeNpz(path("bad.npz"), members);
            NumpyTaskOptions o;
            o.path = path("bad.npz");
            return loadNumpyTask(o);
        };
        auto m = npzMembers(toy);
        m.erase("y");
        EXPECT_PROBLEM(load(m), "no array 'y' (found: x;");
        m = npzMembers(toy);
        m["x"] = npyFloats(toy.x, {toy.n, toy.t * toy.f});
        EXPECT_PROBLEM(load(m), "x must be [N, T, F]");
        m = npzMembers(toy);
        m["y"] = npyLabels(std::vector<int64_t>(size_t(toy.n - 1), 0));
        EXPECT_PROBLEM(load(m), "y must be [N] with N = 40");
        m = npzMembers(toy);
        m["y"] = npyLabels(std::vector<int64_t>(size_t(toy.n), 1));
        EXPECT_PROBLEM(load(m), "holds 1 class(es)");
        m = npzMembers(toy);
        std::vector<int64_t> y = toy.y;
        y[0] = 5000;
        m["y"] = npyLabels(y);
        EXPECT_PROBLEM(load(m), "label 5000 of sequence 0 is outside 0..1023");
        m = npzMembers(toy);
        m["lengths"] = makeNpy("<f4", {toy.n}, rawBytes(std::vector<float>(size_t(toy.n), 4.0f)));
        EXPECT_PROBLEM(load(m), "lengths must be [N] integers");
        m = npzMembers(toy);
        m["class_names"] = npyLabels({0, 1});
        EXPECT_PROBLEM(load(m), "class_names must be a 1-D string array");
        // Every step used: accepted, and the same data as without lengths.
        m = npzMembers(toy);
        m["lengths"] = npyLabels(std::vector<int64_t>(size_t(toy.n), 4));
        QCOMPARE(load(m).train.count, load(npzMembers(toy)).train.count);
        EXPECT_PROBLEM(loadTask("npz", TaskLoadOptions{}), "no data file given");
    }
};

QTEST_APPLESS_MAIN(TestNumpyTask)
#include "test_numpy_task.moc"
