// IDX reader on files the test writes: good raw and gz, truncated, wrong magic, bad dims.
#include "gruq/base/errors.h"
#include "gruq/data/idx_reader.h"

#include "test_support.h"

#include <QtTest>

#include <fstream>

using namespace gruq;

namespace {

IdxArray sampleImages() {
    IdxArray a;
    a.dims = {3, 4, 5};
    for (int i = 0; i < 60; ++i) a.data.push_back(static_cast<uint8_t>(i * 4));
    return a;
}

using test::readBytes;
using test::writeBytes;

// Runs fn, expects an InputError whose message names `path` and contains `fragment`.
template <typename Fn>
void expectInputError(Fn fn, const std::string& path, const std::string& fragment) {
    try {
        fn();
        QFAIL(("no error for " + path).c_str());
    } catch (const InputError& e) {
        const std::string what = e.what();
        QVERIFY2(what.find(path) != std::string::npos, what.c_str());
        QVERIFY2(what.find(fragment) != std::string::npos, what.c_str());
    }
}

}  // namespace

class TestIdxReader : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string path(const char* name) { return (dir_.path() + "/" + name).toStdString(); }

private slots:
    void rawRoundTrip() {
        const IdxArray a = sampleImages();
        writeIdxFile(path("raw-idx3-ubyte"), a, false);
        const std::string bytes = readBytes(path("raw-idx3-ubyte"));
        QCOMPARE(bytes.size(), size_t(4 + 3 * 4 + 60));
        QCOMPARE(int(bytes[2]), 8);
        QCOMPARE(int(bytes[3]), 3);
        const IdxArray b = readIdxFile(path("raw-idx3-ubyte"));
        QCOMPARE(b.dims, a.dims);
        QCOMPARE(b.data, a.data);
    }

    void gzipRoundTrip() {
        const IdxArray a = sampleImages();
        writeIdxFile(path("img.gz"), a, true);
        const std::string bytes = readBytes(path("img.gz"));
        QCOMPARE(uint8_t(bytes[0]), uint8_t(0x1f));  // really gzip on disk
        QCOMPARE(uint8_t(bytes[1]), uint8_t(0x8b));
        const IdxArray b = readIdxFile(path("img.gz"));
        QCOMPARE(b.dims, a.dims);
        QCOMPARE(b.data, a.data);
    }

    void labelsFile() {
        IdxArray labels;
        labels.dims = {4};
        labels.data = {1, 2, 3, 9};
        writeIdxFile(path("labels"), labels, false);
        QCOMPARE(readIdxFile(path("labels")).data, labels.data);
    }

    void truncatedRawFile() {
        writeIdxFile(path("t"), sampleImages(), false);
        std::string bytes = readBytes(path("t"));
        writeBytes(path("t"), bytes.substr(0, bytes.size() - 7));
        expectInputError([&] { readIdxFile(path("t")); }, path("t"), "truncated");
    }

    void truncatedHeader() {
        writeBytes(path("h"), std::string("\0\0\x08\x03\0\0", 6));
        expectInputError([&] { readIdxFile(path("h")); }, path("h"), "truncated IDX header");
    }

    void truncatedGzipFile() {
        IdxArray big;
        big.dims = {100, 28, 28};
        for (int i = 0; i < 100 * 28 * 28; ++i) big.data.push_back(static_cast<uint8_t>((i * 7919) % 251));
        writeIdxFile(path("tg.gz"), big, true);
        const std::string bytes = readBytes(path("tg.gz"));
        writeBytes(path("tg.gz"), bytes.substr(0, bytes.size() / 2));
        expectInputError([&] { readIdxFile(path("tg.gz")); }, path("tg.gz"), "truncated");
    }

    void wrongMagic() {
        writeBytes(path("m"), std::string("\x12\x34\x08\x01\0\0\0\x01\x05", 9));
        expectInputError([&] { readIdxFile(path("m")); }, path("m"), "magic");
    }

    void unsupportedType() {
        writeBytes(path("f"), std::string("\0\0\x0d\x01\0\0\0\x01\0\0\0\0", 12));
        expectInputError([&] { readIdxFile(path("f")); }, path("f"), "data type");
    }

    void zeroDimension() {
        writeBytes(path("z"), std::string("\0\0\x08\x01\0\0\0\0", 8));
        expectInputError([&] { readIdxFile(path("z")); }, path("z"), "zero");
    }

    void hugeDimensionsAreRefusedNotAllocated() {
        writeBytes(path("huge"), std::string("\0\0\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16));
        expectInputError([&] { readIdxFile(path("huge")); }, path("huge"), "too large");
    }

    void trailingGarbage() {
        writeIdxFile(path("g"), sampleImages(), false);
        writeBytes(path("g"), readBytes(path("g")) + "xyz");
        expectInputError([&] { readIdxFile(path("g")); }, path("g"), "trailing");
    }

    void missingFileAndDirectory() {
        expectInputError([&] { readIdxFile(path("nope")); }, path("nope"), "not found");
        expectInputError([&] { readIdxFile(dir_.path().toStdString()); }, dir_.path().toStdString(), "directory");
    }

    void emptyFile() {
        writeBytes(path("empty"), "");
        expectInputError([&] { readIdxFile(path("empty")); }, path("empty"), "too short");
    }
};

QTEST_APPLESS_MAIN(TestIdxReader)
#include "test_idx_reader.moc"
