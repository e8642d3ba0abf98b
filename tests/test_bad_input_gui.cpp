// The bad-input matrix in the window (issue 10), real widgets offscreen: opening a corrupt / empty /
// foreign / truncated / damaged / non-UTF-8-named archive, pointing the settings panel at a missing or
// corrupt dataset folder, exporting the front to a read-only or full destination. Each shows an error
// dialog whose text names the file and the problem, and the window keeps what it showed before (the open
// archive and its points, the loaded data) and every earlier file.
//
// Dialogs are caught by a timer that finds each visible QMessageBox, records its title and text and
// closes it, so neither open() boxes nor modal exec() boxes can block the test.
// Read-only destination: chmod 0555, and as root (CI) the GUI thread's file-system uid is switched to
// nobody around the export (setfsuid: per thread, permission checks only). Full disk: RLIMIT_FSIZE on the
// test process around the export, with SIGXFSZ ignored so writes fail with EFBIG.
#include "bad_input_support.h"
#include "numpy_test_support.h"
#include "torch_save_test_support.h"
#include "unprivileged_files.h"
#include "gruq/search/front_export.h"
#include "baseline_controller.h"
#include "export_controller.h"
#include "fine_tune_controller.h"
#include "main_window.h"
#include "pareto_plot.h"

#include <QtTest>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QComboBox>
#include <QSettings>
#include <QTableWidget>
#include <QTimer>

#include <sqlite3.h>

#include <cmath>
#include <csignal>
#include <functional>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace gruq;
using namespace gruq::test;

namespace {

struct SeenDialog {
    QString title, text;
};

// Records and closes every message box that appears while it lives.
class DialogCatcher : public QObject {
public:
    DialogCatcher() {
        connect(&timer_, &QTimer::timeout, this, &DialogCatcher::poll);
        timer_.start(20);
    }
    const QList<SeenDialog>& seen() const { return seen_; }
    // The text of every dialog seen, for failure messages.
    QByteArray describe() const {
        QString all;
        for (const SeenDialog& d : seen_) all += QStringLiteral("[%1] %2\n").arg(d.title, d.text);
        return all.isEmpty() ? QByteArray("no dialog") : all.toUtf8();
    }

private:
    void poll() {
        for (QWidget* w : QApplication::topLevelWidgets()) {
            auto* box = qobject_cast<QMessageBox*>(w);
            if (!box || !box->isVisible() || box->property("caught").toBool()) continue;
            box->setProperty("caught", true);
            seen_.append({box->windowTitle(), box->text() + QLatin1Char('\n') + box->informativeText()});
            box->close();
        }
    }
    QTimer timer_;
    QList<SeenDialog> seen_;
};

// Files this process writes stop growing at `bytes`, like a full disk (EFBIG instead of ENOSPC).
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        previousHandler_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limited = saved_;
        limited.rlim_cur = bytes;  // the soft limit only, so it can be raised back
        ::setrlimit(RLIMIT_FSIZE, &limited);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, previousHandler_);
    }

private:
    rlimit saved_{};
    void (*previousHandler_)(int) = nullptr;
};

void sqlExec(const std::string& path, const char* sql) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
    const QByteArray message = error ? QByteArray(error) : QByteArray();
    sqlite3_free(error);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, message.constData());
}

QString qPath(const std::string& bytes) { return QFile::decodeName(QByteArray::fromStdString(bytes)); }

}  // namespace

class TestBadInputGui : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    std::string root_, data_, archive_;
    int counter_ = 0;

    std::string freshFolder(const char* tag) {
        const std::string dir = root_ + "/" + std::to_string(++counter_) + "-" + tag;
        makeFolder(dir);
        ::chmod(dir.c_str(), 0777);
        return dir;
    }

    template <typename T>
    static T* child(QWidget& w, const char* name) {
        T* c = w.findChild<T*>(QString::fromLatin1(name));
        if (!c) qFatal("missing child %s", name);
        return c;
    }

    // A window showing the good archive.
    void openGood(ui::MainWindow& w) {
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openArchive(qPath(archive_)));
        QCOMPARE(w.paretoPlot()->pointCount(), 7);
    }

    // What the user saw, one line per row: the source of the matrix in the note.
    static void logDialogs(const DialogCatcher& catcher) {
        for (const SeenDialog& d : catcher.seen()) {
            qInfo("DIALOG | %s | %s | %s", QTest::currentDataTag(), qPrintable(d.title),
                  qPrintable(d.text.trimmed().replace(QLatin1Char('\n'), QLatin1Char(' '))));
        }
    }

    static bool dialogSays(const DialogCatcher& catcher, const QString& title, const QStringList& parts) {
        for (const SeenDialog& d : catcher.seen()) {
            if (d.title != title) continue;
            if (std::all_of(parts.begin(), parts.end(), [&](const QString& p) { return d.text.contains(p); })) return true;
        }
        return false;
    }

