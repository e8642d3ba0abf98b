// Models trained by PyTorch itself (tests/pytorch/make_models.py, run with Debian's python3-torch)
// imported by gruq: the plain state_dict, a training checkpoint, TorchScript and ONNX reproduce
// PyTorch's logits on held-out data (max abs diff <= 1e-4); a search and an export run on the imported
// model through gruq-cli, and the exported C runtime matches the integer engine bit for bit; models
// gruq cannot import are refused with a message naming the file and the reason; zero-padded sequences
// give PyTorch's logits at each last valid step.
#include "gruq/base/errors.h"
#include "gruq/data/npy_format.h"
#include "gruq/data/npz_archive.h"
#include "gruq/data/numpy_task.h"
#include "gruq/export/blob.h"
#include "gruq/model/float_training.h"
#include "gruq/model/model_import.h"
#include "gruq/quant/integer_engine.h"
#include "runtime_test_support.h"
#include "test_support.h"

#include <onnx/onnx_pb.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

using namespace gruq;

class TestModelImport : public QObject {
    Q_OBJECT
    QTemporaryDir dir_, cache_;
    SequenceSet test_;            // test.npz in file order, as PyTorch saw it
    std::vector<float> logits_;   // PyTorch's logits of test_
    int64_t classes_ = 0;

    std::string file(const char* name) const { return dir_.filePath(QString::fromLatin1(name)).toStdString(); }

    ImportedModel import(const std::string& path, const std::string& head = {}) {
        ModelImportOptions o;
        o.path = path;
        o.headName = head;
        return importFloatModel(o);
    }

    // The message of the InputError importing `path` throws (empty when it does not throw).
    QString refusal(const std::string& path, const std::string& head = {}) {
        try {
            import(path, head);
        } catch (const InputError& e) {
            return QString::fromStdString(e.what());
        }
        return {};
    }

    test::Run cli(const QStringList& args) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GRUQ_CACHE_DIR"), cache_.path());
        p.setProcessEnvironment(env);
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.start(QStringLiteral(GRUQ_CLI_PATH), args);
        if (!p.waitForFinished(300000)) qFatal("gruq-cli did not finish");
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAll())};
    }

    QStringList dataArgs() const {
        return {"--data", dir_.filePath("train.npz"), "--validation-data", dir_.filePath("validation.npz"), "--test-data",
                dir_.filePath("test.npz")};
    }

