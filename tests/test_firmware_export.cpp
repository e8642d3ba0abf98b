// The exported firmware folder, compiled as a user would: the C runtime + the generated model source
// built with the system C compiler (-std=c99 -Wall -Wextra -Werror -pedantic) reproduce the core integer
// engine's logits bit for bit on the whole test split (600 sequences) for 2-bit, 8-bit, mixed and
// per-gate genomes; the same code cross-built for 32-bit ARM Linux and run under qemu-arm gives the
// same bytes, and builds for a Cortex-M4; damaged blobs get the same error code from the C runtime as
// from the core reader; the integer input tables match the float input quantizer.
#include "gruq/export/blob.h"
#include "gruq/quant/evaluate.h"
#include "gruq/export/firmware_export.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/data/mnist_task.h"
#include "gruq/data/split.h"
#include "runtime_test_support.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>

using namespace gruq;
using test::Run, test::run, test::requireTool, test::kStrictC, test::codesFile, test::logitsBytes;


class TestFirmwareExport : public QObject {
    Q_OBJECT
    QTemporaryDir dataDir_, cacheDir_, work_;
    TaskData data_;
    FloatTrainReport float_;
    std::vector<Genome> genomes_;
    std::vector<std::string> exportDirs_;
    QString genericHarness_;

    QString path(const QString& name) const { return work_.filePath(name); }

    GenomeEvaluation evaluate(const Genome& g) { return evaluateGenome(data_, float_.weights, g, test::tinyQat()); }

    // Host build of the harness with an exported model embedded; returns its path.
    QString buildEmbedded(const QString& dir, const QString& compiler, const QStringList& extra, const QString& name) {
        const QString exe = dir + "/" + name;
        QStringList args = kStrictC + extra;
        args << "-DGRUQ_HARNESS_EMBEDDED" << "-I" + dir << GRUQ_RUNTIME_HARNESS << dir + "/gruq_runtime.c"
             << dir + "/gruq_model.c" << "-o" << exe;
        const Run r = run(compiler, args);
        if (r.exitCode != 0) qFatal("%s failed:\n%s", qPrintable(compiler), qPrintable(r.output));
        return exe;
    }

private slots:
    void initTestCase() {
        test::writeTinyMnist(dataDir_.path().toStdString(), 800, 600, true);
        MnistTaskOptions o;
        o.directory = dataDir_.path().toStdString();
        data_ = loadMnistTask(o);
        QVERIFY(data_.test.count >= 500);
        float_ = trainFloatBaseline(data_, test::tinyFloatConfig(cacheDir_.path().toStdString()));

        StableRng rng(6);
        genomes_ = {uniformGenome(homogeneousLayout(), 2), uniformGenome(homogeneousLayout(), 8),
                    parseGenomeText("x8 w_ih4 w_hh3 ih6 hh5 sum_r4 sum_z7 sig_r3 sig_z5 mul_rn6 sum_n5 tanh_n4 "
                                    "mul_zn5 mul_zh7 h6 w_fc2 fc8",
                                    defaultLayout())};
        for (int i = 0; i < 2; ++i) {
            Genome g = uniformGenome(i == 0 ? defaultLayout() : perGateLayout(), 8);
            for (int& b : g.bits) b = 2 + int(rng.below(7));
            genomes_.push_back(g);
        }
        genericHarness_ = path("harness-generic");
        const Run r = run(requireTool("cc"), kStrictC + QStringList{"-O2", "-I" GRUQ_RUNTIME_DIR, GRUQ_RUNTIME_HARNESS,
                                                                      GRUQ_RUNTIME_DIR "/gruq_runtime.c", "-o", genericHarness_});
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
    }