private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        root_ = tmp_.path().toStdString();
        ::chmod(root_.c_str(), 0777);  // the read-only row reads the archive as nobody
        qputenv("XDG_CONFIG_HOME", (tmp_.path() + "/config").toUtf8());
        qputenv("XDG_DATA_HOME", (tmp_.path() + "/data-home").toUtf8());
        qputenv("GRUQ_CACHE_DIR", (tmp_.path() + "/cache").toUtf8());
        QCoreApplication::setOrganizationName(QStringLiteral("gruq-bad-input"));
        QCoreApplication::setApplicationName(QStringLiteral("gruq-bad-input"));
        QSettings().clear();
        data_ = root_ + "/mnist";
        makeFolder(data_);
        writeTinyMnist(data_, 200, 50, true);
        archive_ = root_ + "/good.gruq";
        writeFixtureArchive(archive_, data_);
        ::chmod(archive_.c_str(), 0666);
    }

    void cleanupTestCase() {
        // Removed here: QTemporaryDir cannot see (so not remove) the non-UTF-8 names.
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    // ---- archives ----
    void openingABadArchive_data() {
        QTest::addColumn<QByteArray>("file");      // bytes
        QTest::addColumn<QString>("shownName");    // what of the name the dialog shows
        QTest::addColumn<QString>("problem");

        auto copyGood = [this](const char* tag, const std::string& name) {
            const std::string path = freshFolder(tag) + "/" + name;
            fs::copy_file(archive_, path);
            return path;
        };
        {
            const std::string p = freshFolder("png") + "/run.gruq";
            writeBytes(p, pngBytes());
            QTest::newRow("corrupt (PNG)") << QByteArray::fromStdString(p) << qPath(p) << "not an SQLite database";
        }
        {
            const std::string p = freshFolder("empty") + "/run.gruq";
            writeBytes(p, "");
            QTest::newRow("empty") << QByteArray::fromStdString(p) << qPath(p)
                                   << "not a gruq search archive (application id 0x00000000)";
        }
        {
            const std::string p = copyGood("truncated", "run.gruq");
            truncateFile(p, 2000);
            QTest::newRow("truncated") << QByteArray::fromStdString(p) << qPath(p) << "damaged";
        }
        {
            const std::string p = copyGood("foreign", "run.gruq");
            patchFile(p, 68, littleEndian(0, 4));  // another application's SQLite file
            QTest::newRow("foreign SQLite database") << QByteArray::fromStdString(p) << qPath(p)
                                                     << "not a gruq search archive";
        }
        {
            const std::string p = copyGood("newer", "run.gruq");
            patchFile(p, 60, bigEndian32(99));
            QTest::newRow("newer schema") << QByteArray::fromStdString(p) << qPath(p)
                                          << "archive schema version 99 is newer than this gruq understands";
        }
        {
            const std::string p = copyGood("damaged-row", "run.gruq");
            sqlExec(p, "UPDATE individuals SET genes='oops' WHERE id=3");
            // MainWindow::openArchive reads everything before it touches the view.
            QTest::newRow("damaged row") << QByteArray::fromStdString(p) << qPath(p)
                                         << "damaged: genes of individual 3 is not a JSON array";
        }
        {
            const std::string p = freshFolder("folder") + "/run.gruq";
            makeFolder(p);
            QTest::newRow("a folder") << QByteArray::fromStdString(p) << qPath(p) << "is a directory, not an archive file";
        }
        {
            const std::string p = freshFolder("missing") + "/none.gruq";
            QTest::newRow("missing") << QByteArray::fromStdString(p) << qPath(p) << "file not found";
        }
        {
            // Qt cannot hold this name (it decodes ff fe to U+FFFD, and its listings skip the file), so the
            // window is handed the lossy name, exactly what a command line or a settings file gives it.
            const std::string p = copyGood("non-utf8", kNotUtf8 + "-run.gruq");
            QTest::newRow("non-UTF-8 name") << QByteArray::fromStdString(p) << QStringLiteral("-run.gruq")
                                            << "not valid UTF-8";
        }
    }

    void openingABadArchive() {
        QFETCH(QByteArray, file);
        QFETCH(QString, shownName);
        QFETCH(QString, problem);
        const auto before = snapshot(fs::path(file.toStdString()).parent_path().string());
        ui::MainWindow w;
        openGood(w);
        DialogCatcher catcher;
        QVERIFY(!w.openArchive(QFile::decodeName(file)));
        QTRY_VERIFY2(!catcher.seen().isEmpty(), "no error dialog");
        logDialogs(catcher);
        QVERIFY2(dialogSays(catcher, QStringLiteral("Cannot open archive"), {shownName, problem}), catcher.describe());
        // The window still shows the archive it had open.
        QCOMPARE(w.archivePath(), qPath(archive_));
        QCOMPARE(w.paretoPlot()->pointCount(), 7);
        // Opening never writes: the bad file is as it was.
        const std::string changes = describeChanges(before, snapshot(fs::path(file.toStdString()).parent_path().string()), false);
        QVERIFY2(changes.empty(), ("files touched:" + changes).c_str());
    }

    // ---- dataset folders in the settings panel ----
    void loadingABadDataFolder_data() {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("shownFile");
        QTest::addColumn<QString>("problem");
        auto copyData = [this](const char* tag) {
            const std::string dir = freshFolder(tag) + "/mnist";
            fs::copy(data_, dir, fs::copy_options::recursive);
            return dir;
        };
        {
            const std::string dir = freshFolder("no-data") + "/nothing-here";
            QTest::newRow("missing folder") << qPath(dir) << qPath(dir) << "dataset folder not found";
        }
        {
            const std::string dir = copyData("truncated-idx");
            const std::string f = dir + "/train-images-idx3-ubyte.gz";
            truncateFile(f, readBytes(f).size() / 2);
            QTest::newRow("truncated IDX") << qPath(dir) << qPath(f) << "gzip stream";
        }
        {
            const std::string dir = copyData("empty-idx");
            writeBytes(dir + "/t10k-labels-idx1-ubyte.gz", "");
            QTest::newRow("empty IDX") << qPath(dir) << qPath(dir + "/t10k-labels-idx1-ubyte.gz")
                                       << "too short for an IDX header (0 bytes)";
        }
        {
            const std::string dir = copyData("png-idx");
            writeBytes(dir + "/train-labels-idx1-ubyte.gz", pngBytes());
            QTest::newRow("PNG for IDX") << qPath(dir) << qPath(dir + "/train-labels-idx1-ubyte.gz")
                                         << "wrong magic number: not an IDX file";
        }
        {
            const std::string dir = copyData("huge-idx");
            fs::remove(dir + "/train-images-idx3-ubyte.gz");
            IdxArray claim;
            claim.dims = {2, 60000, 60000};
            writeIdxFile(dir + "/train-images-idx3-ubyte", claim, false);
            QTest::newRow("huge IDX header") << qPath(dir) << qPath(dir + "/train-images-idx3-ubyte")
                                             << "IDX dimensions too large";
        }
        {
            const std::string dir = copyData("file-for-folder");
            QTest::newRow("a file for the folder") << qPath(dir + "/train-images-idx3-ubyte.gz")
                                                   << qPath(dir + "/train-images-idx3-ubyte.gz")
                                                   << "is a file, expected an MNIST-format folder";
        }
        {
            const std::string dir = copyData("non-utf8");
            const std::string named = dir + "-" + kNotUtf8;
            fs::rename(dir, named);
            QTest::newRow("non-UTF-8 folder name (reaches Qt lossily)") << qPath(named) << QStringLiteral("mnist-")
                                                                        << "dataset folder not found";
        }
    }

    void loadingABadDataFolder() {
        QFETCH(QString, folder);
        QFETCH(QString, shownFile);
        QFETCH(QString, problem);
        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* path = child<QLineEdit>(w, "dataPath");
        auto* load = child<QPushButton>(w, "loadButton");
        path->setText(qPath(data_));
        QSignalSpy loaded(w.controller(), &ui::BaselineController::dataLoaded);
        QTest::mouseClick(load, Qt::LeftButton);
        QVERIFY(loaded.wait(30000));
        QTRY_VERIFY(load->isEnabled());
        const QString header = child<QLabel>(w, "dataHeader")->text();
        QVERIFY(header.contains(qPath(data_)));
        QCOMPARE(child<QTableWidget>(w, "classTable")->rowCount(), 10);

        DialogCatcher catcher;
        path->setText(folder);
        QSignalSpy failed(w.controller(), &ui::BaselineController::failed);
        QTest::mouseClick(load, Qt::LeftButton);
        QVERIFY(failed.wait(30000));
        QTRY_VERIFY2(!catcher.seen().isEmpty(), "no error dialog");
        logDialogs(catcher);
        QVERIFY2(dialogSays(catcher, QStringLiteral("Cannot use this input"), {shownFile, problem}), catcher.describe());
        // The data summary still describes the data loaded before.
        QCOMPARE(child<QLabel>(w, "dataHeader")->text(), header);
        QCOMPARE(child<QTableWidget>(w, "classTable")->rowCount(), 10);
        QTRY_VERIFY(load->isEnabled());
    }

    // ---- the user's NumPy data (the npz task) ----
    void loadingBadNumpyData_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("problem");
        const NumpyToy toy = numpyToy(60, 5, 3, 3);
        auto bad = [&](const char* tag, const std::function<void(std::map<std::string, std::string>&)>& edit) {
            auto members = npzMembers(toy);
            edit(members);
            const std::string file = freshFolder(tag) + "/data.npz";
            writeNpz(file, members);
            return qPath(file);
        };
        using M = std::map<std::string, std::string>;
        QTest::newRow("no y") << bad("npz-no-y", [](M& m) { m.erase("y"); }) << "no array 'y'";
        QTest::newRow("NaN in x") << bad("npz-nan", [&](M& m) {
            std::vector<float> x = toy.x;
            x[5] = std::nanf("");
            m["x"] = npyFloats(x, {toy.n, toy.t, toy.f});
        }) << "non-finite value";
        QTest::newRow("one class") << bad("npz-one-class", [&](M& m) {
            m["y"] = npyLabels(std::vector<int64_t>(size_t(toy.n), 2));
        }) << "at least 2";
        QTest::newRow("a sequence of length 0") << bad("npz-lengths", [&](M& m) {
            std::vector<int64_t> lengths(size_t(toy.n), 5);
            lengths[0] = 0;
            m["lengths"] = npyLabels(lengths);
        }) << "lengths[0] = 0 is outside 1..5";
        {
            const std::string file = freshFolder("npz-cut") + "/data.npz";
            const std::string bytes = makeNpz(npzMembers(toy));
            writeBytes(file, bytes.substr(0, bytes.size() / 3));
            QTest::newRow("corrupt zip") << qPath(file) << "not a valid .npz (zip) file";
        }
    }

    // The window keeps the good data it had when a bad file is loaded, and says why in a dialog.
    void loadingBadNumpyData() {
        QFETCH(QString, file);
        QFETCH(QString, problem);
        const std::string good = freshFolder("npz-good") + "/good.npz";
        writeNpz(good, npzMembers(numpyToy(60, 5, 3, 3)));
        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* combo = child<QComboBox>(w, "taskCombo");
        combo->setCurrentIndex(combo->findData(QStringLiteral("npz")));
        auto* path = child<QLineEdit>(w, "dataPath");
        auto* load = child<QPushButton>(w, "loadButton");
        path->setText(qPath(good));
        QSignalSpy loaded(w.controller(), &ui::BaselineController::dataLoaded);
        QTest::mouseClick(load, Qt::LeftButton);
        QVERIFY(loaded.wait(30000));
        QTRY_VERIFY(load->isEnabled());
        const QString header = child<QLabel>(w, "dataHeader")->text();
        QCOMPARE(child<QTableWidget>(w, "classTable")->rowCount(), 3);

        DialogCatcher catcher;
        path->setText(file);
        QSignalSpy failed(w.controller(), &ui::BaselineController::failed);
        QTest::mouseClick(load, Qt::LeftButton);
        QVERIFY(failed.wait(30000));
        QTRY_VERIFY2(!catcher.seen().isEmpty(), "no error dialog");
        logDialogs(catcher);
        QVERIFY2(dialogSays(catcher, QStringLiteral("Cannot use this input"), {file, problem}), catcher.describe());
        QCOMPARE(child<QLabel>(w, "dataHeader")->text(), header);
        QCOMPARE(child<QTableWidget>(w, "classTable")->rowCount(), 3);
        QTRY_VERIFY(load->isEnabled());
    }

    // ---- a model trained elsewhere that cannot be imported ----
    void importingBadModels_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("problem");
        const NamedTensors good = gruStateDict(patternedWeights(3, 4, 3));
        auto bad = [&](const char* tag, const std::string& bytes) {
            const std::string file = freshFolder(tag) + "/model.pt";
            writeBytes(file, bytes);
            return qPath(file);
        };
        auto edited = [&](const std::function<void(NamedTensors&)>& edit) {
            NamedTensors t = good;
            edit(t);
            return torchSaveFile(t);
        };
        QTest::newRow("not a model") << bad("model-garbage", std::string(200, 'q')) << "not a model file gruq reads";
        QTest::newRow("other class count") << bad("model-classes", torchSaveFile(gruStateDict(patternedWeights(3, 4, 5))))
                                           << "the model has 5 outputs, the data have 3 classes";
        // Stacks of 1..3 layers import; one whose second layer has another hidden size does not.
        QTest::newRow("stacked GRU, layer sizes disagree") << bad("model-stacked", edited([](NamedTensors& t) {
            t.push_back({"gru.weight_ih_l1", {12, 4}, std::vector<float>(48, 0.0f)});
            t.push_back({"gru.weight_hh_l1", {15, 5}, std::vector<float>(75, 0.0f)});
        })) << "do not fit layer 0's hidden size 4";
        QTest::newRow("stacked GRU, 4 layers") << bad("model-4-layers", edited([](NamedTensors& t) {
            for (int k = 1; k <= 3; ++k) {
                t.push_back({"gru.weight_ih_l" + std::to_string(k), {12, 4}, std::vector<float>(48, 0.0f)});
                t.push_back({"gru.weight_hh_l" + std::to_string(k), {12, 4}, std::vector<float>(48, 0.0f)});
            }
        })) << "a GRU of 4 stacked layers (num_layers=4";
        QTest::newRow("bidirectional GRU") << bad("model-reverse", edited([](NamedTensors& t) {
            t.push_back({"gru.weight_ih_l0_reverse", {12, 3}, std::vector<float>(36, 0.0f)});
        })) << "bidirectional GRU";
        QTest::newRow("truncated file") << bad("model-cut", torchSaveFile(good).substr(0, 300)) << "not a valid PyTorch (zip) file";
    }

    // The good model's baseline stays on screen; the bad file gets a dialog naming it and the problem.
    void importingBadModels() {
        QFETCH(QString, file);
        QFETCH(QString, problem);
        const std::string dir = freshFolder("model-good");
        writeNpz(dir + "/data.npz", npzMembers(numpyToy(60, 5, 3, 3)));
        writeBytes(dir + "/model.pt", torchSaveFile(gruStateDict(patternedWeights(3, 4, 3))));
        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* combo = child<QComboBox>(w, "taskCombo");
        combo->setCurrentIndex(combo->findData(QStringLiteral("npz")));
        child<QLineEdit>(w, "dataPath")->setText(qPath(dir + "/data.npz"));
        auto* model = child<QLineEdit>(w, "modelPath");
        model->setText(qPath(dir + "/model.pt"));
        auto* importButton = child<QPushButton>(w, "trainButton");
        QSignalSpy ready(w.controller(), &ui::BaselineController::baselineReady);
        QTest::mouseClick(importButton, Qt::LeftButton);
        QVERIFY(ready.wait(30000));
        QTRY_VERIFY(importButton->isEnabled());
        const QString baseline = child<QLabel>(w, "baselineLabel")->text();
        QVERIFY2(baseline.contains(QStringLiteral("imported")), qPrintable(baseline));

        DialogCatcher catcher;
        model->setText(file);
        QSignalSpy failed(w.controller(), &ui::BaselineController::failed);
        QTest::mouseClick(importButton, Qt::LeftButton);
        QVERIFY(failed.wait(30000));
        QTRY_VERIFY2(!catcher.seen().isEmpty(), "no error dialog");
        logDialogs(catcher);
        QVERIFY2(dialogSays(catcher, QStringLiteral("Cannot use this input"), {file, problem}), catcher.describe());
        QCOMPARE(child<QLabel>(w, "baselineLabel")->text(), baseline);
        QTRY_VERIFY(importButton->isEnabled());
    }

    // The window remembers the task and file it last loaded; the rows after these start from the defaults.
    void forgetTheNumpyTask() { QSettings().clear(); }

    // ---- front export to a destination that cannot take it ----
    void exportingTheFrontWhereItCannotBeWritten_data() {
        QTest::addColumn<QString>("fault");
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QString>("problem");
        QTest::newRow("read-only folder (CSV)") << "read-only" << "front.csv" << "Permission denied";
        QTest::newRow("read-only folder (JSON)") << "read-only" << "front.json" << "Permission denied";
        // MainWindow::exportFront writes with core's saveIndividuals (temp file + rename).
        QTest::newRow("full disk (CSV)") << "full" << "front.csv" << "File too large";
        QTest::newRow("full disk (JSON)") << "full" << "front.json" << "File too large";
        QTest::newRow("a folder in the way") << "folder" << "front.csv" << "";
        QTest::newRow("path under a file") << "under-file" << "front.csv" << "";
    }

    // What exportFront should write with (core's temp file + rename): an earlier file survives a full
    // disk and a read-only folder, and the message gives the system's reason.
    void savingIndividualsKeepsTheEarlierFile() {
        const std::string dir = freshFolder("save");
        const std::string target = dir + "/front.json";
        const auto rows = SearchArchive::open(archive_, /*readOnly=*/true).individuals();
        saveIndividuals(target, rows);
        const std::string earlier = readBytes(target);
        QVERIFY(earlier.size() > 100);
        for (const char* fault : {"full", "read-only"}) {
            QString message;
            try {
                if (fault == std::string("full")) {
                    FileSizeLimit full(16);
                    saveIndividuals(target, {rows.front()});
                } else {
                    ::chmod(dir.c_str(), 0555);
                    UnprivilegedFiles asNobody;
                    saveIndividuals(target, {rows.front()});
                }
            } catch (const InputError& e) {
                message = QString::fromStdString(e.what());
            }
            ::chmod(dir.c_str(), 0777);
            QVERIFY2(message.contains(qPath(target)), qPrintable(message));
            QVERIFY2(message.contains(fault == std::string("full") ? "File too large" : "Permission denied"),
                     qPrintable(message));
            QVERIFY(readBytes(target) == earlier);
            QCOMPARE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1L);
        }
    }

    void exportingTheFrontWhereItCannotBeWritten() {
        QFETCH(QString, fault);
        QFETCH(QString, fileName);
        QFETCH(QString, problem);
        const std::string dir = freshFolder("front");
        std::string target = dir + "/" + fileName.toStdString();
        ui::MainWindow w;
        openGood(w);
        // An earlier, good export at the destination.
        QVERIFY(w.exportFront(qPath(target)));
        const std::string earlier = readBytes(target);
        QVERIFY(earlier.size() > 100);
        if (fault == QStringLiteral("folder")) {
            target = dir + "/" + fileName.toStdString() + ".d";
            makeFolder(target);
        } else if (fault == QStringLiteral("under-file")) {
            target += "/front.csv";
        }

        DialogCatcher catcher;
        bool exported = true;
        {
            // Holding the archive open keeps SQLite's shared-memory file in place, so the fault hits the
            // destination and not the archive the export reads.
            const SearchArchive reader = SearchArchive::open(archive_, /*readOnly=*/true);
            if (fault == QStringLiteral("read-only")) {
                ::chmod(dir.c_str(), 0555);
                UnprivilegedFiles asNobody;
                exported = w.exportFront(qPath(target));
            } else if (fault == QStringLiteral("full")) {
                FileSizeLimit full(16);
                exported = w.exportFront(qPath(target));
            } else {
                exported = w.exportFront(qPath(target));
            }
            ::chmod(dir.c_str(), 0777);
        }
        QVERIFY(!exported);
        QTRY_VERIFY2(!catcher.seen().isEmpty(), "no error dialog");
        logDialogs(catcher);
        const QString shown = fault == QStringLiteral("under-file") || fault == QStringLiteral("folder") ? qPath(target) : fileName;
        QStringList parts = {shown};
        if (!problem.isEmpty()) parts << problem;
        QVERIFY2(dialogSays(catcher, QStringLiteral("Cannot export"), parts), catcher.describe());
        QCOMPARE(w.archivePath(), qPath(archive_));
        QCOMPARE(w.paretoPlot()->pointCount(), 7);
        // The earlier export is intact and nothing half-written sits beside it.
        QVERIFY(readBytes(dir + "/" + fileName.toStdString()) == earlier);
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
        const bool onlyTheExport = fault == QStringLiteral("folder") ? names.size() == 2 : names.size() == 1;
        QVERIFY2(onlyTheExport, qPrintable(QStringLiteral("files in the folder: %1").arg(names.size())));
    }

    // ---- a chosen scheme that cannot be exported or fine-tuned ----
    void actingOnASchemeThatCannotBe_data() {
        QTest::addColumn<QString>("action");   // export / finetune
        QTest::addColumn<QString>("sql");      // applied to a copy of the good archive
        QTest::addColumn<qint64>("id");
        QTest::addColumn<QString>("title");
        QTest::addColumn<QString>("problem");
        QTest::newRow("export: damaged stored model")
            << "export" << "INSERT INTO models(id, blob) VALUES(1, x'4752555102')" << qint64(1) << "Cannot export #1"
            << "(stored model of #1): only 5 bytes";
        QTest::newRow("export: fine-tuned copy without its model")
            << "export"
            << "UPDATE individuals SET source_id=1, fine_tune='{\"epochs_planned\": 10, \"epochs_run\": 2, "
               "\"best_epoch\": 1, \"patience\": 3, \"learning_rate\": 0.0005, \"status\": \"finished\"}' WHERE id=2"
            << qint64(2) << "Cannot export #2" << "the model of fine-tuned #2 is missing; fine-tune #1 again";
        // The fixture's float model identity is not the data's: as if the data changed since the search.
        QTest::newRow("finetune: data changed since the search")
            << "finetune" << "SELECT 1" << qint64(1) << "Cannot fine-tune #1" << "changed since this search ran";
    }

    void actingOnASchemeThatCannotBe() {
        QFETCH(QString, action);
        QFETCH(QString, sql);
        QFETCH(qint64, id);
        QFETCH(QString, title);
        QFETCH(QString, problem);
        const std::string archive = freshFolder("scheme") + "/run.gruq";
        fs::copy_file(archive_, archive);
        sqlExec(archive, sql.toUtf8().constData());
        ui::MainWindow w;
        QVERIFY(w.openArchive(qPath(archive)));
        const int points = w.paretoPlot()->pointCount();
        DialogCatcher catcher;
        if (action == QStringLiteral("export")) {
            w.exportFirmware(id, QString::fromStdString(freshFolder("scheme-fw")) + QStringLiteral("/fw"));
            QTRY_VERIFY(!w.exportController()->isBusy());
        } else {
            w.setFineTuneChooser([](const ui::IndividualRow&) { return std::optional<ui::FineTuneChoice>(ui::FineTuneChoice{}); });
            w.fineTuneIndividual(id);
            QTRY_VERIFY_WITH_TIMEOUT(!w.fineTuneController()->isBusy(), 60000);
        }
        QTRY_VERIFY2(!catcher.seen().isEmpty(), "no error dialog");
        logDialogs(catcher);
        QVERIFY2(dialogSays(catcher, title, {qPath(archive), problem}), catcher.describe());
        QCOMPARE(w.paretoPlot()->pointCount(), points);  // nothing shown was lost
        QCOMPARE(SearchArchive::open(archive, true).individualCount(), int64_t(7));
    }
};

QTEST_MAIN(TestBadInputGui)
#include "test_bad_input_gui.moc"