private slots:
    void initTestCase() {
        const test::Run made = test::run(QStringLiteral("/usr/bin/python3"),
                                         {GRUQ_PYTORCH_MODELS_SCRIPT, dir_.path(), "--hidden", "32", "--epochs", "30"});
        QVERIFY2(made.exitCode == 0, qPrintable(made.output));
        qInfo("%s", qPrintable(made.output.split('\n', Qt::SkipEmptyParts).last()));
        test_ = numpySequencesFromMembers(readNpzFile(file("test.npz")), file("test.npz")).set;
        const NpyArray logits = parseNpy(test::readBytes(file("logits.npy")), "logits.npy");
        QCOMPARE(logits.shape.size(), size_t(2));
        QCOMPARE(logits.shape[0], test_.count);
        classes_ = logits.shape[1];
        for (int64_t i = 0; i < logits.elementCount(); ++i) logits_.push_back(float(logits.asDouble(i)));
    }

    void logitsMatchPyTorch_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("format");
        QTest::newRow("state_dict") << "state_dict.pt" << "PyTorch state_dict";
        QTest::newRow("checkpoint dict with optimizer state") << "checkpoint.pt" << "PyTorch state_dict";
        QTest::newRow("TorchScript") << "torchscript.pt" << "TorchScript";
        QTest::newRow("ONNX") << "model.onnx" << "ONNX";
    }

    void logitsMatchPyTorch() {
        QFETCH(QString, name);
        QFETCH(QString, format);
        const ImportedModel m = import(file(qPrintable(name)));
        QCOMPARE(QString::fromStdString(m.format), format);
        QCOMPARE(m.weights.shape.hiddenSize, int64_t(32));
        QCOMPARE(m.weights.shape.numClasses, classes_);
        const std::vector<float> ours = evaluateFloatLogits(m.weights, test_, 1);
        QCOMPARE(ours.size(), logits_.size());
        double worst = 0;
        for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, double(std::fabs(ours[i] - logits_[i])));
        qInfo("%s: max |gruq - PyTorch| over %zu logits = %.3g", qPrintable(name), ours.size(), worst);
        QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
    }

    // Zero-padded sequences: gruq classifies at the last valid step, as PyTorch's out[range, lengths - 1].
    void paddedSequencesMatchPyTorch() {
        const SequenceSet padded = numpySequencesFromMembers(readNpzFile(file("padded_test.npz")), "padded_test.npz").set;
        QVERIFY(padded.padded());
        const NpyArray expected = parseNpy(test::readBytes(file("padded_logits.npy")), "padded_logits.npy");
        const std::vector<float> ours = evaluateFloatLogits(import(file("model.onnx")).weights, padded, 1);
        QCOMPARE(int64_t(ours.size()), expected.elementCount());
        double worst = 0;
        for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, std::fabs(double(ours[i]) - expected.asDouble(int64_t(i))));
        qInfo("padded: max |gruq - PyTorch| over %zu logits = %.3g", ours.size(), worst);
        QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
    }

    // ONNX orders the gates z, r, h and packs both biases together; the conversion gives PyTorch's arrays exactly.
    void formatsAgreeOnEveryWeight() {
        const FloatGruWeights a = import(file("state_dict.pt")).weights;
        for (const char* other : {"torchscript.pt", "model.onnx", "checkpoint.pt"}) {
            const FloatGruWeights b = import(file(other)).weights;
            QVERIFY2(a.wIh == b.wIh && a.wHh == b.wHh && a.bIh == b.bIh && a.bHh == b.bHh && a.wFc == b.wFc && a.bFc == b.bFc,
                     other);
        }
    }

    void unsupportedModelsAreRefusedSayingWhy_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("head");
        QTest::addColumn<QString>("expected");
        QTest::newRow("whole pickled model") << "whole_model.pt" << "" << "save its state_dict instead";
        QTest::newRow("bidirectional") << "bidirectional.pt" << "" << "bidirectional GRU";
        QTest::newRow("LSTM") << "lstm.pt" << "" << "an LSTM";
        QTest::newRow("two candidate heads") << "two_heads.pt" << "" << "several possible heads";
        QTest::newRow("head named, another layer left") << "two_heads.pt" << "fc" << "cannot place: hidden_fc.bias [32], hidden_fc.weight [32, 32]";
        QTest::newRow("head name that is not there") << "state_dict.pt" << "classifier" << "no layer named classifier";
        QTest::newRow("stacked state_dict") << "stacked.pt" << "" << "stacked GRU (num_layers=2";
        QTest::newRow("stacked ONNX") << "stacked.onnx" << "" << "2 GRU nodes (a stacked GRU)";
        QTest::newRow("a dataset, not a model") << "test.npz" << "" << "without data.pkl";
        QTest::newRow("NumPy array") << "logits.npy" << "" << "not a model file gruq reads";
    }

    void unsupportedModelsAreRefusedSayingWhy() {
        QFETCH(QString, name);
        QFETCH(QString, head);
        QFETCH(QString, expected);
        const QString message = refusal(file(qPrintable(name)), head.toStdString());
        QVERIFY2(message.contains(name) && message.contains(expected), qPrintable(message));
    }

    // Keras' reset_after=False GRU (ONNX linear_before_reset=0) computes a different cell; an operator
    // gruq has no rule for could change what the head sees. Both are refused by name.
    void onnxGraphsGruqCannotRepresentAreRefused() {
        onnx::ModelProto model;
        QVERIFY(model.ParseFromString(test::readBytes(file("model.onnx"))));
        onnx::ModelProto keras = model;
        for (auto& node : *keras.mutable_graph()->mutable_node()) {
            for (auto& a : *node.mutable_attribute())
                if (a.name() == "linear_before_reset") a.set_i(0);
        }
        test::writeBytes(file("keras.onnx"), keras.SerializeAsString());
        QVERIFY2(refusal(file("keras.onnx")).contains("linear_before_reset=0 (Keras reset_after=False)"),
                 qPrintable(refusal(file("keras.onnx"))));
        onnx::ModelProto relu = model;
        for (auto& node : *relu.mutable_graph()->mutable_node())
            if (node.op_type() == "Transpose") node.set_op_type("Relu");
        test::writeBytes(file("relu.onnx"), relu.SerializeAsString());
        QVERIFY2(refusal(file("relu.onnx")).contains("unsupported operators Relu"), qPrintable(refusal(file("relu.onnx"))));
    }

    // The whole user path: search and export on the imported model, then the exported C runtime against
    // the integer engine on every test sequence.
    void searchAndExportRunOnTheImportedModel() {
        const QString archive = cache_.filePath("run.gruq");
        const test::Run search = cli(QStringList{"search"} + dataArgs() + QStringList{"--model", dir_.filePath("state_dict.pt"),
                                                              "--population", "8", "--generations", "1", "--qat-samples", "256",
                                                              "--qat-batch", "32", "--calibration-batches", "2", "--workers",
                                                              "1", "--out", archive});
        QVERIFY2(search.exitCode == 0, qPrintable(search.output));
        const test::Run front = cli({"front", archive, "--json"});
        QVERIFY2(front.exitCode == 0, qPrintable(front.output));
        const QJsonArray rows = QJsonDocument::fromJson(front.output.toUtf8()).array();
        QVERIFY2(rows.size() >= 2, qPrintable(front.output));
        const double floatTest = evaluateFloatAccuracy(import(file("state_dict.pt")).weights, test_, 1);
        double bestTest = 0;
        for (const auto& row : rows) bestTest = std::max(bestTest, row.toObject()["test_accuracy"].toDouble());
        qInfo("imported float model: test %.3f; best front point: test %.3f", floatTest, bestTest);
        QVERIFY2(bestTest >= floatTest - 0.08, qPrintable(front.output));  // QAT keeps the imported model's accuracy

        // The smallest mixed-precision point of the front (genes at more than one width).
        auto widths = [](const QString& genome) {
            QSet<QString> bits;
            for (const QString& gene : genome.split(QLatin1Char(' '), Qt::SkipEmptyParts)) bits.insert(gene.right(1));
            return bits.size();
        };
        QJsonObject pick = rows.first().toObject();
        for (const auto& row : rows) {
            if (widths(row.toObject()["genome"].toString()) > 1) {
                pick = row.toObject();
                break;
            }
        }
        qInfo("exporting #%d %s", pick["id"].toInt(), qPrintable(pick["genome"].toString()));
        const QString out = cache_.filePath("fw");
        const test::Run exported = cli({"export", archive, "--pick", QString::number(pick["id"].toInt()), "--out", out});
        QVERIFY2(exported.exitCode == 0 && !exported.output.contains("warning"), qPrintable(exported.output));

        const BlobContents blob = readBlobFile(out.toStdString() + "/model.bin");
        const IntegerGruEngine engine(blob.model);
        const QString harness = cache_.filePath("harness");
        test::Run r = test::buildGenericHarness(GRUQ_RUNTIME_HARNESS, GRUQ_RUNTIME_DIR, harness);
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        test::writeBytes(cache_.filePath("codes.bin").toStdString(), test::codesFile(engine, test_));
        r = test::run(harness, {out + "/model.bin", cache_.filePath("codes.bin"), cache_.filePath("logits.bin")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.output));
        QVERIFY(test::readBytes(cache_.filePath("logits.bin").toStdString()) == test::logitsBytes(engine.logitsOf(test_, 1)));
        qInfo("exported %s: C runtime logits identical to the integer engine on %lld sequences (integer accuracy %.3f)",
              blob.genome.toText().c_str(), static_cast<long long>(test_.count), engine.accuracy(test_, 1));
    }

    void modelOptionNeedsYourOwnData() {
        const test::Run r = cli({"train", "--task", "smnist-row", "--max-train", "100", "--max-test", "100", "--model",
                                  dir_.filePath("state_dict.pt")});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.output.contains("state_dict.pt") && r.output.contains("needs your own data"), qPrintable(r.output));
    }
};

QTEST_GUILESS_MAIN(TestModelImport)
#include "test_model_import.moc"
