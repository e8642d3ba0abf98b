// Models trained by PyTorch itself (tests/pytorch/make_models.py, run with Debian's python3-torch)
// imported by gruq: the plain state_dict, a training checkpoint, TorchScript and ONNX of one GRU layer
// and of 2 and 3 stacked layers (nn.GRU(num_layers=L)) reproduce PyTorch's logits on held-out data
// (max abs diff <= 1e-4); a search and an export run on the imported
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
#include "torch_save_test_support.h"

#include <onnx/onnx_pb.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <functional>
#include <map>

using namespace gruq;

class TestModelImport : public QObject {
    Q_OBJECT
    QTemporaryDir dir_, cache_;
    SequenceSet test_;            // test.npz in file order, as PyTorch saw it
    std::map<int64_t, std::vector<float>> logits_;  // PyTorch's logits of test_ by layer count (l2/logits.npy, ...)
    int64_t classes_ = 0;

    std::string file(const char* name) const { return dir_.filePath(QString::fromLatin1(name)).toStdString(); }
    std::string file(const QString& name) const { return dir_.filePath(name).toStdString(); }
    // The folder make_models.py writes a model of `layers` layers to: "" for one, "l2/" for two, ...
    static QString folder(int64_t layers) { return layers == 1 ? QString() : QStringLiteral("l%1/").arg(layers); }

