// The bad-input matrix of gruq-cli (issue 10): every input kind (IDX datasets raw and gzip, WAV clips and
// Speech Commands folders with list files, genomes, search settings, archives, firmware blobs) and every
// output (search archive, firmware folder, float-model cache, standard output), each under the faults
// truncated / empty / wrong type / huge dimensions / non-UTF-8 name / read-only folder / full disk.
//
// For every row gruq-cli must exit normally with the row's code (3 = bad input, 0 where the input is in
// fact fine, e.g. a valid file under a non-UTF-8 name), print a message naming the file and the specific
// problem, never an "internal error", and leave every file in the row's folder as it was: the input
// itself, an earlier archive and an earlier export placed next to the target, and no new (half-written)
// files on failure.
//
// How the environment faults are made:
//  * non-UTF-8 names hold the bytes ff fe. QProcess takes QString arguments, which cannot carry them, so
//    every run goes through `sh -c`, which turns octal escapes back into bytes (printf %b) and execs.
//  * read-only folder: chmod 0555. The suite runs as root in CI, where permissions do not stop writes, so
//    those rows run gruq-cli as nobody (setgroups/setgid/setuid to 65534 in the child before exec); the
//    fixtures are world-readable for that. Without root the chmod alone does it.
//  * full disk: RLIMIT_FSIZE in the child, with SIGXFSZ ignored, so writes past the limit fail with
//    EFBIG exactly where a full disk fails with ENOSPC; and /dev/full as standard output.
//
// gruq-cli spends about half a second of CPU starting (libtorch registers its operators), so the rows run
// four or more at a time, each in its own folder, before the data-driven test function checks each one.
// Every row also prints "MATRIX | row | exit code | message": the table of what the user sees.
#include "bad_input_support.h"
#include "numpy_test_support.h"
#include "torch_save_test_support.h"

#include "gruq/base/process_identity.h"

#include <QtTest>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QProcess>
#include <QThread>
#include <QTimer>

#include <cctype>
#include <csignal>
#include <functional>
#include <grp.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace gruq;
using namespace gruq::test;

namespace {

enum class Limit { None, Unprivileged, FileSize };

constexpr uid_t kNobody = 65534;

struct Row {
    std::string name;
    std::vector<std::string> args;      // gruq-cli arguments, as bytes
    int exitCode = 3;                   // 3 = bad input; 0 = accepted
    std::vector<std::string> expected;  // substrings of stderr: the file and the problem
    std::string dir;                    // the row's folder: nothing in it may change (but new outputs on success)
    Limit limit = Limit::None;
    rlim_t fileSizeLimit = 0;
    bool stdoutToDevFull = false;
    std::vector<std::string> outputs;   // accepted rows: files that must exist afterwards
};

struct Run {
    bool normalExit = false;
    int exitCode = -1;
    QByteArray out, err;
};

// printf %b escapes for every byte a QString or the shell could alter.
QString shellEscaped(const std::string& bytes) {
    QString out;
    for (const unsigned char c : bytes) {
        if (c == '\\' || c < 0x20 || c >= 0x7f) out += QString::asprintf("\\0%03o", c);
        else out += QChar(c);
    }
    return out;
}

// Sets up (does not start) gruq-cli for a row: environment, limits, byte-exact arguments.
void prepareCli(QProcess& p, const Row& row, const QString& cacheDir, const QString& home) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GRUQ_CACHE_DIR"), cacheDir);
    env.insert(QStringLiteral("HOME"), home);
    env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
    env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    if (row.stdoutToDevFull) p.setStandardOutputFile(QStringLiteral("/dev/full"));
    const Limit limit = row.limit;
    const rlim_t fileSize = row.fileSizeLimit;
    p.setChildProcessModifier([limit, fileSize] {
        if (limit == Limit::FileSize) {
            std::signal(SIGXFSZ, SIG_IGN);  // stays ignored across exec: writes fail with EFBIG instead
            const rlimit rl{fileSize, fileSize};
            if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) ::_exit(120);
        }
        if (limit == Limit::Unprivileged && ::geteuid() == 0) {
            if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(121);
        }
    });
    QStringList args = {QStringLiteral("-c"),
                        QStringLiteral("for a do shift; set -- \"$@\" \"$(printf '%b' \"$a\")\"; done; exec \"$@\""),
                        QStringLiteral("sh"), shellEscaped(GRUQ_CLI_PATH)};
    for (const std::string& a : row.args) args << shellEscaped(a);
    p.setProgram(QStringLiteral("/bin/sh"));
    p.setArguments(args);
}

Run finishedRun(QProcess& p) {
    Run run;
    run.normalExit = p.exitStatus() == QProcess::NormalExit && p.error() != QProcess::FailedToStart;
    run.exitCode = p.exitCode();
    run.out = p.readAllStandardOutput();
    run.err = p.readAllStandardError();
    return run;
}

}  // namespace

class TestBadInput : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    std::string root_, cache_, home_, mnist_, mnistRaw_, speech_, archive_, blob_, export_, settings_;
    std::vector<Row> rows_;
    // Filled by runAllRows: each row's result and its folder before and after the run.
    std::vector<Run> runs_;
    std::vector<std::map<std::string, QByteArray>> before_, after_;
    std::map<std::string, QByteArray> sharedBefore_;
    int rowCounter_ = 0;

    // A fresh folder for one row, holding copies of an earlier archive and an earlier export that the
    // row must leave byte-identical.
    std::string rowFolder(const std::string& tag) {
        std::string safe;
        for (char c : tag) safe += (std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
        const std::string dir = root_ + "/rows/" + std::to_string(++rowCounter_) + "-" + safe;
        makeFolder(dir);
        fs::copy_file(archive_, dir + "/earlier.gruq");
        fs::copy(export_, dir + "/earlier-export", fs::copy_options::recursive);
        return dir;
    }

    Row& add(const std::string& name, std::vector<std::string> args, std::vector<std::string> expected,
             const std::string& dir, int exitCode = 3) {
        Row row;
        row.name = name;
        row.args = std::move(args);
        row.expected = std::move(expected);
        row.dir = dir;
        row.exitCode = exitCode;
        rows_.push_back(std::move(row));
        return rows_.back();
    }

    // ---- common command lines ----
    static std::vector<std::string> dataInfo(const std::string& task, const std::string& path) {
        return {"data", "info", task, "--path", path, "--threads", "1"};
    }
    std::vector<std::string> tinyModel() const {
        return {"--path", mnist_, "--hidden", "4", "--float-epochs", "1", "--threads", "1"};
    }
    std::vector<std::string> exportGenome(const std::string& out) const {
        std::vector<std::string> a = {"export", "--bits", "8", "--qat-epochs", "0", "--calibration-batches", "1", "--out", out};
        for (const auto& s : tinyModel()) a.push_back(s);
        return a;
    }
    std::vector<std::string> searchInto(const std::string& out, const std::string& data) const {
        return {"search", "--path", data, "--hidden", "4", "--float-epochs", "1", "--population", "8", "--generations",
                "0", "--qat-epochs", "0", "--workers", "1", "--no-baselines", "--no-refine", "--out", out};
    }
    static std::vector<std::string> withArg(std::vector<std::string> a, const std::string& extra) {
        a.push_back(extra);
        return a;
    }

    // A copy of the tiny MNIST folder (gzip or raw) inside dir, named `name`.
    std::string mnistCopy(const std::string& dir, const std::string& name, bool raw = false) {
        const std::string to = dir + "/" + name;
        fs::copy(raw ? mnistRaw_ : mnist_, to, fs::copy_options::recursive);
        return to;
    }
    std::string speechCopy(const std::string& dir, const std::string& name = "speech") {
        const std::string to = dir + "/" + name;
        fs::copy(speech_, to, fs::copy_options::recursive);
        return to;
    }
    std::string archiveCopy(const std::string& dir, const std::string& name) {
        fs::copy_file(archive_, dir + "/" + name);
        return dir + "/" + name;
    }

    // The inputs every row may read (data folders, the archive, blob and export the rows copy).
    std::map<std::string, QByteArray> sharedFixtures() const {
        std::map<std::string, QByteArray> all;
        for (const std::string& dir : {mnist_, mnistRaw_, speech_, export_}) {
            for (auto& [name, hash] : snapshot(dir)) all[dir + "/" + name] = hash;
        }
        for (const std::string& file : {archive_, blob_, settings_}) {
            all[file] = QCryptographicHash::hash(QByteArray::fromStdString(readBytes(file)), QCryptographicHash::Sha256);
        }
        return all;
    }

    void runAllRows();
    void idxRows();
    void numpyRows();
    void modelImportRows();
    void speechRows();
    void genomeRows();
    void settingsRows();
    void archiveRows();
    void fineTuneRows();
    void blobRows();
    void outputRows();

private slots:
    void initTestCase();
    void cliReportsBadInput_data();
    void cliReportsBadInput();
    void sharedFixturesAreUntouched();
    void cleanupTestCase() {
        // Writable again, then removed here: QTemporaryDir cannot see (so not remove) non-UTF-8 names.
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (it->is_directory(ec)) ::chmod(it->path().c_str(), 0755);
        }
        if (qEnvironmentVariableIsEmpty("GRUQ_KEEP_TEST_FILES")) fs::remove_all(root_, ec);
        else tmp_.setAutoRemove(false);
    }
};

