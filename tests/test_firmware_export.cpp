// The exported firmware folder, compiled as a user would: the C runtime + the generated model source
// built with the system C compiler (-std=c99 -Wall -Wextra -Werror -pedantic) reproduce the core integer
// engine's logits bit for bit on the whole test split (600 sequences) for 2-bit, 8-bit, mixed and
// per-gate genomes; the same code cross-built for 32-bit ARM Linux and run under qemu-arm gives the
// same bytes, and builds for a Cortex-M4; stacked GRUs (2 and 3 layers, mixed genomes, 600 sequences
// each, and a 2-layer H = 256 model) match the engine bit for bit on the host and under qemu-arm; every
// documented blob rule broken once (the layer count and layer section too) gets the documented error
// code from the C runtime and from the core reader; the integer input tables match the float input quantizer.
#include "gruq/export/blob.h"
#include "gruq/quant/evaluate.h"
#include "gruq/export/firmware_export.h"
#include "gruq/export/latency_model.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/quant/size_metric.h"
#include "gruq/data/mnist_task.h"
#include "gruq/data/split.h"
#include "model_test_support.h"
#include "runtime_test_support.h"
#include "test_support.h"

#include <QtTest>

#include <cmath>
#include <functional>
#include <iterator>
#include <map>
#include <set>

using namespace gruq;
using test::Run, test::run, test::requireTool, test::kStrictC, test::codesFile, test::logitsBytes;

namespace {

// A random float GRU of L layers (model_test_support.h) with input weights 1.5x wider, so that more
// projections saturate their quantizers.
FloatGruWeights stackedWeights(int64_t F, int64_t H, int64_t C, int64_t L, uint64_t seed) {
    FloatGruWeights w = test::randomWeights(F, H, C, seed, L);
    for (FloatGruLayer& layer : w.layers) {
        for (float& v : layer.wIh) v *= 1.5f;
    }
    return w;
}

// Calibration-like ranges: gates' pre-activations a few units wide, h and products within [-1, 1].
LayerRanges plausibleRanges(int64_t layers, StableRng& rng) {
    LayerRanges all(static_cast<size_t>(layers));
    for (auto& r : all) {
        for (int p = 0; p < kQuantPointCount; ++p) {
            const bool unit = QuantPoint(p) == QuantPoint::H || QuantPoint(p) == QuantPoint::MulZN ||
                              QuantPoint(p) == QuantPoint::MulZH || QuantPoint(p) == QuantPoint::MulRN;
            const double reach = unit ? 1.0 : rng.uniform(1.0, 4.0);
            r[size_t(p)] = {-reach * rng.uniform(0.6, 1.0), reach * rng.uniform(0.6, 1.0)};
        }
    }
    return all;
}

}  // namespace


class TestFirmwareExport : public QObject {
    Q_OBJECT
    QTemporaryDir dataDir_, cacheDir_, work_;
    TaskData data_;
    FloatTrainReport float_;
    std::vector<Genome> genomes_;
    std::vector<std::string> exportDirs_;
    std::vector<std::string> stackedDirs_;  // L = 2, L = 3, L = 2 with H = 256
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
        const Run r = test::buildGenericHarness(GRUQ_RUNTIME_HARNESS, GRUQ_RUNTIME_DIR, genericHarness_);
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
            // header + the size objective + the normalisation section (float32 mean and std per feature)
            QCOMPARE(s.blobBytes, int64_t(kBlobHeaderBytes) + e.size.totalBytes() + 8 * e.model.shape.inputSize);
            QCOMPARE(int64_t(test::readBytes(dir.toStdString() + "/model.bin").size()), s.blobBytes);
            // model.json gives the latency model's instructions per step of this very model.
            const std::string json = test::readBytes(dir.toStdString() + "/model.json");
            const double predicted = LatencyModel::cortexM4().estimate(e.model.shape, e.model.bits()).instructionsPerStep;
            QVERIFY2(json.find("\"layers\": 1") != std::string::npos, json.c_str());
            QVERIFY2(json.find("\"format\": \"gruq firmware blob v2\"") != std::string::npos, json.c_str());  // one layer: v2
            QVERIFY2(json.find("\"cortex_m4_instructions_per_step\": " + std::to_string(predicted).substr(0, 5)) != std::string::npos,
                     json.c_str());

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