    // The largest |gruq - PyTorch| of the float logits of `weights` on `set` against the .npy of PyTorch's.
    static double worstDifference(const FloatGruWeights& weights, const SequenceSet& set, const std::vector<float>& expected) {
        const std::vector<float> ours = evaluateFloatLogits(weights, set, 1);
        if (ours.size() != expected.size()) qFatal("%zu logits, PyTorch gave %zu", ours.size(), expected.size());
        double worst = 0;
        for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, std::fabs(double(ours[i]) - double(expected[i])));
        return worst;
    }

    std::vector<float> readLogits(const std::string& path) const {
        const NpyArray logits = parseNpy(test::readBytes(path), path);
        if (logits.shape.size() != 2 || logits.shape[0] != test_.count) qFatal("%s: unexpected shape", path.c_str());
        std::vector<float> out;
        for (int64_t i = 0; i < logits.elementCount(); ++i) out.push_back(float(logits.asDouble(i)));
        return out;
    }

    static bool sameLayers(const FloatGruWeights& a, const FloatGruWeights& b) {
        if (a.layers.size() != b.layers.size()) return false;
        for (size_t l = 0; l < a.layers.size(); ++l) {
            const FloatGruLayer &x = a.layers[l], &y = b.layers[l];
            if (x.wIh != y.wIh || x.wHh != y.wHh || x.bIh != y.bIh || x.bHh != y.bHh) return false;
        }
        return true;
    }

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
                                         {GRUQ_PYTORCH_MODELS_SCRIPT, dir_.path(), "--hidden", "32", "--epochs", "30",
                                          "--stacked", "2", "3"});
        QVERIFY2(made.exitCode == 0, qPrintable(made.output));
        qInfo("%s", qPrintable(made.output.split('\n', Qt::SkipEmptyParts).last()));
        test_ = numpySequencesFromMembers(readNpzFile(file("test.npz")), file("test.npz")).set;
        for (int64_t layers : {1, 2, 3}) logits_[layers] = readLogits(file(folder(layers) + "logits.npy"));
        classes_ = int64_t(logits_[1].size()) / test_.count;
    }

    void logitsMatchPyTorch_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("format");
        QTest::addColumn<qint64>("layers");
        for (int64_t layers : {1, 2, 3}) {
            const QString l = layers == 1 ? QString() : QStringLiteral(", %1 layers").arg(layers);
            const QString f = folder(layers);
            QTest::addRow("state_dict%s", qPrintable(l)) << f + "state_dict.pt" << "PyTorch state_dict" << qint64(layers);
            QTest::addRow("checkpoint dict with optimizer state%s", qPrintable(l))
                << f + "checkpoint.pt" << "PyTorch state_dict" << qint64(layers);
            QTest::addRow("TorchScript%s", qPrintable(l)) << f + "torchscript.pt" << "TorchScript" << qint64(layers);
            QTest::addRow("ONNX%s", qPrintable(l)) << f + "model.onnx" << "ONNX" << qint64(layers);
            QTest::addRow("ONNX without dynamic_axes%s", qPrintable(l)) << f + "fixed_batch.onnx" << "ONNX" << qint64(layers);
        }
        // fc(h_n[-1]): ONNX selects the last layer's final state out of a Concat of every layer's.
        QTest::addRow("ONNX, 2 layers, head on h_n[-1]") << "l2/final_state.onnx" << "ONNX" << qint64(2);
        QTest::addRow("ONNX, 3 layers, head on h_n[-1]") << "l3/final_state.onnx" << "ONNX" << qint64(3);
    }

    void logitsMatchPyTorch() {
        QFETCH(QString, name);
        QFETCH(QString, format);
        QFETCH(qint64, layers);
        const ImportedModel m = import(file(name));
        QCOMPARE(QString::fromStdString(m.format), format);
        QCOMPARE(m.weights.shape.hiddenSize, int64_t(32));
        QCOMPARE(m.weights.shape.numClasses, classes_);
        QCOMPARE(m.weights.shape.numLayers, int64_t(layers));
        QCOMPARE(int64_t(m.weights.layers.size()), int64_t(layers));
        QCOMPARE(int64_t(m.weights.layers.back().wIh.size()), 3 * 32 * (layers == 1 ? test_.features : 32));
        const double worst = worstDifference(m.weights, test_, logits_[layers]);
        qInfo("%s: max |gruq - PyTorch| over %zu logits = %.3g", qPrintable(name), logits_[layers].size(), worst);
        QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
    }

    // Zero-padded sequences: gruq classifies at the last valid step, as PyTorch's out[range, lengths - 1].
    void paddedSequencesMatchPyTorch_data() {
        QTest::addColumn<qint64>("layers");
        for (int64_t layers : {1, 2, 3}) QTest::addRow("%lld layer(s)", static_cast<long long>(layers)) << qint64(layers);
    }

    void paddedSequencesMatchPyTorch() {
        QFETCH(qint64, layers);
        const SequenceSet padded = numpySequencesFromMembers(readNpzFile(file("padded_test.npz")), "padded_test.npz").set;
        QVERIFY(padded.padded());
        const NpyArray expected = parseNpy(test::readBytes(file(folder(layers) + "padded_logits.npy")), "padded_logits.npy");
        std::vector<float> values;
        for (int64_t i = 0; i < expected.elementCount(); ++i) values.push_back(float(expected.asDouble(i)));
        const double worst = worstDifference(import(file(folder(layers) + "model.onnx")).weights, padded, values);
        qInfo("padded, %lld layer(s): max |gruq - PyTorch| over %zu logits = %.3g", static_cast<long long>(layers),
              values.size(), worst);
        QVERIFY2(worst <= 1e-4, qPrintable(QString::number(worst)));
    }

    // ONNX orders the gates z, r, h and packs both biases together; the conversion gives PyTorch's arrays
    // exactly, layer by layer.
    void formatsAgreeOnEveryWeight() {
        for (int64_t layers : {1, 2, 3}) {
            const QString f = folder(layers);
            const FloatGruWeights a = import(file(f + "state_dict.pt")).weights;
            QCOMPARE(int64_t(a.layers.size()), layers);
            for (const char* other : {"torchscript.pt", "model.onnx", "checkpoint.pt"}) {
                const FloatGruWeights b = import(file(f + other)).weights;
                QVERIFY2(sameLayers(a, b) && a.wFc == b.wFc && a.bFc == b.bFc && a.shape.key() == b.shape.key(),
                         qPrintable(f + other));
            }
        }
        const FloatGruWeights h = import(file("l2/final_state.onnx")).weights;
        QVERIFY(sameLayers(h, import(file("l2/state_dict.pt")).weights));
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
        QTest::newRow("4 layers, state_dict") << "four_layers.pt" << ""
                                              << "a GRU of 4 stacked layers (num_layers=4, found gru.weight_ih_l3); "
                                                 "gruq imports 1 to 3 stacked unidirectional GRU layers";
        QTest::newRow("4 layers, ONNX") << "four_layers.onnx" << ""
                                        << "4 GRU nodes (a stack of 4 layers, nn.GRU(num_layers=4)); gruq imports 1 to 3";
        QTest::newRow("hidden size 300") << "wide.pt" << "" << "a GRU of hidden size 300 (gru.weight_hh_l0 [900, 300]); gruq supports hidden sizes up to 256";
        QTest::newRow("ONNX head on the first layer's h_n") << "l2/first_layer_head.onnx" << ""
                                                             << "the head (Gemm) does not read the output of the last GRU node alone";
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

    // Stacks PyTorch cannot even write (sizes that disagree, a layer missing in the middle), written here
    // as torch.save files: refused by name with what was found.
    void inconsistentStacksAreRefused_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        const NamedTensors good = test::gruStateDict(test::patternedWeights(3, 4, 3, 3));  // 4 tensors a layer, then fc
        auto edited = [&](const std::function<void(NamedTensors&)>& edit) {
            NamedTensors t = good;
            edit(t);
            return QByteArray::fromStdString(test::torchSaveFile(t));
        };
        QTest::newRow("a valid 3-layer stack (accepted)") << edited([](NamedTensors&) {}) << "";
        QTest::newRow("layer 1 missing") << edited([](NamedTensors& t) { t.erase(t.begin() + 4, t.begin() + 8); })
                                         << "a stacked GRU with layer 1 of 3 missing (no gru.weight_ih_l1; found "
                                            "gru.weight_hh_l0, gru.weight_ih_l0, gru.weight_hh_l2, gru.weight_ih_l2)";
        QTest::newRow("layer 1 without weight_hh") << edited([](NamedTensors& t) { t.erase(t.begin() + 5); })
                                                   << "layer 1 of 3 missing (no gru.weight_hh_l1";
        QTest::newRow("layer 2 of another hidden size") << edited([](NamedTensors& t) {
            t[9] = {"gru.weight_hh_l2", {15, 5}, std::vector<float>(75, 0.1f)};
        }) << "layer 2's recurrent weights gru.weight_hh_l2 [15, 5] do not fit layer 0's hidden size 4 (expected [12, 4])";
        QTest::newRow("layer 1 not reading H values") << edited([](NamedTensors& t) {
            t[4] = {"gru.weight_ih_l1", {12, 3}, std::vector<float>(36, 0.1f)};
        }) << "layer 1's input weights gru.weight_ih_l1 [12, 3] do not take the 4 outputs of the layer below (expected [12, 4])";
        QTest::newRow("a bias of another size") << edited([](NamedTensors& t) {
            t[6] = {"gru.bias_ih_l1", {9}, std::vector<float>(9, 0.1f)};
        }) << "gru.bias_ih_l1 [9] does not have the shape [12]";
        QTest::newRow("a bias of a layer beyond the weights") << edited([](NamedTensors& t) {
            t.push_back({"gru.bias_hh_l3", {12}, std::vector<float>(12, 0.1f)});
        }) << "a GRU of 4 stacked layers (num_layers=4, found gru.bias_hh_l3)";
        QTest::newRow("bidirectional upper layer") << edited([](NamedTensors& t) {
            t.push_back({"gru.weight_hh_l1_reverse", {12, 4}, std::vector<float>(48, 0.1f)});
        }) << "a bidirectional GRU (gru.weight_hh_l1_reverse [12, 4])";
    }

    void inconsistentStacksAreRefused() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        const std::string path = file(QStringLiteral("inconsistent.pt"));
        test::writeBytes(path, bytes.toStdString());
        const QString message = refusal(path);
        if (expected.isEmpty()) {
            QVERIFY2(message.isEmpty(), qPrintable(message));
            QCOMPARE(import(path).weights.shape.numLayers, int64_t(3));
        } else {
            QVERIFY2(message.contains(QString::fromStdString(path)) && message.contains(expected), qPrintable(message));
        }
    }

    // ONNX GRU nodes that are not one stack: a node reading anything but the output sequence of the one
    // before (two GRUs side by side), a head on another layer than the last.
    void onnxGruNodesThatAreNotAStackAreRefused() {
        onnx::ModelProto model;
        QVERIFY(model.ParseFromString(test::readBytes(file("l2/model.onnx"))));
        std::vector<int> grus;
        for (int i = 0; i < model.graph().node_size(); ++i)
            if (model.graph().node(i).op_type() == "GRU") grus.push_back(i);
        QCOMPARE(grus.size(), size_t(2));

        onnx::ModelProto sideBySide = model;  // the second GRU reads the input sequence too
        sideBySide.mutable_graph()->mutable_node(grus[1])->set_input(0, model.graph().node(grus[0]).input(0));
        test::writeBytes(file("side_by_side.onnx"), sideBySide.SerializeAsString());
        QVERIFY2(refusal(file("side_by_side.onnx"))
                     .contains("GRU node 2 of 2 (/gru/GRU_1) does not read the output sequence of GRU node 1 of 2 (/gru/GRU) alone"),
                 qPrintable(refusal(file("side_by_side.onnx"))));

        // The head's path (Squeeze, Transpose, Gather) taken from the first layer's output sequence.
        onnx::ModelProto lowerHead = model;
        std::string squeezed[2];
        for (const auto& node : model.graph().node())
            for (int k = 0; k < 2; ++k)
                if (node.op_type() == "Squeeze" && node.input(0) == model.graph().node(grus[size_t(k)]).output(0))
                    squeezed[k] = node.output(0);
        int rewired = 0;
        for (auto& node : *lowerHead.mutable_graph()->mutable_node())
            if (node.op_type() == "Transpose" && node.input(0) == squeezed[1]) node.set_input(0, squeezed[0]), ++rewired;
        QCOMPARE(rewired, 1);
        test::writeBytes(file("lower_head.onnx"), lowerHead.SerializeAsString());
        QVERIFY2(refusal(file("lower_head.onnx")).contains("does not read the output of the last GRU node alone"),
                 qPrintable(refusal(file("lower_head.onnx"))));

        onnx::ModelProto nonZeroState = model;  // a learned initial state: a constant that is not zero
        for (auto& node : *nonZeroState.mutable_graph()->mutable_node()) {
            if (node.op_type() != "ConstantOfShape") continue;
            onnx::TensorProto* value = node.mutable_attribute(0)->mutable_t();
            value->clear_raw_data();
            value->clear_float_data();
            value->add_float_data(0.5f);
        }
        test::writeBytes(file("initial_state.onnx"), nonZeroState.SerializeAsString());
        QVERIFY2(refusal(file("initial_state.onnx")).contains("non-zero initial_h"), qPrintable(refusal(file("initial_state.onnx"))));
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

        // An imported 2-layer model exported directly: the genome takes the file's layer count (no --layers).
        const QString out2 = cache_.filePath("fw2");
        const test::Run stacked = cli(QStringList{"export"} + dataArgs() +
                                      QStringList{"--model", dir_.filePath("l2/state_dict.pt"), "--bits", "6", "--qat-samples", "256",
                                                  "--qat-batch", "32", "--calibration-batches", "2", "--out", out2});
        QVERIFY2(stacked.exitCode == 0, qPrintable(stacked.output));
        const BlobContents two = readBlobFile(out2.toStdString() + "/model.bin");
        QCOMPARE(int(two.model.layers.size()), 2);
        QCOMPARE(two.genome.layout->name, std::string("default17-L2"));  // --bits: every gene of the stacked layout
        // A genome written for one layer is refused for it, naming the layout it needs.
        const test::Run wrong = cli(QStringList{"eval"} + dataArgs() +
                                    QStringList{"--model", dir_.filePath("l2/state_dict.pt"), "--genome", uniformGenome(defaultLayout(), 6).toText().c_str(),
                                                "--qat-samples", "64", "--qat-batch", "32", "--calibration-batches", "1"});
        QCOMPARE(wrong.exitCode, 3);
        QVERIFY2(wrong.output.contains("missing genes: l2_w_ih"), qPrintable(wrong.output));
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