void TestBadInput::initTestCase() {
    QVERIFY(tmp_.isValid());
    root_ = tmp_.path().toStdString();
    // World-readable and traversable: the read-only-folder rows run gruq-cli as nobody.
    ::chmod(root_.c_str(), 0755);
    cache_ = root_ + "/cache";
    home_ = root_ + "/home";
    for (const std::string& d : {cache_, home_}) {
        makeFolder(d);
        ::chmod(d.c_str(), 0777);
    }
    mnist_ = root_ + "/mnist";
    mnistRaw_ = root_ + "/mnist-raw";
    makeFolder(mnist_);
    makeFolder(mnistRaw_);
    writeTinyMnist(mnist_, 200, 50, /*gzip=*/true);
    writeTinyMnist(mnistRaw_, 200, 50, /*gzip=*/false);
    speech_ = root_ + "/speech";
    writeTinySpeechCommands(speech_);
    archive_ = root_ + "/good.gruq";
    writeFixtureArchive(archive_, mnist_);
    blob_ = root_ + "/good.bin";
    writeBytes(blob_, fixtureBlob());
    export_ = root_ + "/good-export";
    writeFixtureExport(export_);
    settings_ = root_ + "/good-settings.json";
    writeBytes(settings_, fixtureSettings(mnist_).toJson());

    // The float model every export / search row uses, trained once (and cached world-readable) so that
    // those rows reach their output step quickly and write nothing else.
    Row train;
    train.args = {"train", "--path", mnist_, "--hidden", "4", "--epochs", "1", "--threads", "1"};
    QElapsedTimer clock;
    clock.start();
    QProcess trainer;
    prepareCli(trainer, train, QString::fromStdString(cache_), QString::fromStdString(home_));
    trainer.start();
    QVERIFY(trainer.waitForFinished(120000));
    const Run trained = finishedRun(trainer);
    QVERIFY2(trained.normalExit && trained.exitCode == 0, trained.err.constData());
    for (const auto& entry : fs::recursive_directory_iterator(cache_)) {
        ::chmod(entry.path().c_str(), entry.is_directory() ? 0777 : 0666);
    }

    idxRows();
    numpyRows();
    modelImportRows();
    speechRows();
    genomeRows();
    settingsRows();
    archiveRows();
    fineTuneRows();
    blobRows();
    outputRows();
    qInfo("fixtures and the float model ready after %.1f s", clock.elapsed() / 1000.0);
    runAllRows();
    qInfo("%zu rows of gruq-cli ran in %.1f s", rows_.size(), clock.elapsed() / 1000.0);
}

// gruq-cli starts in about a second (libtorch's static initialisation), so the rows run side by side,
// each in its own folder; the test function then checks each row's stored result.
void TestBadInput::runAllRows() {
    const int parallel = std::max(4, 2 * QThread::idealThreadCount());
    runs_.assign(rows_.size(), Run{});
    before_.assign(rows_.size(), {});
    after_.assign(rows_.size(), {});
    sharedBefore_ = sharedFixtures();
    QEventLoop loop;
    size_t next = 0;
    int active = 0;
    std::function<void()> startMore = [&] {
        while (active < parallel && next < rows_.size()) {
            const size_t i = next++;
            before_[i] = snapshot(rows_[i].dir);
            auto* p = new QProcess(this);
            prepareCli(*p, rows_[i], QString::fromStdString(cache_), QString::fromStdString(home_));
            connect(p, &QProcess::finished, this, [&, i, p] {
                runs_[i] = finishedRun(*p);
                after_[i] = snapshot(rows_[i].dir);
                p->deleteLater();
                --active;
                startMore();
                if (active == 0 && next == rows_.size()) loop.quit();
            });
            connect(p, &QProcess::errorOccurred, this, [&, i, p](QProcess::ProcessError error) {
                if (error != QProcess::FailedToStart) return;
                runs_[i].err = "could not start /bin/sh";
                after_[i] = before_[i];
                p->deleteLater();
                --active;
                startMore();
                if (active == 0 && next == rows_.size()) loop.quit();
            });
            ++active;
            p->start();
        }
    };
    QTimer watchdog;
    watchdog.setSingleShot(true);
    connect(&watchdog, &QTimer::timeout, &loop, [&] {
        for (QProcess* p : findChildren<QProcess*>()) p->kill();  // their rows fail as crashed
    });
    // Generous: the sanitizer build runs every row's gruq-cli several times slower, beside other tests.
    watchdog.start(540000);
    startMore();
    if (active > 0) loop.exec();
}