    // Stacked GRUs from random float weights and calibration-like ranges (no training: the arithmetic is
    // what is tested), mixed genomes of the stacked layouts, random input sequences: the exported folder's C
    // runtime equals IntegerGruEngine bit for bit on the host (the model embedded, and model.bin read at run
    // time) and cross-built for 32-bit ARM Linux under qemu-arm; the export's RAM figure and model.json
    // follow the layer count.
    void stackedModelsMatchTheEngineOnHostAndQemuArm() {
        struct Case {
            int64_t F, H, C, L;
            const GenomeLayout* base;
            int64_t count, steps;
        };
        const Case cases[] = {{13, 32, 5, 2, &defaultLayout(), 600, 12},
                              {7, 24, 4, 3, &perGateLayout(), 600, 10},
                              {16, 256, 6, 2, &defaultLayout(), 24, 5}};  // the widest hidden size gruq trains
        const QString cc = requireTool("cc"), cross = requireTool("arm-linux-gnueabihf-gcc"), qemu = requireTool("qemu-arm");
        for (size_t i = 0; i < std::size(cases); ++i) {
            const Case& c = cases[i];
            StableRng rng(40 + i);
            Genome g = uniformGenome(stackedLayout(*c.base, int(c.L)), 8);
            for (int& b : g.bits) b = 2 + int(rng.below(7));
            g.bits.back() = 8;  // fc, the logits: fine enough for the comparison to see most differences
            const QuantizedGru model = buildQuantizedGru(stackedWeights(c.F, c.H, c.C, c.L, 50 + i), g.resolve(),
                                                         plausibleRanges(c.L, rng));
            const IntegerGruEngine engine(model);
            SequenceSet set;
            set.count = c.count;
            set.steps = c.steps;
            set.features = c.F;
            for (int64_t k = 0; k < c.count * c.steps * c.F; ++k) set.x.push_back(float(rng.normal()));
            set.y.assign(size_t(c.count), 0);

            const FirmwareExport what{model, g, Normalization{}, 1.0 / 64.0, {"stacked-test", {}, "test", -1, -1}};
            const QString dir = path(QString("stacked-%1").arg(i));
            const ExportSummary s = exportFirmware(what, dir.toStdString());
            stackedDirs_.push_back(dir.toStdString());
            QCOMPARE(s.workspaceBytes, (c.L + 6) * c.H + 2 * (std::max(c.F, c.H) + 16));
            QCOMPARE(s.blobBytes, blobBytes(model.shape, model.bits(), true));
            const std::string json = test::readBytes(dir.toStdString() + "/model.json");
            QVERIFY2(json.find("\"layers\": " + std::to_string(c.L)) != std::string::npos, json.c_str());
            QVERIFY2(json.find("\"format\": \"gruq firmware blob v3\"") != std::string::npos, json.c_str());
            const std::string readme = test::readBytes(dir.toStdString() + "/README.md");
            QVERIFY2(readme.find("(L + 6) H + 2 max(F, H) + 32 bytes, L = " + std::to_string(c.L) + " layers) | " +
                                 std::to_string(s.workspaceBytes)) != std::string::npos,
                     readme.c_str());
            QVERIFY(test::readBytes(dir.toStdString() + "/gruq_model.h").find("#define GRUQ_MODEL_LAYERS " + std::to_string(c.L)) !=
                    std::string::npos);

            test::writeBytes(path("codes-stacked.bin").toStdString(), codesFile(engine, set));
            const std::vector<int32_t> logits = engine.logitsOf(set, 1);
            const std::string expected = logitsBytes(logits);
            const QString host = buildEmbedded(dir, cc, {"-O2"}, "harness");
            Run r = run(host, {path("codes-stacked.bin"), dir + "/logits.bin"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            QVERIFY2(test::readBytes(dir.toStdString() + "/logits.bin") == expected,
                     qPrintable(QString::fromStdString(g.toText()) + ": host logits differ"));
            r = run(genericHarness_, {dir + "/model.bin", path("codes-stacked.bin"), dir + "/logits-file.bin"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            QVERIFY(test::readBytes(dir.toStdString() + "/logits-file.bin") == expected);
            const QString arm = buildEmbedded(dir, cross, {"-O2", "-static"}, "harness-arm");
            r = run(qemu, {arm, path("codes-stacked.bin"), dir + "/logits-arm.bin"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            QVERIFY2(test::readBytes(dir.toStdString() + "/logits-arm.bin") == expected,
                     qPrintable(QString::fromStdString(g.toText()) + ": qemu-arm logits differ"));
            // The comparison has teeth: the sequences do not all end in one logit vector.
            std::set<std::vector<int32_t>> distinct;
            for (int64_t k = 0; k < c.count; ++k) {
                distinct.insert(std::vector<int32_t>(logits.begin() + k * c.C, logits.begin() + (k + 1) * c.C));
            }
            QVERIFY2(distinct.size() >= std::min<size_t>(size_t(c.count) / 4, 100), qPrintable(QString::number(distinct.size())));
            qInfo("%s (%s): %lld sequences x %lld steps, logits identical on the host and under qemu-arm (%zu distinct "
                  "logit vectors, blob %lld bytes, workspace %lld bytes)",
                  model.shape.key().c_str(), g.toText().c_str(), static_cast<long long>(c.count),
                  static_cast<long long>(c.steps), distinct.size(), static_cast<long long>(s.blobBytes),
                  static_cast<long long>(s.workspaceBytes));
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

        // The one-layer build (-DGRUQ_MAX_LAYERS=1) the README offers: smaller, and its figures true too.
        const QStringList one = args + QStringList{"-DGRUQ_MAX_LAYERS=1"};
        r = run(gcc, one + QStringList{dir + "/gruq_runtime.c", "-o", path("gruq_runtime_one.o")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        r = run(size, {path("gruq_runtime_one.o")});
        const double textOne = r.output.split('\n')[1].simplified().split(' ')[0].toDouble();
        QVERIFY2(std::abs(textOne - double(kRuntimeCodeBytesCortexM4OneLayer)) <= 0.15 * double(kRuntimeCodeBytesCortexM4OneLayer),
                 qPrintable(QString("one-layer runtime text is %1 bytes; update kRuntimeCodeBytesCortexM4OneLayer").arg(textOne)));
        QVERIFY(textOne < text);
        test::writeBytes(path("structs_one.c").toStdString(),
                         "#include \"gruq_runtime.h\"\nchar structs_ok[sizeof(gruq_model) + sizeof(gruq_state) == " +
                             std::to_string(kRuntimeStructBytes32OneLayer) + " ? 1 : -1];\n");
        r = run(gcc, {"-mcpu=cortex-m4", "-mthumb", "-DGRUQ_MAX_LAYERS=1", "-c", "-I" + dir, path("structs_one.c"), "-o",
                      path("structs_one.o")});
        QVERIFY2(r.exitCode == 0, "one-layer gruq_model + gruq_state size changed: update kRuntimeStructBytes32OneLayer");
        const std::string readme = test::readBytes(exportDirs_[2] + "/README.md");
        QVERIFY(readme.find("-DGRUQ_MAX_LAYERS=1") != std::string::npos);
        QVERIFY(test::readBytes(stackedDirs_[0] + "/README.md").find("-DGRUQ_MAX_LAYERS=1") == std::string::npos);
        // 0 and 4 are refused at compile time with a message.
        r = run(gcc, args + QStringList{"-DGRUQ_MAX_LAYERS=4", dir + "/gruq_runtime.c", "-o", path("gruq_runtime_four.o")});
        QVERIFY(r.exitCode != 0 && r.output.contains("GRUQ_MAX_LAYERS must be 1, 2 or 3"));
    }

    // A runtime built with -DGRUQ_MAX_LAYERS=1 gives a one-layer model's logits bit for bit and refuses a
    // stacked blob with GRUQ_ERR_LAYERS; with 2, a 2-layer model runs and a 3-layer one is refused.
    void runtimeBuiltForFewerLayers() {
        QVERIFY(exportDirs_.size() >= 3 && stackedDirs_.size() >= 2);
        for (int maxLayers : {1, 2}) {
            const QString harness = path(QString("harness-max%1").arg(maxLayers));
            const Run built = test::buildGenericHarness(GRUQ_RUNTIME_HARNESS, GRUQ_RUNTIME_DIR, harness,
                                                        {QString("-DGRUQ_MAX_LAYERS=%1").arg(maxLayers)});
            QVERIFY2(built.exitCode == 0, qPrintable(built.output));
            // exportDirs_[2]: one layer, mixed bits; stackedDirs_[0]: 2 layers; stackedDirs_[1]: 3 layers.
            for (const std::string& folder : {exportDirs_[2], stackedDirs_[0], stackedDirs_[1]}) {
                const std::string blobBytes = test::readBytes(folder + "/model.bin");
                const BlobContents blob = readBlob(std::vector<uint8_t>(blobBytes.begin(), blobBytes.end()), folder);
                const int64_t layers = blob.model.shape.numLayers;
                const QString model = QString::fromStdString(folder + "/model.bin");
                if (layers > maxLayers) {
                    const Run r = run(harness, {"--check", model});
                    QCOMPARE(r.exitCode, 2);
                    QCOMPARE(r.output.trimmed(), QString::number(int(BlobError::Code::BadLayerCount)));  // GRUQ_ERR_LAYERS
                    continue;
                }
                const IntegerGruEngine engine(blob.model);
                StableRng rng(70 + uint64_t(layers));
                SequenceSet set;  // 60 random sequences of 9 steps
                set.count = 60;
                set.steps = 9;
                set.features = blob.model.shape.inputSize;
                for (int64_t k = 0; k < set.count * set.steps * set.features; ++k) set.x.push_back(float(rng.normal()));
                set.y.assign(size_t(set.count), 0);
                test::writeBytes(path("codes-max.bin").toStdString(), codesFile(engine, set));
                const Run r = run(harness, {model, path("codes-max.bin"), path("logits-max.bin")});
                QVERIFY2(r.exitCode == 0, qPrintable(r.output));
                QVERIFY2(test::readBytes(path("logits-max.bin").toStdString()) == logitsBytes(engine.logitsOf(set, 1)),
                         qPrintable(QString("GRUQ_MAX_LAYERS=%1, %2 layers: logits differ").arg(maxLayers).arg(layers)));
            }
        }
        // Files built with different settings disagree on sizeof(gruq_model): the program must not link.
        const QString cc = requireTool("cc");
        Run r = run(cc, kStrictC + QStringList{"-c", QString(GRUQ_RUNTIME_DIR) + "/gruq_runtime.c", "-o", path("runtime-max3.o")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        r = run(cc, kStrictC + QStringList{"-DGRUQ_MAX_LAYERS=1", "-I" + QString(GRUQ_RUNTIME_DIR), GRUQ_RUNTIME_HARNESS,
                                           path("runtime-max3.o"), "-o", path("harness-mismatch")});
        QVERIFY2(r.exitCode != 0 && r.output.contains("gruq_model_init_max1_layer"), qPrintable(r.output));
    }

    // The word-at-a-time dot products equal the field-by-field reference for every width, alignment and row
    // length (tests/runtime/kernel_test.c) on the host (portable lanes), on 32-bit ARM Linux under qemu-arm
    // and on the emulated Cortex-M4 (the DSP instructions).
    void packedKernelsEqualTheReferenceOnEveryTarget() {
        const QString source = QString(GRUQ_RUNTIME_HARNESS).replace("harness.c", "kernel_test.c");
        const QString m4 = QString(GRUQ_SOURCE_DIR) + "/bench/cortex_m4";
        const QStringList common = kStrictC + QStringList{"-O2", "-I" + QString(GRUQ_RUNTIME_DIR), source};
        const Run host = run(requireTool("cc"), common + QStringList{"-o", path("kernels-host")});
        QVERIFY2(host.exitCode == 0, qPrintable(host.output));
        const Run arm = run(requireTool("arm-linux-gnueabihf-gcc"), common + QStringList{"-static", "-o", path("kernels-arm")});
        QVERIFY2(arm.exitCode == 0, qPrintable(arm.output));
        const Run cortexM4 = run(requireTool("arm-none-eabi-gcc"),
                                 QStringList{"-std=c99", "-O2", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                                             "-mfpu=fpv4-sp-d16", "--specs=rdimon.specs", "-T", m4 + "/mps2_an386.ld",
                                             "-I" + QString(GRUQ_RUNTIME_DIR), m4 + "/startup.c", source, "-o",
                                             path("kernels-m4.elf")});
        QVERIFY2(cortexM4.exitCode == 0, qPrintable(cortexM4.output));
        const QList<Run> runs = {run(path("kernels-host"), {}), run(requireTool("qemu-arm"), {path("kernels-arm")}),
                                 run(requireTool("qemu-system-arm"),
                                     {"-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "none",
                                      "-semihosting-config", "enable=on,target=native", "-kernel", path("kernels-m4.elf")})};
        for (const Run& r : runs) {
            QVERIFY2(r.exitCode == 0 && r.output.contains("rows, all equal"), qPrintable(r.output));
            qInfo("%s", qPrintable(r.output.trimmed()));
        }
    }

    // The exported folder on the emulated Cortex-M4 (scripts/m4_latency.sh): its logits equal the host
    // build's, and the instruction count per step is reported.
    void cortexM4UnderQemuMatchesTheHost() {
        QVERIFY(!exportDirs_.empty() && !stackedDirs_.empty());
        for (const std::string& folder : {exportDirs_[0], exportDirs_[2], stackedDirs_[0]}) {  // 2-bit, mixed, 2 layers
            const Run r = run(requireTool("bash"), {QString(GRUQ_SOURCE_DIR) + "/scripts/m4_latency.sh", "--sequences",
                                                    "4", QString::fromStdString(folder)});
            QVERIFY2(r.exitCode == 0, qPrintable(r.output));
            QVERIFY2(r.output.contains("the Cortex-M4's logits equal the host build's"), qPrintable(r.output));
            const QRegularExpressionMatch m = QRegularExpression("instructions_per_step=([0-9.]+)").match(r.output);
            QVERIFY2(m.hasMatch() && m.captured(1).toDouble() > 0, qPrintable(r.output));
            // The latency model the search uses predicts it (a shape it was not calibrated on).
            const BlobContents blob = readBlobFile(folder + "/model.bin");
            const double predicted = LatencyModel::cortexM4().estimate(blob.model.shape, blob.model.bits()).instructionsPerStep;
            const double measured = m.captured(1).toDouble();
            QVERIFY2(std::abs(predicted - measured) <= 0.10 * measured,
                     qPrintable(QString("latency model %1, emulator %2").arg(predicted).arg(measured)));
            qInfo("%s; latency model %.0f (%+.1f%%)", qPrintable(r.output.section('\n', 1, 1)), predicted,
                  100 * (predicted - measured) / measured);
        }
    }

    // The compiled-in latency model reproduces the emulator measurements it was fitted to
    // (resources/latency/cortex-m4-measurements.csv: every width 2..8 on five shapes).
    void latencyModelReproducesItsCalibration() {
        QFile csv(QString(GRUQ_SOURCE_DIR) + "/resources/latency/cortex-m4-measurements.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList header = QString(csv.readLine()).trimmed().split(',');
        std::map<std::string, bool> seen;
        double worst = 0;
        int steps = 0;
        while (!csv.atEnd()) {
            const QStringList f = QString(csv.readLine()).trimmed().split(',');
            const auto at = [&](const char* name) { return f[header.indexOf(name)]; };
            const std::string key = (at("features") + "-" + at("hidden") + "-" + at("classes") + "-" + at("bits")).toStdString();
            if (seen.count(key)) continue;  // one step per shape and width
            seen[key] = true;
            const GruShape shape{at("features").toLongLong(), at("hidden").toLongLong(), at("classes").toLongLong(), 1};
            const LayerBits bits = uniformGenome(homogeneousLayout(), at("bits").toInt()).resolve();
            const double measured = at("step_instructions").toDouble();
            const double predicted = LatencyModel::cortexM4().estimate(shape, bits).instructionsPerStep;
            worst = std::max(worst, std::abs(predicted - measured) / measured);
            ++steps;
        }
        QCOMPARE(steps, 35);
        QVERIFY2(worst <= 0.07, qPrintable(QString("worst error %1").arg(worst)));
        qInfo("latency model against its %d calibration steps: worst error %.1f%%", steps, 100 * worst);
    }

    // Every rule of docs/blob-format.md broken once (CRC resealed where the rule is behind it): the core
    // reader and the C runtime give the code the document's validation table names.
    void everyDocumentedRuleGetsItsCodeFromRuntimeAndCore() {
        QVERIFY(!exportDirs_.empty());
        using C = BlobError::Code;
        const std::string good = test::readBytes(exportDirs_[2] + "/model.bin");
        const BlobContents contents = readBlob(std::vector<uint8_t>(good.begin(), good.end()), "good");
        QVERIFY(contents.normalization.has_value());  // exports write the normalisation section
        const QuantizedGru& m = contents.model;
        const int64_t F = m.shape.inputSize, H = m.shape.hiddenSize, Cn = m.shape.numClasses;
        const ModelSize size = modelSize(m.shape, m.bits());
        const size_t payloadEnd = kBlobHeaderBytes + size_t(size.totalBytes());
        const size_t stream = kBlobHeaderBytes + 4 * size_t(6 * H + Cn);
        const int bit = [&](QuantPoint p) { return m.layers[0].bits[pointIndex(p)]; }(QuantPoint::TanhN);
        auto b = [&](QuantPoint p) { return m.layers[0].bits[pointIndex(p)]; };
        const int64_t tanhLutBit =
            size.weightBits + (int64_t(1) << b(QuantPoint::SumR)) * b(QuantPoint::SigR) + (int64_t(1) << b(QuantPoint::SumZ)) * b(QuantPoint::SigZ);

        auto reseal = [](std::string& x) {
            const uint32_t crc = crc32Of(reinterpret_cast<const uint8_t*>(x.data()) + 16, x.size() - 16);
            for (int i = 0; i < 4; ++i) x[12 + size_t(i)] = char(crc >> (8 * i));
        };
        auto put = [](std::string& x, size_t at, uint64_t v, int bytes) {
            for (int i = 0; i < bytes; ++i) x[at + size_t(i)] = char(uint8_t(v >> (8 * i)));
        };
        auto putBits = [](std::string& x, size_t startByte, int64_t bitPos, uint32_t v, int width) {
            for (int i = 0; i < width; ++i, ++bitPos) {
                char& c = x[startByte + size_t(bitPos / 8)];
                c = char(((v >> i) & 1u) ? (uint8_t(c) | (1u << (bitPos % 8))) : (uint8_t(c) & ~(1u << (bitPos % 8))));
            }
        };
        struct Case {
            std::string name, bytes;
            int code;  // 0 = accepted
        };
        std::vector<Case> cases;
        // A header edit with the CRC resealed (the rule behind the CRC is what is tested).
        auto edited = [&](const char* name, C code, const std::function<void(std::string&)>& edit) {
            std::string x = good;
            edit(x);
            reseal(x);
            cases.push_back({name, x, int(code)});
        };
        cases.push_back({"shorter than 16 bytes", good.substr(0, 12), int(C::Truncated)});
        cases.push_back({"not a blob", "this is a text file, not a firmware blob at all\n", int(C::BadMagic)});
        edited("version 4", C::UnsupportedVersion, [&](std::string& x) { put(x, 4, 4, 2); });
        edited("version 0", C::UnsupportedVersion, [&](std::string& x) { put(x, 4, 0, 2); });
        edited("header bytes 641", C::BadHeader, [&](std::string& x) { put(x, 6, 641, 2); });
        cases.push_back({"truncated", good.substr(0, good.size() - 1), int(C::Truncated)});
        cases.push_back({"one byte more than declared", good + std::string(1, '\0'), int(C::SizeMismatch)});
        edited("blob bytes below 640", C::SizeMismatch, [&](std::string& x) { put(x, 8, 600, 4); x.resize(600); });
        {
            std::string flipped = good;
            flipped[good.size() / 2] ^= 0x10;
            cases.push_back({"bit flip", flipped, int(C::BadChecksum)});
        }
        edited("F = 0", C::BadShape, [&](std::string& x) { put(x, 16, 0, 2); });
        edited("C = 1025", C::BadShape, [&](std::string& x) { put(x, 20, 1025, 2); });
        edited("F + H > 2048", C::BadShape, [&](std::string& x) { put(x, 16, 2048, 2); });
        edited("layout 3", C::BadBits, [&](std::string& x) { x[22] = 3; });
        edited("gene count 16", C::BadBits, [&](std::string& x) { x[23] = 16; });
        edited("a gene at 9 bits", C::BadBits, [&](std::string& x) { x[24] = 9; });
        edited("a byte after the last gene", C::BadBits, [&](std::string& x) { x[24 + 17] = 4; });
        edited("a point at 1 bit", C::BadBits, [&](std::string& x) { x[56 + 5] = 1; });
        edited("point byte 25 not zero", C::BadBits, [&](std::string& x) { x[56 + 25] = 2; });
        edited("a point width that is not its gene's", C::BadBits, [&](std::string& x) { x[56 + 2] = char(x[56 + 2] == 8 ? 7 : 8); });
        edited("payload-bytes field off by one", C::SizeMismatch, [&](std::string& x) { put(x, 604, size.totalBytes() + 1, 4); });
        edited("H + 1 (sizes no longer add up)", C::SizeMismatch, [&](std::string& x) { put(x, 18, uint64_t(H + 1), 2); });
        edited("normalisation bytes not 0 or 8F", C::SizeMismatch, [&](std::string& x) { put(x, 608, uint64_t(8 * F - 4), 4); });
        edited("activation zero point above 2^b - 1", C::BadParameter, [&](std::string& x) { put(x, 88, 0x7fff, 4); });
        edited("sig_r zero point not 0", C::BadParameter, [&](std::string& x) { put(x, 88 + 4 * 15, 1, 4); });
        edited("tanh_n zero point not 2^(b-1) - 1", C::BadParameter, [&](std::string& x) { put(x, 88 + 4 * 19, 0, 4); });
        edited("a negative scale", C::BadParameter, [&](std::string& x) { x[188 + 8 * 7 + 7] = char(x[188 + 8 * 7 + 7] | 0x80); });
        edited("a weight point's scale not 1.0", C::BadParameter, [&](std::string& x) { put(x, 188 + 8 * 1, 0x4000000000000000ULL, 8); });
        edited("an infinite weight scale", C::BadParameter, [&](std::string& x) { put(x, 388, 0x7FF0000000000000ULL, 8); });
        edited("a negative multiplier", C::BadParameter, [&](std::string& x) { put(x, 444, 0xFFFFFFFFULL, 4); });
        edited("a shift of 63", C::BadParameter, [&](std::string& x) { put(x, 448, 63, 4); });
        edited("a two-input sum with shift 0", C::BadParameter, [&](std::string& x) { put(x, 524 + 8, 0, 4); });
        edited("a bias above 2^30", C::BadParameter, [&](std::string& x) { put(x, kBlobHeaderBytes, (1u << 30) + 1, 4); });
        edited("weight code -2^(b-1)", C::BadParameter,
               [&](std::string& x) { putBits(x, stream, 0, 1u << (b(QuantPoint::WIr) - 1), b(QuantPoint::WIr)); });
        edited("tanh_n entry 2^b - 1", C::BadParameter, [&](std::string& x) { putBits(x, stream, tanhLutBit, (1u << bit) - 1, bit); });
        if ((size.weightBits + size.lutBits) % 8 != 0) {
            edited("a padding bit set", C::BadParameter, [&](std::string& x) { x[payloadEnd - 1] = char(uint8_t(x[payloadEnd - 1]) | 0x80); });
        }
        edited("task name with a control character", C::BadParameter, [&](std::string& x) { x[572] = '\n'; });
        edited("task name byte after its NUL", C::BadParameter, [&](std::string& x) { x[572 + 30] = 'a'; });
        edited("task name of 32 characters", C::BadParameter, [&](std::string& x) { std::fill_n(x.begin() + 572, 32, 'a'); });
        edited("normalisation std 0", C::BadParameter, [&](std::string& x) { put(x, payloadEnd + 4 * size_t(F), 0, 4); });
        edited("normalisation mean NaN", C::BadParameter, [&](std::string& x) { put(x, payloadEnd, 0x7FC00000u, 4); });
        // A one-layer export is version 2 (byte 612 reserved); the same model as version 3 (layer count 1,
        // as older builds wrote it) is valid too, and the version-3 fields are checked on it.
        QCOMPARE(int(uint8_t(good[4])), 2);
        const auto asVersion3 = [&](std::string x) {
            put(x, 4, 3, 2);
            x[612] = 1;
            return x;
        };
        {
            std::string v3 = asVersion3(good);
            reseal(v3);
            cases.push_back({"version 3 of the one-layer model (accepted)", v3, 0});
        }
        edited("version 2 with byte 612 set", C::BadParameter, [&](std::string& x) { x[612] = 1; });
        edited("version 2 with byte 616 set", C::BadParameter, [&](std::string& x) { x[616] = 1; });
        edited("reserved byte 620", C::BadParameter, [&](std::string& x) { x = asVersion3(x); x[620] = 1; });
        edited("reserved byte 613", C::BadParameter, [&](std::string& x) { x = asVersion3(x); x[613] = 1; });
        edited("layer count 0", C::BadLayerCount, [&](std::string& x) { x = asVersion3(x); x[612] = 0; });
        edited("layer count 4", C::BadLayerCount, [&](std::string& x) { x = asVersion3(x); x[612] = 4; });
        edited("layer count 2 of a one-layer genome", C::BadBits, [&](std::string& x) { x = asVersion3(x); x[612] = 2; });
        edited("a one-layer blob with a layer section", C::BadLayerSection, [&](std::string& x) {
            x = asVersion3(x);
            x += std::string(kBlobGeneExtensionBytes, '\0');
            put(x, 8, x.size(), 4);
            put(x, 616, kBlobGeneExtensionBytes, 4);
        });
        // A stacked export (2 layers, default17-L2): its layer section broken once per rule.
        QVERIFY(!stackedDirs_.empty());
        const std::string stacked = test::readBytes(stackedDirs_[0] + "/model.bin");
        const BlobContents two = readBlob(std::vector<uint8_t>(stacked.begin(), stacked.end()), "stacked");
        QCOMPARE(two.model.shape.numLayers, int64_t(2));
        auto get32 = [](const std::string& x, size_t at) {
            uint32_t v = 0;
            for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(x[at + size_t(i)])) << (8 * i);
            return v;
        };
        const size_t section = stacked.size() - get32(stacked, 616);
        const size_t record = section + kBlobGeneExtensionBytes, layer2 = record + kBlobLayerRecordBytes;
        const int64_t H2 = two.model.shape.hiddenSize;
        const int wir2 = two.model.layers[1].bits[pointIndex(QuantPoint::WIr)];
        auto stackedEdit = [&](const char* name, C code, const std::function<void(std::string&)>& edit) {
            std::string x = stacked;
            edit(x);
            reseal(x);
            cases.push_back({name, x, int(code)});
        };
        auto resizeSection = [&](std::string& x, int64_t delta) {
            x.resize(size_t(int64_t(x.size()) + delta), '\0');
            put(x, 8, x.size(), 4);
            put(x, 616, x.size() - section, 4);
        };
        cases.push_back({"a 2-layer export (accepted)", stacked, 0});
        stackedEdit("2 layers: layer count 3", C::BadBits, [&](std::string& x) { x[612] = 3; });  // 31 genes, not 45
        stackedEdit("2 layers: version 2", C::BadBits, [&](std::string& x) { put(x, 4, 2, 2); });
        stackedEdit("2 layers: layer section cut short", C::BadLayerSection, [&](std::string& x) { resizeSection(x, -9); });
        stackedEdit("2 layers: layer section of 40 bytes", C::BadLayerSection,
                    [&](std::string& x) { resizeSection(x, 40 - int64_t(x.size() - section)); });
        stackedEdit("2 layers: layer section ends in the record", C::BadLayerSection,
                    [&](std::string& x) { resizeSection(x, int64_t(record + 100) - int64_t(x.size())); });
        stackedEdit("2 layers: layer section one byte longer", C::BadLayerSection, [&](std::string& x) { resizeSection(x, 1); });
        stackedEdit("2 layers: section-bytes field alone off by one", C::SizeMismatch,
                    [&](std::string& x) { put(x, 616, x.size() - section - 1, 4); });
        stackedEdit("2 layers: layer 2's payload-bytes field off by one", C::BadLayerSection,
                    [&](std::string& x) { put(x, record + 500, get32(x, record + 500) + 1, 4); });
        stackedEdit("2 layers: layer 2's x zero point is not layer 1's h", C::BadLayerSection,
                    [&](std::string& x) { x[record + 32] = char(uint8_t(x[record + 32]) ^ 1); });
        stackedEdit("2 layers: layer 2's x scale is not layer 1's h", C::BadLayerSection,
                    [&](std::string& x) { x[record + 132] = char(uint8_t(x[record + 132]) ^ 1); });
        stackedEdit("2 layers: layer 2's x width is not layer 1's h", C::BadBits,
                    [&](std::string& x) { x[record] = char(x[record] == 8 ? 7 : 8); });
        stackedEdit("2 layers: the header's fc width is not the head's", C::BadBits,
                    [&](std::string& x) { x[56 + 24] = char(x[56 + 24] == 8 ? 7 : 8); });
        stackedEdit("2 layers: a gene of layer 2 that is not its widths", C::BadBits,
                    [&](std::string& x) { x[24 + 20] = char(x[24 + 20] == 8 ? 7 : 8); });  // gene 20: l2_sum_z
        stackedEdit("2 layers: a byte after the last gene (extension)", C::BadBits, [&](std::string& x) { x[section] = 5; });
        stackedEdit("2 layers: layer 2 point byte 25 not zero", C::BadBits, [&](std::string& x) { x[record + 25] = 2; });
        stackedEdit("2 layers: layer 2 zero point above 2^b - 1", C::BadParameter,
                    [&](std::string& x) { put(x, record + 32 + 4 * 7, 0x7fff, 4); });
        stackedEdit("2 layers: layer 2 weight point scale not 1.0", C::BadParameter,
                    [&](std::string& x) { put(x, record + 132 + 8 * 1, 0x4000000000000000ULL, 8); });
        stackedEdit("2 layers: layer 2 weight scale infinite", C::BadParameter,
                    [&](std::string& x) { put(x, record + 332, 0x7FF0000000000000ULL, 8); });
        stackedEdit("2 layers: layer 2 shift 0", C::BadParameter, [&](std::string& x) { put(x, record + 380 + 4, 0, 4); });
        stackedEdit("2 layers: layer 2 sum shift 63", C::BadParameter, [&](std::string& x) { put(x, record + 452 + 8, 63, 4); });
        stackedEdit("2 layers: layer 2 record reserved byte", C::BadParameter, [&](std::string& x) { x[record + 511] = 1; });
        stackedEdit("2 layers: layer 2 bias above 2^30", C::BadParameter, [&](std::string& x) { put(x, layer2, (1u << 30) + 1, 4); });
        stackedEdit("2 layers: layer 2 weight code -2^(b-1)", C::BadParameter,
                    [&](std::string& x) { putBits(x, layer2 + 4 * size_t(6 * H2), 0, 1u << (wir2 - 1), wir2); });
        // Version 1: no normalisation section, and bytes 608..611 are reserved there.
        std::string v1 = good.substr(0, payloadEnd);
        put(v1, 4, 1, 2);
        put(v1, 8, v1.size(), 4);
        put(v1, 608, 0, 4);
        reseal(v1);
        cases.push_back({"version 1 without a section (accepted)", v1, 0});
        std::string v1Reserved = v1;
        put(v1Reserved, 608, 5, 4);
        reseal(v1Reserved);
        cases.push_back({"version 1 with bytes 608..611 set", v1Reserved, int(C::BadParameter)});
        cases.push_back({"the export itself (accepted)", good, 0});

        for (const auto& c : cases) {
            int coreCode = 0;
            try {
                readBlob(std::vector<uint8_t>(c.bytes.begin(), c.bytes.end()), c.name);
            } catch (const BlobError& e) {
                coreCode = int(e.code());
            }
            QVERIFY2(coreCode == c.code, qPrintable(QString("%1: core says %2, the table %3").arg(QString::fromStdString(c.name)).arg(coreCode).arg(c.code)));
            test::writeBytes(path("damaged.bin").toStdString(), c.bytes);
            const Run r = run(genericHarness_, {"--check", path("damaged.bin")});
            QCOMPARE(r.exitCode, c.code == 0 ? 0 : 2);
            QVERIFY2(r.output.trimmed().split('\n').first().trimmed() == QString::number(c.code),
                     qPrintable(QString("%1: runtime says %2, core %3").arg(QString::fromStdString(c.name), r.output).arg(coreCode)));
        }
        qInfo("%zu documented rules broken: core reader and C runtime give the table's code for each", cases.size());
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
                iq.quantize(e.model.inputQuant(), raw.data(), fromInt.data());
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