    void hostBuildMatchesTheEngineBitForBit() {
        const QString cc = requireTool("cc");
        for (size_t i = 0; i < genomes_.size(); ++i) {
            const GenomeEvaluation e = evaluate(genomes_[i]);
            const IntegerGruEngine engine(e.model);
            FirmwareExport what{e.model, e.genome, data_.normalization, 1.0 / 255.0,
                                {data_.task, data_.classNames, "test", e.validationAccuracy, -1}};
            const QString dir = path(QString("export-%1").arg(i));
            const ExportSummary s = exportFirmware(what, dir.toStdString());
            exportDirs_.push_back(dir.toStdString());
            QCOMPARE(s.blobBytes, int64_t(kBlobHeaderBytes) + e.size.totalBytes());
            QCOMPARE(int64_t(test::readBytes(dir.toStdString() + "/model.bin").size()), s.blobBytes);

            test::writeBytes(path("codes.bin").toStdString(), codesFile(engine, data_.test));
            const std::string expected = logitsBytes(engine.logitsOf(data_.test, 1));

            const QString exe = buildEmbedded(dir, cc, {"-O2"}, "harness");
            Run r = run(exe, {path("codes.bin"), dir + "/logits.bin"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            const std::string embedded = test::readBytes(dir.toStdString() + "/logits.bin");
            QCOMPARE(embedded.size(), expected.size());
            QVERIFY2(embedded == expected, qPrintable(QString::fromStdString(e.genome.toText()) + ": logits differ"));

            r = run(genericHarness_, {dir + "/model.bin", path("codes.bin"), dir + "/logits-file.bin"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            QVERIFY(test::readBytes(dir.toStdString() + "/logits-file.bin") == expected);
            qInfo("%s: %lld test sequences, logits identical (integer accuracy %.3f, blob %lld bytes)",
                  e.genome.toText().c_str(), static_cast<long long>(data_.test.count), engine.accuracy(data_.test, 1),
                  static_cast<long long>(s.blobBytes));
        }
    }

    void armLinuxUnderQemuMatchesTheHost() {
        QVERIFY(!exportDirs_.empty());
        const QString cross = requireTool("arm-linux-gnueabihf-gcc"), qemu = requireTool("qemu-arm");
        for (size_t i : {size_t(0), size_t(2), size_t(4)}) {  // 2-bit, mixed, per-gate
            const QString dir = QString::fromStdString(exportDirs_[i]);
            const QString exe = buildEmbedded(dir, cross, {"-O2", "-static"}, "harness-arm");
            const BlobContents blob = readBlobFile(exportDirs_[i] + "/model.bin");
            const IntegerGruEngine engine(blob.model);
            test::writeBytes(path("codes-arm.bin").toStdString(), codesFile(engine, data_.test));
            const Run arm = run(qemu, {exe, path("codes-arm.bin"), dir + "/logits-arm.bin"});
            QVERIFY2(arm.exitCode == 0, qPrintable(arm.output));
            QVERIFY(test::readBytes(exportDirs_[i] + "/logits-arm.bin") == logitsBytes(engine.logitsOf(data_.test, 1)));
            qInfo("ARM (qemu-arm) logits identical for %s", blob.genome.toText().c_str());
        }
    }

    void buildsForCortexM4() {
        QVERIFY(!exportDirs_.empty());
        const QString gcc = requireTool("arm-none-eabi-gcc"), size = requireTool("arm-none-eabi-size");
        const QString dir = QString::fromStdString(exportDirs_[2]);
        QStringList args = kStrictC + QStringList{"-mcpu=cortex-m4", "-mthumb", "-Os", "-c", "-I" + dir};
        Run r = run(gcc, args + QStringList{dir + "/gruq_runtime.c", "-o", dir + "/gruq_runtime.o"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        r = run(gcc, args + QStringList{dir + "/gruq_model.c", "-o", dir + "/gruq_model.o"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        r = run(size, {dir + "/gruq_runtime.o", dir + "/gruq_model.o"});
        QCOMPARE(r.exitCode, 0);
        qInfo("Cortex-M4 -Os (text data bss):\n%s", qPrintable(r.output));
        // The figures every export README quotes must still be true.
        const QStringList runtimeRow = r.output.split('\n')[1].simplified().split(' ');
        const double text = runtimeRow[0].toDouble();
        QVERIFY2(std::abs(text - double(kRuntimeCodeBytesCortexM4)) <= 0.15 * double(kRuntimeCodeBytesCortexM4),
                 qPrintable(QString("runtime text is %1 bytes; update kRuntimeCodeBytesCortexM4").arg(text)));
        test::writeBytes(path("structs.c").toStdString(),
                         "#include \"gruq_runtime.h\"\nchar structs_ok[sizeof(gruq_model) + sizeof(gruq_state) == " +
                             std::to_string(kRuntimeStructBytes32) + " ? 1 : -1];\n");
        r = run(gcc, {"-mcpu=cortex-m4", "-mthumb", "-c", "-I" + dir, path("structs.c"), "-o", path("structs.o")});
        QVERIFY2(r.exitCode == 0, "gruq_model + gruq_state size changed: update kRuntimeStructBytes32");
    }

    void damagedBlobsGetTheSameCodeFromRuntimeAndCore() {
        QVERIFY(!exportDirs_.empty());
        const std::string good = test::readBytes(exportDirs_[2] + "/model.bin");
        auto reseal = [](std::string& b) {
            const uint32_t crc = crc32Of(reinterpret_cast<const uint8_t*>(b.data()) + 16, b.size() - 16);
            for (int i = 0; i < 4; ++i) b[12 + size_t(i)] = char(crc >> (8 * i));
        };
        std::vector<std::pair<const char*, std::string>> cases;
        cases.push_back({"truncated", good.substr(0, good.size() - 1)});
        cases.push_back({"header only", good.substr(0, 100)});
        std::string flipped = good;
        flipped[good.size() / 2] ^= 0x10;
        cases.push_back({"bit flip", flipped});
        std::string version = good;
        version[4] = 2;
        cases.push_back({"version 2", version});
        std::string hidden = good;
        hidden[18] = char(hidden[18] + 1);
        reseal(hidden);
        cases.push_back({"H + 1", hidden});
        cases.push_back({"not a blob", std::string("this is a text file, not a firmware blob at all\n")});
        std::string magic = good;
        magic[0] = 'X';
        cases.push_back({"magic", magic});
        std::string zero = good;
        zero[88] = char(0xff);
        zero[89] = char(0x7f);
        reseal(zero);
        cases.push_back({"zero point", zero});
        for (const auto& [name, bytes] : cases) {
            int coreCode = 0;
            try {
                readBlob(std::vector<uint8_t>(bytes.begin(), bytes.end()), name);
            } catch (const BlobError& e) {
                coreCode = int(e.code());
            }
            QVERIFY2(coreCode < 0, name);
            test::writeBytes(path("damaged.bin").toStdString(), bytes);
            const Run r = run(genericHarness_, {"--check", path("damaged.bin")});
            QCOMPARE(r.exitCode, 2);
            QVERIFY2(r.output.trimmed().split('\n').first().trimmed() == QString::number(coreCode),
                     qPrintable(QString("%1: runtime says %2, core %3").arg(name, r.output).arg(coreCode)));
        }
        QCOMPARE(run(genericHarness_, {"--check", QString::fromStdString(exportDirs_[2] + "/model.bin")}).exitCode, 0);
    }

    void integerInputTablesMatchTheFloatQuantizer() {
        const GenomeEvaluation e = evaluate(genomes_[1]);
        const IntegerGruEngine engine(e.model);
        const InputQuantizer iq = inputQuantizerFor(e.model, data_.normalization, 1.0 / 255.0);
        const SequenceSet& set = data_.test;
        std::vector<int16_t> raw(size_t(set.features));
        std::vector<uint8_t> fromFloat(size_t(set.features)), fromInt(size_t(set.features));
        int64_t same = 0, total = 0;
        for (int64_t i = 0; i < set.count; ++i) {
            for (int64_t t = 0; t < set.steps; ++t) {
                const float* x = set.sequence(i) + t * set.features;
                for (int64_t f = 0; f < set.features; ++f) {
                    const double pixel = (x[f] * data_.normalization.stdDevOf(f) + data_.normalization.meanOf(f)) * 255.0;
                    raw[size_t(f)] = int16_t(std::lround(pixel));
                }
                engine.quantizeInput(x, set.features, fromFloat.data());
                iq.quantize(e.model.quant(QuantPoint::X), raw.data(), fromInt.data());
                for (int64_t f = 0; f < set.features; ++f) {
                    QVERIFY(std::abs(int(fromFloat[size_t(f)]) - int(fromInt[size_t(f)])) <= 1);
                    same += fromFloat[size_t(f)] == fromInt[size_t(f)];
                    ++total;
                }
            }
        }
        qInfo("integer input tables: %lld of %lld codes identical to the float quantizer", static_cast<long long>(same),
              static_cast<long long>(total));
        QVERIFY(double(same) / double(total) >= 0.999);
    }
};

QTEST_GUILESS_MAIN(TestFirmwareExport)
#include "test_firmware_export.moc"