// ---- NumPy datasets (the npz task) ----
// Models trained elsewhere (--model): torch.save files written here (torch_save_test_support.h); the
// ONNX and TorchScript refusals, which need PyTorch to make their files, are in test_model_import.
void TestBadInput::modelImportRows() {
    const NumpyToy toy = numpyToy(60, 5, 3, 3);
    const NamedTensors good = gruStateDict(patternedWeights(3, 4, 3));
    auto row = [&](const std::string& tag, const std::string& name, const std::string& modelBytes, const std::string& problem) {
        const std::string d = rowFolder("model-" + tag);
        writeNpz(d + "/data.npz", npzMembers(toy));
        const std::string model = d + "/model.pt";
        writeBytes(model, modelBytes);
        add("model import: " + name, {"train", "--data", d + "/data.npz", "--model", model}, {model, problem}, d);
    };
    auto edited = [&](const std::function<void(NamedTensors&)>& edit) {
        NamedTensors t = good;
        edit(t);
        return torchSaveFile(t);
    };
    row("garbage", "not a model file", std::string(300, 'z'), "not a model file gruq reads");
    row("png", "wrong type (PNG)", pngBytes(), "not a model file gruq reads");
    row("legacy", "pre-1.6 torch.save format",
        std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19\x2e", 15), "legacy format");
    {
        std::string cut = torchSaveFile(good);
        cut.resize(cut.size() / 2);
        row("truncated", "truncated zip", cut, "not a valid PyTorch (zip) file");
    }
    {
        auto members = torchSaveMembers(good);
        members["archive/data/1"].resize(10);
        row("short-storage", "a storage shorter than its tensor", makeZip(members), "fewer than its 48 elements need");
    }
    {
        auto members = torchSaveMembers(good);
        members["archive/data.pkl"].insert(2, "\x8f");  // EMPTY_SET: not part of a state_dict
        row("opcode", "an unsupported pickle opcode", makeZip(members), "unsupported pickle opcode 0x8f");
    }
    {
        auto members = torchSaveMembers(good);
        members.erase("archive/data/2");
        row("missing-storage", "a storage missing from the archive", makeZip(members), "storage 2 is missing");
    }
    row("features", "model for other input features", torchSaveFile(gruStateDict(patternedWeights(5, 4, 3))),
        "the model takes 5 input features per step, the data have 3");
    row("classes", "model for another class count", torchSaveFile(gruStateDict(patternedWeights(3, 4, 7))),
        "the model has 7 outputs, the data have 3 classes");
    // Stacked GRUs: 1..3 layers of one hidden size (up to 256) are imported; anything else is named.
    const NamedTensors stacked = gruStateDict(patternedWeights(3, 4, 3, 3));  // 4 tensors a layer, then fc
    auto stack = [&](const std::function<void(NamedTensors&)>& edit) {
        NamedTensors t = stacked;
        edit(t);
        return torchSaveFile(t);
    };
    row("stacked-half", "a stacked GRU with only weight_ih_l1", edited([](NamedTensors& t) {
            t.push_back({"gru.weight_ih_l1", {12, 4}, std::vector<float>(48, 0.1f)});
        }),
        "a stacked GRU with layer 1 of 2 missing (no gru.weight_hh_l1");
    row("stacked-four", "a GRU of 4 stacked layers", torchSaveFile(gruStateDict(patternedWeights(3, 4, 3, 4))),
        "a GRU of 4 stacked layers (num_layers=4, found gru.weight_ih_l3); gruq imports 1 to 3 stacked");
    row("stacked-gap", "a stacked GRU with a layer missing in the middle",
        stack([](NamedTensors& t) { t.erase(t.begin() + 4, t.begin() + 8); }),
        "a stacked GRU with layer 1 of 3 missing (no gru.weight_ih_l1; found gru.weight_hh_l0, gru.weight_ih_l0, "
        "gru.weight_hh_l2, gru.weight_ih_l2)");
    row("stacked-hidden", "stacked layers of different hidden sizes", stack([](NamedTensors& t) {
            t[9] = {"gru.weight_hh_l2", {15, 5}, std::vector<float>(75, 0.1f)};
        }),
        "layer 2's recurrent weights gru.weight_hh_l2 [15, 5] do not fit layer 0's hidden size 4 (expected [12, 4])");
    row("stacked-input", "a stacked layer not taking H inputs", stack([](NamedTensors& t) {
            t[4] = {"gru.weight_ih_l1", {12, 3}, std::vector<float>(36, 0.1f)};
        }),
        "layer 1's input weights gru.weight_ih_l1 [12, 3] do not take the 4 outputs of the layer below");
    row("wide", "hidden size above 256", torchSaveFile(gruStateDict(patternedWeights(3, 257, 3))),
        "a GRU of hidden size 257 (gru.weight_hh_l0 [771, 257]); gruq supports hidden sizes up to 256");
    row("no-gru", "no GRU tensors", edited([](NamedTensors& t) { t.erase(t.begin(), t.begin() + 4); }), "no GRU found");
    row("no-head", "no linear head", edited([](NamedTensors& t) { t.resize(4); }), "no linear head");
    row("extra", "a layer gruq cannot place", edited([](NamedTensors& t) {
            t.push_back({"norm.weight", {4}, std::vector<float>(4, 1.0f)});
        }),
        "tensors gruq cannot place: norm.weight [4]");
    row("gate-shape", "GRU weights of the wrong shape", edited([](NamedTensors& t) {
            t[0].shape = {10, 3};
            t[0].values.resize(30);
        }),
        "do not have the shapes [3H, F] and [3H, H]");
    {
        const std::string d = rowFolder("model-missing");
        writeNpz(d + "/data.npz", npzMembers(toy));
        add("model import: missing file", {"train", "--data", d + "/data.npz", "--model", d + "/none.pt"},
            {d + "/none.pt", "cannot read the file"}, d);
    }
    {
        const std::string d = rowFolder("model-builtin-task");
        writeBytes(d + "/model.pt", torchSaveFile(good));
        add("model import: with a built-in task", {"train", "--path", mnist_, "--model", d + "/model.pt"},
            {d + "/model.pt", "needs your own data"}, d);
    }
    {
        const std::string d = rowFolder("model-search");
        writeNpz(d + "/data.npz", npzMembers(toy));
        writeBytes(d + "/model.pt", torchSaveFile(gruStateDict(patternedWeights(3, 4, 7))));
        add("model import: search with a mismatching model", {"search", "--data", d + "/data.npz", "--model", d + "/model.pt",
                                                              "--population", "8", "--generations", "0", "--workers", "1",
                                                              "--out", d + "/run.gruq"},
            {d + "/model.pt", "7 outputs"}, d);
    }
    {
        const std::string d = rowFolder("model-good");
        writeNpz(d + "/data.npz", npzMembers(toy));
        writeBytes(d + "/model.pt", torchSaveFile(good));
        add("model import: valid state_dict (accepted)", {"train", "--data", d + "/data.npz", "--model", d + "/model.pt"}, {}, d, 0);
    }
    {
        const std::string d = rowFolder("model-good-stacked");
        writeNpz(d + "/data.npz", npzMembers(toy));
        writeBytes(d + "/model.pt", torchSaveFile(stacked));
        add("model import: valid 3-layer state_dict (accepted)", {"train", "--data", d + "/data.npz", "--model", d + "/model.pt"},
            {}, d, 0);
    }
}

void TestBadInput::numpyRows() {
    const NumpyToy toy = numpyToy(60, 5, 3, 3);
    // Each row: its own folder with data.npz made from the good members, changed by `edit`.
    auto row = [&](const std::string& tag, const std::string& name, const std::string& problem,
                   const std::function<void(std::map<std::string, std::string>&)>& edit) {
        const std::string d = rowFolder("npz-" + tag);
        auto members = npzMembers(toy);
        edit(members);
        const std::string file = d + "/data.npz";
        writeNpz(file, members);
        add("npz: " + name, {"data", "info", "--data", file}, {file, problem}, d);
    };
    using M = std::map<std::string, std::string>;
    row("no-y", "no y array", "no array 'y'", [](M& m) { m.erase("y"); });
    row("no-x", "no x array", "no array 'x'", [](M& m) { m.erase("x"); });
    row("rank", "x of rank 2", "x must be [N, T, F]", [&](M& m) { m["x"] = npyFloats(toy.x, {toy.n, toy.t * toy.f}); });
    row("nan", "NaN in x", "non-finite value", [&](M& m) {
        std::vector<float> x = toy.x;
        x[17] = std::nanf("");
        m["x"] = npyFloats(x, {toy.n, toy.t, toy.f});
    });
    row("inf", "infinity in x", "non-finite value", [&](M& m) {
        std::vector<float> x = toy.x;
        x[3] = -INFINITY;
        m["x"] = npyFloats(x, {toy.n, toy.t, toy.f});
    });
    row("float-labels", "labels not integers", "y must hold integer class ids", [&](M& m) {
        m["y"] = makeNpy("<f8", {toy.n}, rawBytes(std::vector<double>(size_t(toy.n), 1.0)));
    });
    row("negative-label", "a negative label", "label -1 of sequence 4", [&](M& m) {
        std::vector<int64_t> y = toy.y;
        y[4] = -1;
        m["y"] = npyLabels(y);
    });
    row("label-beyond-names", "a label without a class name", "label 2 has no name", [&](M& m) {
        m["class_names"] = makeNpy("<U4", {2}, rawBytes(std::vector<uint32_t>{'l', 'e', 'f', 't', 'r', 'i', 'g', 'h'}));
    });
    row("one-class", "a single class", "at least 2", [&](M& m) { m["y"] = npyLabels(std::vector<int64_t>(size_t(toy.n), 0)); });
    row("tiny", "too few sequences for the splits", "split is empty", [&](M& m) {
        m["x"] = npyFloats(std::vector<float>(toy.x.begin(), toy.x.begin() + 3 * 15), {3, 5, 3});
        m["y"] = npyLabels({0, 1, 2});
    });
    row("lengths-range", "lengths outside 1..T", "lengths[2] = 9 is outside 1..5", [&](M& m) {
        std::vector<int64_t> lengths(size_t(toy.n), 5);
        lengths[2] = 9;
        m["lengths"] = npyLabels(lengths);
    });
    {
        // Zero-padded sequences are data, not a problem: accepted, and data info says how many are padded.
        const std::string d = rowFolder("npz-padded");
        auto members = npzMembers(toy);
        std::vector<int64_t> lengths(size_t(toy.n), 5);
        lengths[7] = 3;
        members["lengths"] = npyLabels(lengths);
        writeNpz(d + "/data.npz", members);
        add("npz: zero-padded sequences (accepted)", {"data", "info", "--data", d + "/data.npz"}, {}, d, 0);
    }
    row("dtype", "unsupported x type (int32)", "supported: float32, float64, int8, uint8, int16", [&](M& m) {
        m["x"] = makeNpy("<i4", {toy.n, toy.t, toy.f}, rawBytes(std::vector<int32_t>(toy.x.size(), 1)));
    });
    row("object", "an object array (pickled)", "object arrays are not read", [&](M& m) { m["y"] = makeNpy("|O", {toy.n}, ""); });
    row("fortran", "a Fortran-order x", "Fortran-order arrays are not supported", [&](M& m) {
        std::string bytes = m["x"];
        const size_t at = bytes.find("False");
        bytes.replace(at, 5, "True ");
        m["x"] = bytes;
    });
    row("truncated-npy", "a truncated x member", "truncated file", [&](M& m) { m["x"].resize(m["x"].size() - 7); });
    {
        const std::string d = rowFolder("npz-corrupt");
        const std::string file = d + "/data.npz";
        std::string bytes = makeNpz(npzMembers(toy));
        bytes.resize(bytes.size() / 2);
        writeBytes(file, bytes);
        add("npz: corrupt zip (cut in half)", {"data", "info", "--data", file}, {file, "not a valid .npz (zip) file"}, d);
    }
    {
        const std::string d = rowFolder("npz-png");
        const std::string file = d + "/data.npz";
        writeBytes(file, pngBytes());
        add("npz: wrong type (PNG)", {"data", "info", "--data", file}, {file, "not a valid .npz (zip) file"}, d);
    }
    {
        const std::string d = rowFolder("npz-missing");
        add("npz: missing file", {"data", "info", "--data", d + "/none.npz"}, {d + "/none.npz", "cannot open the file"}, d);
    }
    {
        const std::string d = rowFolder("npz-split-shapes");
        writeNpz(d + "/train.npz", npzMembers(toy));
        writeNpz(d + "/test.npz", npzMembers(toy));
        const NumpyToy wide = numpyToy(30, 5, 4, 3);
        writeNpz(d + "/validation.npz", npzMembers(wide));
        add("npz: validation file with other features", {"data", "info", "--data", d + "/train.npz", "--validation-data",
                                                         d + "/validation.npz", "--test-data", d + "/test.npz"},
            {d + "/validation.npz", "5 steps x 4 features, but the training file has 5 x 3"}, d);
        add("npz: validation file without a test file", {"data", "info", "--data", d + "/train.npz", "--validation-data",
                                                         d + "/validation.npz"},
            {d + "/train.npz", "give both a validation and a test file"}, d);
    }
    {
        // A search on bad data: exit 3 before any archive is written.
        const std::string d = rowFolder("npz-search");
        auto members = npzMembers(toy);
        members.erase("y");
        writeNpz(d + "/data.npz", members);
        add("npz: search on data without y", {"search", "--data", d + "/data.npz", "--hidden", "4", "--float-epochs", "1",
                                              "--population", "8", "--generations", "0", "--workers", "1", "--out", d + "/run.gruq"},
            {d + "/data.npz", "no array 'y'"}, d);
    }
    {
        const std::string d = rowFolder("npz-good");
        writeNpz(d + "/data.npz", npzMembers(toy), /*deflate=*/true);
        add("npz: valid compressed data (accepted)", {"data", "info", "--data", d + "/data.npz"}, {}, d, 0);
    }
}

// ---- IDX datasets (MNIST-format folders, gzip and raw) ----
void TestBadInput::idxRows() {
    {
        const std::string d = rowFolder("idx-truncated-raw");
        const std::string data = mnistCopy(d, "mnist", /*raw=*/true);
        truncateFile(data + "/train-images-idx3-ubyte", 1000);
        add("idx: truncated (raw)", dataInfo("smnist-row", data),
            {data + "/train-images-idx3-ubyte", "truncated: header promises 156800 bytes of data, file holds 984"}, d);
    }
    {
        const std::string d = rowFolder("idx-truncated-gz");
        const std::string data = mnistCopy(d, "mnist");
        const std::string file = data + "/train-images-idx3-ubyte.gz";
        truncateFile(file, readBytes(file).size() / 2);
        add("idx: truncated (gzip)", dataInfo("smnist-row", data), {file, "gzip stream"}, d);
    }
    {
        const std::string d = rowFolder("idx-empty-raw");
        const std::string data = mnistCopy(d, "mnist", true);
        writeBytes(data + "/t10k-labels-idx1-ubyte", "");
        add("idx: empty (raw)", dataInfo("smnist-row", data),
            {data + "/t10k-labels-idx1-ubyte", "too short for an IDX header (0 bytes)"}, d);
    }
    {
        const std::string d = rowFolder("idx-empty-gz");
        const std::string data = mnistCopy(d, "mnist");
        writeBytes(data + "/train-labels-idx1-ubyte.gz", "");
        add("idx: empty (gzip)", dataInfo("smnist-row", data),
            {data + "/train-labels-idx1-ubyte.gz", "too short for an IDX header (0 bytes)"}, d);
    }
    {
        const std::string d = rowFolder("idx-png");
        const std::string data = mnistCopy(d, "mnist");
        writeBytes(data + "/train-images-idx3-ubyte.gz", pngBytes());
        add("idx: wrong type (PNG)", dataInfo("smnist-row", data),
            {data + "/train-images-idx3-ubyte.gz", "wrong magic number: not an IDX file"}, d);
    }
    {
        const std::string d = rowFolder("idx-text");
        const std::string data = mnistCopy(d, "mnist", true);
        writeBytes(data + "/train-labels-idx1-ubyte", "0,1,2,3,4,5,6,7,8,9\n");
        add("idx: wrong type (text)", dataInfo("smnist-row", data),
            {data + "/train-labels-idx1-ubyte", "wrong magic number: not an IDX file"}, d);
    }
    {
        const std::string d = rowFolder("idx-folder-for-file");
        const std::string data = mnistCopy(d, "mnist");
        fs::remove(data + "/train-images-idx3-ubyte.gz");
        makeFolder(data + "/train-images-idx3-ubyte.gz");
        add("idx: wrong type (folder where the file should be)", dataInfo("smnist-row", data),
            {data + "/train-images-idx3-ubyte.gz", "is a folder, expected an IDX file"}, d);
    }
    {
        const std::string d = rowFolder("idx-labels-are-images");
        const std::string data = mnistCopy(d, "mnist", true);
        fs::copy_file(data + "/t10k-images-idx3-ubyte", data + "/t10k-labels-idx1-ubyte", fs::copy_options::overwrite_existing);
        add("idx: wrong type (images where labels belong)", dataInfo("smnist-row", data),
            {data + "/t10k-labels-idx1-ubyte", "expected 1 dimension (count), found 3"}, d);
    }
    {
        const std::string d = rowFolder("idx-test-size");
        const std::string data = mnistCopy(d, "mnist", true);
        IdxArray small;
        small.dims = {50, 14, 14};
        small.data.assign(50 * 14 * 14, 7);
        writeIdxFile(data + "/t10k-images-idx3-ubyte", small, false);
        add("idx: wrong type (test images of another size)", dataInfo("smnist-row", data),
            {data + "/t10k-images-idx3-ubyte", "test images give sequences of 14 x 14, the training images 28 x 28"}, d);
    }
    {
        const std::string d = rowFolder("idx-path-is-file");
        const std::string data = mnistCopy(d, "mnist", true);
        add("idx: wrong type (--path is a file)", dataInfo("smnist-row", data + "/train-images-idx3-ubyte"),
            {data + "/train-images-idx3-ubyte", "is a file, expected an MNIST-format folder"}, d);
    }
    {
        const std::string d = rowFolder("idx-missing");
        add("idx: missing folder", dataInfo("smnist-row", d + "/nothing"), {d + "/nothing", "dataset folder not found"}, d);
    }
    {
        const std::string d = rowFolder("idx-huge-count");
        const std::string data = mnistCopy(d, "mnist", true);
        patchFile(data + "/train-images-idx3-ubyte", 4, bigEndian32(0x80000000u));
        add("idx: huge dimensions (2^31 images)", dataInfo("smnist-row", data),
            {data + "/train-images-idx3-ubyte", "IDX dimensions too large (over 4 GiB of data)"}, d);
    }
    {
        const std::string d = rowFolder("idx-huge-labels");
        const std::string data = mnistCopy(d, "mnist", true);
        patchFile(data + "/train-labels-idx1-ubyte", 4, bigEndian32(0x80000000u));
        add("idx: huge dimensions (2^31 labels)", dataInfo("smnist-row", data),
            {data + "/train-labels-idx1-ubyte", "truncated: header promises 2147483648 bytes of data, file holds 200"}, d);
    }
    {
        const std::string d = rowFolder("idx-huge-gz");
        const std::string data = mnistCopy(d, "mnist");
        IdxArray claim;  // a header for 60000 x 60000 x 2 pixels and nothing else, gzipped
        claim.dims = {2, 60000, 60000};
        const std::string path = data + "/t10k-images-idx3-ubyte.gz";
        fs::remove(path);
        writeIdxFile(path, claim, true);
        add("idx: huge dimensions (gzip, 2 x 60000 x 60000)", dataInfo("smnist-row", data),
            {path, "IDX dimensions too large (over 4 GiB of data)"}, d);
    }
    {
        const std::string d = rowFolder("idx-unreadable-folder");
        const std::string data = mnistCopy(d, "mnist");
        ::chmod(data.c_str(), 0700);
        add("idx: unreadable folder (not ours, 0700)", dataInfo("smnist-row", data),
            {data, "cannot read the dataset folder (Permission denied)"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("idx-unreadable-file");
        const std::string data = mnistCopy(d, "mnist");
        ::chmod((data + "/train-labels-idx1-ubyte.gz").c_str(), 0600);
        add("idx: unreadable file (not ours, 0600)", dataInfo("smnist-row", data),
            {data + "/train-labels-idx1-ubyte.gz", "Permission denied"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("idx-non-utf8-ok");
        const std::string data = mnistCopy(d, "mnist-" + kNotUtf8);
        add("idx: non-UTF-8 folder name, valid data (accepted)", dataInfo("smnist-row", data), {}, d, 0);
        add("idx: non-UTF-8 folder name, valid data, --json (accepted)", withArg(dataInfo("smnist-row", data), "--json"),
            {}, d, 0);
    }
    {
        const std::string d = rowFolder("idx-non-utf8-bad");
        const std::string data = mnistCopy(d, kNotUtf8 + "-mnist", true);
        truncateFile(data + "/train-labels-idx1-ubyte", 100);
        add("idx: non-UTF-8 folder name, truncated file", dataInfo("smnist-row", data),
            {data + "/train-labels-idx1-ubyte", "truncated: header promises 200 bytes of data, file holds 92"}, d);
    }
}

// ---- WAV clips and Speech Commands folders with list files ----
void TestBadInput::speechRows() {
    auto clipRow = [this](const std::string& name, const std::string& content, const std::string& problem) {
        const std::string d = rowFolder("kws-" + name);
        const std::string data = speechCopy(d);
        writeBytes(data + "/yes/a.wav", content);
        add("wav: " + name, dataInfo("kws4", data), {data + "/yes/a.wav", problem}, d);
    };
    const std::string goodClip = readBytes(speech_ + "/yes/a.wav");
    clipRow("truncated header", goodClip.substr(0, 20), "cannot decode audio");
    clipRow("empty", "", "cannot decode audio");
    clipRow("wrong type (text)", "this is not audio\n", "cannot decode audio");
    clipRow("wrong type (PNG)", pngBytes(), "cannot decode audio");
    clipRow("huge dimensions (sample rate 1 Hz)", wavBytes(1, 1, 2000, 1000),
            "sample rate 1 Hz cannot be resampled to 16000 Hz");
    clipRow("huge dimensions (sample rate 2^31-1 Hz)", wavBytes(1, 0x7fffffffu, 2000, 1000),
            "sample rate 2147483647 Hz cannot be resampled to 16000 Hz");
    clipRow("huge dimensions (65535 channels)", wavBytes(65535, 16000, 2000, 1000), "Too many channels");
    {
        const std::string d = rowFolder("kws-truncated-data");
        const std::string data = speechCopy(d);
        writeBytes(data + "/yes/a.wav", wavBytes(1, 16000, 0x7ffffff0u, 1000));
        add("wav: huge dimensions (data chunk claims 2 GiB, holds 2 KB; accepted, read as a short clip)",
            dataInfo("kws4", data), {}, d, 0);
    }
    {
        const std::string d = rowFolder("kws-list-folder");
        const std::string data = speechCopy(d);
        fs::remove(data + "/validation_list.txt");
        makeFolder(data + "/validation_list.txt");
        add("speech: wrong type (list file is a folder)", dataInfo("kws4", data),
            {data + "/validation_list.txt", "is a folder, expected a list file"}, d);
    }
    {
        const std::string d = rowFolder("kws-list-missing-clip");
        const std::string data = speechCopy(d);
        writeBytes(data + "/testing_list.txt", "yes/c.wav\nyes/zzz.wav\n");
        add("speech: list file names a missing clip", dataInfo("kws4", data),
            {data + "/testing_list.txt", "line 2 names \"yes/zzz.wav\", which is not a clip in the folder"}, d);
    }
    {
        const std::string d = rowFolder("kws-list-binary");
        const std::string data = speechCopy(d);
        writeBytes(data + "/validation_list.txt", pngBytes());
        add("speech: wrong type (PNG as list file)", dataInfo("kws4", data),
            {data + "/validation_list.txt", "line 1 names"}, d);
    }
    {
        const std::string d = rowFolder("kws-list-truncated");
        const std::string data = speechCopy(d);
        writeBytes(data + "/validation_list.txt", "yes/b.wav\nno/b.w");
        add("speech: truncated list file", dataInfo("kws4", data),
            {data + "/validation_list.txt", "line 2 names \"no/b.w\", which is not a clip in the folder"}, d);
    }
    {
        const std::string d = rowFolder("kws-missing-word");
        const std::string data = speechCopy(d);
        fs::remove_all(data + "/down");
        writeBytes(data + "/validation_list.txt", "yes/b.wav\n");
        writeBytes(data + "/testing_list.txt", "yes/c.wav\n");
        add("speech: keyword folder missing", dataInfo("kws4", data), {data, "keyword folder \"down\" is missing"}, d);
    }
    {
        const std::string d = rowFolder("kws-empty-folder");
        makeFolder(d + "/speech");
        add("speech: empty folder", dataInfo("kws4", d + "/speech"), {d + "/speech", "no word sub-folders"}, d);
    }
    {
        const std::string d = rowFolder("kws-path-is-file");
        const std::string data = speechCopy(d);
        add("speech: wrong type (--path is a WAV file)", dataInfo("kws4", data + "/yes/a.wav"),
            {data + "/yes/a.wav", "not a folder"}, d);
    }
    {
        const std::string d = rowFolder("kws-non-utf8-ok");
        const std::string data = speechCopy(d, "speech-" + kNotUtf8);
        fs::copy_file(data + "/no/a.wav", data + "/no/" + kNotUtf8 + ".wav");
        add("speech: non-UTF-8 folder and clip names, valid clips (accepted)", withArg(dataInfo("kws4", data), "--json"),
            {}, d, 0);
    }
    {
        const std::string d = rowFolder("kws-non-utf8-bad");
        const std::string data = speechCopy(d);
        writeBytes(data + "/up/" + kNotUtf8 + ".wav", "garbage");
        add("speech: non-UTF-8 clip name, not audio", dataInfo("kws4", data),
            {data + "/up/" + kNotUtf8 + ".wav", "cannot decode audio"}, d);
    }
    {
        const std::string d = rowFolder("kws-non-utf8-list");
        const std::string data = speechCopy(d);
        writeBytes(data + "/validation_list.txt", "yes/b.wav\nno/" + kNotUtf8 + ".wav\n");
        add("speech: list file names a non-UTF-8 clip that is not there", dataInfo("kws4", data),
            {data + "/validation_list.txt", "line 2 names \"no/" + kNotUtf8 + ".wav\""}, d);
    }
}

// ---- genomes (--genome text or JSON) ----
void TestBadInput::genomeRows() {
    const std::string d = rowFolder("genome");
    auto row = [&](const std::string& name, const std::string& genome, const std::vector<std::string>& expected,
                   const std::string& layout = "default17") {
        add("genome: " + name, {"eval", "--path", mnist_, "--layout", layout, "--genome", genome}, expected, d);
    };
    row("truncated JSON", R"({"layout": "default17", "genes": {"x": 8, "w_ih)", {"genome", "malformed JSON"});
    row("truncated text", "x8 w_ih4 w_hh6", {"genome", "missing genes: ih"});
    row("empty", "", {"arguments", "give --genome \"<text>\" or --bits N"});
    row("wrong type (JSON array)", "[8, 8, 8]", {"genome", "malformed token '[8'"});
    row("wrong type (genes not an object)", R"({"layout": "default17", "genes": [8, 8]})",
        {"genome", "\"genes\" must be an object of gene name -> bits"});
    row("wrong type (PNG bytes)", pngBytes().substr(0, 8), {"genome", "malformed token"});
    row("huge dimensions (99999999999999999999 bits)", "bits99999999999999999999", {"genome", "is outside 2..8"},
        "homogeneous");
    row("huge dimensions (JSON bits 1e30)", R"({"layout": "homogeneous", "genes": {"bits": 1e30}})",
        {"genome", "bits must be an integer, got 1e+30"});
    std::string many;
    for (int i = 0; i < 5000; ++i) many += "x8 ";
    row("huge dimensions (5000 genes)", many, {"genome", "given twice"});
    row("non-UTF-8 bytes", "x8 w_ih" + kNotUtf8 + "4", {"genome", "malformed token 'w_ih" + kNotUtf8 + "4'"});
    // Stacked models: the layer count outside 1..3, a genome of the wrong length for the layer count.
    add("genome: --layers 0", {"eval", "--path", mnist_, "--layers", "0", "--bits", "8"}, {"--layers", "0 is outside 1..3"}, d);
    add("genome: --layers 4", {"eval", "--path", mnist_, "--layers", "4", "--bits", "8"}, {"--layers", "4 is outside 1..3"}, d);
    const std::string oneLayer = "x8 w_ih4 w_hh6 ih8 hh8 sum_r6 sum_z7 sig_r5 sig_z8 mul_rn8 sum_n4 tanh_n3 mul_zn8 mul_zh8 h8 w_fc2 fc8";
    add("genome: one layer's 17 genes for --layers 2", {"eval", "--path", mnist_, "--layers", "2", "--genome", oneLayer},
        {"genome", "missing genes: l2_w_ih", "layout default17-L2 needs each of its 31 genes"}, d);
    add("genome: JSON of a one-layer layout for --layers 3",
        {"eval", "--path", mnist_, "--layers", "3", "--genome", uniformGenome(defaultLayout(), 8).toJson()},
        {"genome", "is for 1 GRU layer, the model has 3 (default17-L3, 45 genes)"}, d);
}

// ---- search settings (--settings FILE) ----
void TestBadInput::settingsRows() {
    const std::string good = readBytes(settings_);
    auto row = [&](const std::string& name, const std::string& fileName, const std::string& content,
                   const std::string& problem) {
        const std::string d = rowFolder("settings-" + name);
        const std::string file = d + "/" + fileName;
        writeBytes(file, content);
        add("settings: " + name, {"search", "--settings", file, "--out", d + "/new.gruq"}, {file, problem}, d);
    };
    row("truncated", "s.json", good.substr(0, good.size() / 2), "malformed JSON");
    row("empty", "s.json", "", "malformed JSON");
    row("wrong type (JSON array)", "s.json", "[1, 2, 3]", "must be a JSON object");
    row("wrong type (section not an object)", "s.json", R"({"nsga2": 5})", "'nsga2' must be an object");
    row("wrong type (field)", "s.json", R"({"nsga2": {"population": "many"}})", "'nsga2.population' has the wrong type");
    row("wrong type (PNG)", "s.json", pngBytes(), "malformed JSON");
    row("huge dimensions (population 10^9)", "s.json", R"({"nsga2": {"population": 1000000000}})",
        "'nsga2.population' must be a multiple of 4 in 8..10000");
    row("huge dimensions (hidden size 10^9)", "s.json", R"({"model": {"hidden_size": 1000000000}})",
        "'model.hidden_size' must be in 1..256");
    row("huge dimensions (population 1e300)", "s.json", R"({"nsga2": {"population": 1e300}})", "'nsga2.population'");
    row("multi-fidelity rung outside (0, 1)", "s.json", R"({"multi_fidelity": {"rung": 1.5}})",
        "'multi_fidelity.rung' must lie strictly between 0 and 1");
    row("multi-fidelity without neighbours", "s.json", R"({"multi_fidelity": {"gain_neighbours": 0}})",
        "'multi_fidelity.gain_neighbours' must be in 1..100000");
    row("multi-fidelity section not an object", "s.json", R"({"multi_fidelity": true})",
        "'multi_fidelity' must be an object");
    row("flash budget negative", "s.json", R"({"budget": {"max_flash_bytes": -1}})",
        "'budget.max_flash_bytes' must be in 0..4294967296");
    row("latency budget without a clock", "s.json", R"({"budget": {"max_latency_us": 500}})",
        "'budget.cpu_mhz' must be in (0, 10000] with a latency budget");
    row("latency budget absurd (1e30 us)", "s.json", R"({"budget": {"max_latency_us": 1e30, "cpu_mhz": 80}})",
        "'budget.max_latency_us' must be in 0..1e9");
    row("objectives: an unknown name", "s.json", R"({"objectives": ["error", "speed"]})",
        "unknown objective 'speed'");
    row("objectives: error alone", "s.json", R"({"objectives": ["error"]})", "choose flash, latency or both");
    row("QAT range tracking outside 0..1", "s.json", R"({"qat": {"freeze_ranges_after": 1.5}})",
        "'qat.freeze_ranges_after' must be in 0..1");
    row("QAT range EMA momentum 1", "s.json", R"({"qat": {"ema_momentum": 1}})", "'qat.ema_momentum' must be in [0, 1)");
    row("model layers 4", "s.json", R"({"model": {"layers": 4}})", "'model.layers' must be in 1..3");
    row("model layers 0", "s.json", R"({"model": {"layers": 0}})", "'model.layers' must be in 1..3");
    row("model hidden size 257", "s.json", R"({"model": {"hidden_size": 257}})", "'model.hidden_size' must be in 1..256");
    row("layout: a stacked form", "s.json", R"({"layout": "default17-L2"})", "is a stacked form; give its one-layer layout");
    {
        // Valid settings whose flash budget no scheme meets: refused once the shape is known, before any search.
        SearchSettings tight = fixtureSettings(mnist_);
        tight.objectives.maxFlashBytes = 10;
        const std::string d = rowFolder("settings-budget-unmeetable");
        writeBytes(d + "/s.json", tight.toJson());
        add("settings: a flash budget nothing meets", {"search", "--settings", d + "/s.json", "--out", d + "/new.gruq"},
            {"budget.max_flash_bytes (--max-flash)", "no scheme fits 10 bytes"}, d);
    }
    {
        const std::string d = rowFolder("settings-latency-no-clock");
        add("search --max-latency-us without --cpu-mhz",
            {"search", "--task", "smnist-row", "--max-latency-us", "500", "--out", d + "/new.gruq"},
            {"--max-latency-us", "needs --cpu-mhz"}, d);
    }
    {
        const std::string d = rowFolder("settings-objectives-option");
        add("search --objectives error,size (unknown name)",
            {"search", "--task", "smnist-row", "--objectives", "error,size", "--out", d + "/new.gruq"},
            {"--objectives", "unknown objective 'size'"}, d);
    }
    row("non-UTF-8 bytes inside", "s.json", "{\"task\": \"smnist-" + kNotUtf8 + "\"}", "malformed JSON");
    row("non-UTF-8 file name", kNotUtf8 + ".json", R"({"nsga2": {"population": 1000000000}})", "'nsga2.population'");
    {
        const std::string d = rowFolder("settings-folder");
        makeFolder(d + "/s.json");
        add("settings: wrong type (a folder)", {"search", "--settings", d + "/s.json", "--out", d + "/new.gruq"},
            {d + "/s.json", "is a folder, expected a settings file"}, d);
    }
    {
        const std::string d = rowFolder("settings-rung-option");
        add("search --rung 0 (no rung to judge at)", {"search", "--task", "smnist-row", "--rung", "0", "--out", d + "/new.gruq"},
            {"search settings", "'multi_fidelity.rung' must lie strictly between 0 and 1"}, d);
    }
    {
        const std::string d = rowFolder("settings-missing");
        add("settings: missing file", {"search", "--settings", d + "/none.json", "--out", d + "/new.gruq"},
            {d + "/none.json", "cannot read settings file"}, d);
    }
}

// ---- search archives (.gruq, SQLite): front, export --pick, search --resume ----
void TestBadInput::archiveRows() {
    // front reads read-only, export --pick too (so one export row stands for all), search --resume opens
    // read-write (so it gets every fault: nothing may be migrated or repaired in a bad file).
    auto rowsFor = [&](const std::string& name, const std::function<std::string(const std::string& dir)>& make,
                       const std::string& problem, bool alsoExportAndResume, bool alsoExport = false) {
        // One folder per command: the rows run side by side.
        std::string d = rowFolder("archive-" + name + "-front");
        std::string archive = make(d);
        add("archive: " + name + " (front)", {"front", archive}, {archive, problem}, d);
        if (!alsoExportAndResume) return;
        if (alsoExport) {
            d = rowFolder("archive-" + name + "-export");
            archive = make(d);
            add("archive: " + name + " (export --pick)", {"export", archive, "--pick", "1", "--out", d + "/fw"},
                {archive, problem}, d);
        }
        d = rowFolder("archive-" + name + "-resume");
        archive = make(d);
        add("archive: " + name + " (search --resume)", {"search", "--resume", archive}, {archive, problem}, d);
    };
    rowsFor("truncated (half a page)", [&](const std::string& d) {
        const std::string a = archiveCopy(d, "run.gruq");
        truncateFile(a, 2000);
        return a;
    }, "damaged", true);
    rowsFor("truncated (last pages cut)", [&](const std::string& d) {
        const std::string a = archiveCopy(d, "run.gruq");
        truncateFile(a, readBytes(a).size() - 4096);
        return a;
    }, "damaged", false);
    rowsFor("empty", [&](const std::string& d) {
        writeBytes(d + "/run.gruq", "");
        return d + "/run.gruq";
    }, "not a gruq search archive (application id 0x00000000)", true, /*alsoExport=*/true);
    rowsFor("wrong type (PNG)", [&](const std::string& d) {
        writeBytes(d + "/run.gruq", pngBytes());
        return d + "/run.gruq";
    }, "not an SQLite database", true);
    rowsFor("wrong type (a firmware blob)", [&](const std::string& d) {
        fs::copy_file(blob_, d + "/run.gruq");
        return d + "/run.gruq";
    }, "not an SQLite database", false);
    rowsFor("wrong type (a folder)", [&](const std::string& d) {
        makeFolder(d + "/run.gruq");
        return d + "/run.gruq";
    }, "is a directory, not an archive file", true);
    rowsFor("wrong type (another SQLite database)", [&](const std::string& d) {
        const std::string a = archiveCopy(d, "run.gruq");
        patchFile(a, 68, littleEndian(0, 4));  // application_id (big-endian in the header): not gruq's
        return a;
    }, "not a gruq search archive (application id 0x00000000)", true);
    rowsFor("huge dimensions (schema version 99)", [&](const std::string& d) {
        const std::string a = archiveCopy(d, "run.gruq");
        patchFile(a, 60, bigEndian32(99));  // user_version
        return a;
    }, "archive schema version 99 is newer than this gruq understands", true);
    // Settings stored in the archive that no search could run (population 10^9): the message names the archive.
    for (const char* command : {"export", "resume"}) {
        const std::string d = rowFolder(std::string("archive-huge-population-") + command);
        const std::string a = d + "/run.gruq";
        writeFixtureArchive(a, mnist_, R"({"task": "smnist-row", "nsga2": {"population": 1000000000}})");
        if (command == std::string("export")) {
            add("archive: huge dimensions (stored population 10^9) (export --pick)",
                {"export", a, "--pick", "1", "--out", d + "/fw"},
                {a + ": stored settings: 'nsga2.population' must be a multiple of 4 in 8..10000"}, d);
        } else {
            add("archive: huge dimensions (stored population 10^9) (search --resume)", {"search", "--resume", a},
                {a + ": stored settings: 'nsga2.population' must be a multiple of 4 in 8..10000"}, d);
        }
    }
    {
        const std::string d = rowFolder("archive-unreadable");
        const std::string a = archiveCopy(d, "run.gruq");
        ::chmod(a.c_str(), 0600);
        add("archive: unreadable (not ours, 0600) (front)", {"front", a}, {a, "cannot open"}, d).limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("archive-missing");
        add("archive: missing (front)", {"front", d + "/none.gruq"}, {d + "/none.gruq", "file not found"}, d);
    }
    {
        const std::string d = rowFolder("archive-non-utf8-ok");
        const std::string a = archiveCopy(d, kNotUtf8 + ".gruq");
        add("archive: non-UTF-8 name, valid (front, accepted)", {"front", a}, {}, d, 0);
        add("archive: non-UTF-8 name, valid (front --json, accepted)", {"front", a, "--json"}, {}, d, 0);
    }
    {
        for (const char* command : {"front", "resume"}) {
            const std::string d = rowFolder(std::string("archive-non-utf8-bad-") + command);
            const std::string a = d + "/" + kNotUtf8 + "-bad.gruq";
            writeBytes(a, "not an archive at all, just text that is long enough to be a header of something");
            if (command == std::string("front")) {
                add("archive: non-UTF-8 name, not an archive (front)", {"front", a}, {a, "not an SQLite database"}, d);
            } else {
                add("archive: non-UTF-8 name, not an archive (search --resume)", {"search", "--resume", a},
                    {a, "not an SQLite database"}, d);
            }
        }
    }
}

// ---- stored and fine-tuned models (finetune, export --pick) ----
void TestBadInput::fineTuneRows() {
    auto sql = [](const std::string& archive, const std::string& statement) {
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(archive.c_str(), &db), SQLITE_OK);
        QCOMPARE(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(db);
    };
    {
        const std::string d = rowFolder("finetune-unknown-id");
        const std::string a = archiveCopy(d, "run.gruq");
        add("finetune: unknown individual (--pick 999)", {"finetune", a, "--pick", "999"}, {a, "has no individual #999"}, d);
    }
    {
        const std::string d = rowFolder("finetune-no-epochs");
        const std::string a = archiveCopy(d, "run.gruq");
        add("finetune: --epochs 0", {"finetune", a, "--pick", "1", "--epochs", "0"},
            {"fine-tune settings", "epochs must be 1..1000, not 0"}, d);
        add("finetune: --patience -1", {"finetune", a, "--pick", "1", "--patience", "-1"},
            {"fine-tune settings", "patience must be 1..1000"}, d);
    }
    {
        const std::string d = rowFolder("finetune-empty-archive");
        writeBytes(d + "/run.gruq", "");
        add("archive: empty (finetune)", {"finetune", d + "/run.gruq", "--pick", "1"},
            {d + "/run.gruq", "not a gruq search archive (application id 0x00000000)"}, d);
    }
    {
        // A live process (this test) still runs a search into it.
        const std::string d = rowFolder("finetune-live-search");
        const std::string a = archiveCopy(d, "run.gruq");
        sql(a, "UPDATE state SET value='running' WHERE key='status'; INSERT OR REPLACE INTO state VALUES('writer', '" +
                   thisProcessIdentity() + "')");
        add("finetune: a live search writes the archive", {"finetune", a, "--pick", "1"},
            {a, "a search is still writing this archive"}, d);
    }
    {
        const std::string d = rowFolder("export-damaged-stored-model");
        const std::string a = archiveCopy(d, "run.gruq");
        sql(a, "INSERT INTO models(id, blob) VALUES(1, x'475255510200deadbeef')");
        add("archive: damaged stored model (export --pick)", {"export", a, "--pick", "1", "--out", d + "/fw"},
            {a + " (stored model of #1)"}, d);
    }
    {
        const std::string d = rowFolder("archive-damaged-fine-tune-record");
        const std::string a = archiveCopy(d, "run.gruq");
        sql(a, "UPDATE individuals SET source_id=1, fine_tune='{\"epochs_run\": \"x\"}' WHERE id=2");
        add("archive: damaged fine-tune record (front --all)", {"front", a, "--all"},
            {a, "damaged: fine-tune record of individual 2"}, d);
    }
    {
        const std::string d = rowFolder("export-fine-tune-without-model");
        const std::string a = archiveCopy(d, "run.gruq");
        sql(a, "UPDATE individuals SET source_id=1, fine_tune='{\"epochs_planned\": 10, \"epochs_run\": 2, \"best_epoch\": 1, "
               "\"patience\": 3, \"learning_rate\": 0.0005, \"status\": \"finished\"}' WHERE id=2");
        add("archive: fine-tuned individual without its model (export --pick)", {"export", a, "--pick", "2", "--out", d + "/fw"},
            {a, "the model of fine-tuned #2 is missing; fine-tune #1 again"}, d);
    }
}

// ---- firmware blobs (blob-info) ----
void TestBadInput::blobRows() {
    const std::string good = readBytes(blob_);
    auto row = [&](const std::string& name, const std::string& fileName, const std::string& content,
                   const std::string& problem) {
        const std::string d = rowFolder("blob-" + name);
        const std::string file = d + "/" + fileName;
        writeBytes(file, content);
        add("blob: " + name, {"blob-info", file}, {file, problem}, d);
    };
    auto resealed = [](std::string b) {
        const uint32_t crc = crc32Of(reinterpret_cast<const uint8_t*>(b.data()) + 16, b.size() - 16);
        b.replace(12, 4, littleEndian(crc, 4));
        return b;
    };
    row("truncated (inside the payload)", "model.bin", good.substr(0, good.size() - 10), "blob");
    row("truncated (inside the header)", "model.bin", good.substr(0, 100), "blob");
    row("empty", "model.bin", "", "blob");
    row("wrong type (PNG)", "model.bin", pngBytes(), "magic");
    row("wrong type (an archive)", "model.bin", readBytes(archive_), "magic");
    std::string hugeHidden = good;
    hugeHidden.replace(18, 2, littleEndian(60000, 2));
    row("huge dimensions (hidden size 60000)", "model.bin", resealed(hugeHidden), "blob");
    std::string hugeBytes = good;
    hugeBytes.replace(8, 4, littleEndian(0x7fffffff, 4));
    row("huge dimensions (claims 2 GiB)", "model.bin", resealed(hugeBytes), "blob");
    row("non-UTF-8 name, truncated", kNotUtf8 + ".bin", good.substr(0, 300), "blob");
    // Stacked GRUs (format version 3): the layer count in byte 612, the layer section after the rest. A
    // one-layer export is version 2; as version 3 (what older builds wrote) it gets the layer count 1.
    std::string version3 = good;
    version3.replace(4, 2, littleEndian(3, 2));
    version3[612] = 1;
    std::string noLayers = version3;
    noLayers[612] = 0;
    row("layer count 0", "model.bin", resealed(noLayers), "a GRU of 0 layers; the format holds 1..3");
    std::string fourLayers = version3;
    fourLayers[612] = 4;
    row("layer count 4", "model.bin", resealed(fourLayers), "a GRU of 4 layers; the format holds 1..3");
    std::string strayLayers = version3 + std::string(64, '\0');  // a layer section on a one-layer model
    strayLayers.replace(8, 4, littleEndian(strayLayers.size(), 4));
    strayLayers.replace(616, 4, littleEndian(64, 4));
    row("layer section on a one-layer model", "model.bin", resealed(strayLayers), "a one-layer model with a 64-byte layer section");
    std::string future = good;
    future.replace(4, 2, littleEndian(4, 2));
    row("format version 4", "model.bin", future, "blob format version 4");
    {
        const std::string d = rowFolder("blob-non-utf8-ok");
        writeBytes(d + "/" + kNotUtf8 + ".bin", good);
        add("blob: non-UTF-8 name, valid (accepted)", {"blob-info", d + "/" + kNotUtf8 + ".bin"}, {}, d, 0);
    }
    {
        const std::string d = rowFolder("blob-folder");
        makeFolder(d + "/model.bin");
        add("blob: wrong type (a folder)", {"blob-info", d + "/model.bin"},
            {d + "/model.bin", "is a folder, expected a blob file (model.bin)"}, d);
    }
    {
        const std::string d = rowFolder("blob-unreadable");
        writeBytes(d + "/model.bin", good);
        ::chmod((d + "/model.bin").c_str(), 0600);
        add("blob: unreadable (not ours, 0600)", {"blob-info", d + "/model.bin"},
            {d + "/model.bin", "cannot open the blob file"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("blob-missing");
        add("blob: missing", {"blob-info", d + "/none.bin"}, {d + "/none.bin", "file not found"}, d);
    }
}

// ---- outputs: search archive, firmware folder, float-model cache, standard output ----
void TestBadInput::outputRows() {
    // Search --out.
    {
        const std::string d = rowFolder("search-readonly");
        makeFolder(d + "/ro");
        archiveCopy(d, "ro/earlier.gruq");
        ::chmod((d + "/ro").c_str(), 0555);
        add("search --out: read-only folder", searchInto(d + "/ro/new.gruq", mnist_),
            {d + "/ro/new.gruq", "cannot create", "Permission denied"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("search-full");
        Row& r = add("search --out: full disk", searchInto(d + "/new.gruq", mnist_),
                      {d + "/new.gruq", "cannot create", "disk full"}, d);
        r.limit = Limit::FileSize;
        r.fileSizeLimit = 1024;
    }
    {
        const std::string d = rowFolder("search-under-file");
        writeBytes(d + "/afile", "x");
        add("search --out: wrong type (path under a file)", searchInto(d + "/afile/new.gruq", mnist_),
            {d + "/afile/new.gruq", "cannot create", "Not a directory"}, d);
    }
    {
        const std::string d = rowFolder("search-exists");
        add("search --out: an archive already there", searchInto(d + "/earlier.gruq", mnist_),
            {d + "/earlier.gruq", "already exists"}, d);
    }
    {
        const std::string d = rowFolder("search-non-utf8-data");
        const std::string data = mnistCopy(d, "mnist-" + kNotUtf8);
        add("search: non-UTF-8 data folder name (an archive cannot record it)", searchInto(d + "/new.gruq", data),
            {data, "folder name is not valid UTF-8"}, d);
    }

    // Export --out.
    {
        const std::string d = rowFolder("export-readonly");
        fs::copy(export_, d + "/fw", fs::copy_options::recursive);
        ::chmod((d + "/fw").c_str(), 0555);
        add("export --out: read-only folder holding an export (--force)", withArg(exportGenome(d + "/fw"), "--force"),
            {d + "/fw", "cannot write into", "Permission denied"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("export-readonly-parent");
        makeFolder(d + "/ro");
        ::chmod((d + "/ro").c_str(), 0555);
        add("export --out: new folder inside a read-only one", exportGenome(d + "/ro/fw"),
            {d + "/ro/fw", "cannot write into " + d + "/ro", "Permission denied"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("export-full");
        fs::copy(export_, d + "/fw", fs::copy_options::recursive);
        // model.bin, the C model and headers fit; gruq_runtime.c (25 KB) does not.
        Row& r = add("export --out: full disk while replacing an export (--force)", withArg(exportGenome(d + "/fw"), "--force"),
                     {d + "/fw", "cannot write gruq_runtime.c: File too large"}, d);
        r.limit = Limit::FileSize;
        r.fileSizeLimit = 16 * 1024;
    }
    {
        const std::string d = rowFolder("export-under-file");
        writeBytes(d + "/afile", "x");
        add("export --out: wrong type (path under a file)", exportGenome(d + "/afile/fw"),
            {d + "/afile/fw", d + "/afile is a file, not a folder"}, d);
        add("export --out: wrong type (a file)", exportGenome(d + "/afile"), {d + "/afile", "exists and is not a folder"}, d);
    }
    {
        const std::string d = rowFolder("export-exists");
        add("export --out: an export already there (no --force)", exportGenome(d + "/earlier-export"),
            {d + "/earlier-export", "already holds an export (model.bin); choose another folder or pass --force"}, d);
    }
    {
        const std::string d = rowFolder("export-non-utf8-ok");
        Row& r = add("export --out: non-UTF-8 folder name (accepted)", exportGenome(d + "/fw-" + kNotUtf8), {}, d, 0);
        r.outputs = {d + "/fw-" + kNotUtf8 + "/model.bin", d + "/fw-" + kNotUtf8 + "/model.json"};
    }

    // Float-model cache (train --cache-dir); hidden size 5 so the model is not in any cache yet.
    const std::vector<std::string> train5 = {"train", "--path", mnist_, "--hidden", "5", "--epochs", "1", "--threads", "1", "--cache-dir"};
    {
        const std::string d = rowFolder("train-readonly");
        makeFolder(d + "/models");
        writeBytes(d + "/models/float-earlier.bin", "an earlier cache entry");
        ::chmod((d + "/models").c_str(), 0555);
        add("train: read-only cache folder", withArg(train5, d + "/models"),
            {d + "/models/float-smnist-row-F28-H5-C10", "cannot store the float model in the cache", "Permission denied"}, d)
            .limit = Limit::Unprivileged;
    }
    {
        const std::string d = rowFolder("train-full");
        makeFolder(d + "/models");
        writeBytes(d + "/models/float-earlier.bin", "an earlier cache entry");
        Row& r = add("train: full disk in the cache folder", withArg(train5, d + "/models"),
                     {d + "/models/float-smnist-row-F28-H5-C10", "cannot store the float model in the cache",
                      "disk full"}, d);
        r.limit = Limit::FileSize;
        r.fileSizeLimit = 1000;
    }
    {
        const std::string d = rowFolder("train-cache-is-file");
        writeBytes(d + "/models", "x");
        add("train: wrong type (cache folder is a file)", withArg(train5, d + "/models"),
            {d + "/models", "exists and is not a folder"}, d);
    }

    // Standard output on a full disk.
    {
        const std::string d = rowFolder("stdout-full-front");
        add("front --csv: standard output on a full disk", {"front", d + "/earlier.gruq", "--csv"},
            {"standard output", "No space left on device"}, d)
            .stdoutToDevFull = true;
        const std::string e = rowFolder("stdout-full-data");
        add("data info --json: standard output on a full disk", withArg(dataInfo("smnist-row", mnist_), "--json"),
            {"standard output", "No space left on device"}, e)
            .stdoutToDevFull = true;
    }
}

void TestBadInput::cliReportsBadInput_data() {
    QTest::addColumn<int>("row");
    for (size_t i = 0; i < rows_.size(); ++i) QTest::newRow(rows_[i].name.c_str()) << int(i);
}

void TestBadInput::cliReportsBadInput() {
    QFETCH(int, row);
    const Row& r = rows_[size_t(row)];
    const Run& run = runs_[size_t(row)];
    const QByteArray context = "exit " + QByteArray::number(run.exitCode) + ", stderr:\n" + run.err;
    // One line per row with what the user sees: the source of the matrix in the issue's note.
    QByteArray shown = "(no message)";
    for (const QByteArray& line : run.err.split('\n')) {
        if (line.startsWith("gruq-cli: ")) shown = line;
    }
    qInfo("MATRIX | %s | exit %d | %s", r.name.c_str(), run.exitCode, shown.constData());

    QVERIFY2(run.normalExit, "gruq-cli crashed or was killed: " + context);
    QVERIFY2(!run.err.contains("internal error"), context);
    QVERIFY2(run.exitCode == r.exitCode, "expected exit " + QByteArray::number(r.exitCode) + ", got " + context);
    for (const std::string& expected : r.expected) {
        QVERIFY2(run.err.contains(QByteArray::fromStdString(expected)),
                 "stderr lacks \"" + QByteArray::fromStdString(expected) + "\": " + context);
    }
    if (r.exitCode != 0) QVERIFY2(run.err.contains("gruq-cli: error: "), context);
    for (const std::string& output : r.outputs) QVERIFY2(fs::exists(output), output.c_str());

    // Nothing in the row's folder changed: inputs, the earlier archive and export; and a failure left no
    // new (half-written) file behind.
    const std::string changes =
        describeChanges(before_[size_t(row)], after_[size_t(row)], /*newFilesAllowed=*/r.exitCode == 0);
    QVERIFY2(changes.empty(), ("files touched:" + changes).c_str());
}

void TestBadInput::sharedFixturesAreUntouched() {
    const std::string changes = describeChanges(sharedBefore_, sharedFixtures(), false);
    QVERIFY2(changes.empty(), ("shared fixtures touched:" + changes).c_str());
}

QTEST_GUILESS_MAIN(TestBadInput)
#include "test_bad_input.moc"
