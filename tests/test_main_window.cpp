// Drives the real main window offscreen: loads a task's data, trains the float baseline on a worker
// thread while the GUI stays live, shows the result, and reports a bad data folder as a dialog; runs a
// search live, inspects a point and exports it as firmware through the inspector's button.
#include "baseline_controller.h"
#include "export_controller.h"
#include "cell_diagram.h"
#include "fine_tune_controller.h"
#include "genes_view.h"
#include "gruq/base/process_identity.h"
#include "gruq/export/blob.h"
#include "gruq/search/archive.h"
#include "main_window.h"
#include "pareto_plot.h"
#include "scheme_inspector.h"
#include "search_controller.h"
#include "search_settings_panel.h"
#include "numpy_test_support.h"
#include "torch_save_test_support.h"
#include "test_support.h"
#include "search_test_support.h"
#include "gruq/search/search.h"

#include <qcustomplot.h>

#include <QtTest>
#include <QAction>
#include <QLocale>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTimer>

using namespace gruq;

class TestMainWindow : public QObject {
    Q_OBJECT
    QTemporaryDir dataDir_, home_;

    template <typename T>
    static T* child(QWidget& w, const char* name) {
        T* c = w.findChild<T*>(QString::fromLatin1(name));
        if (!c) qFatal("missing child %s", name);
        return c;
    }

private slots:
    void initTestCase() {
        // Keep QSettings and the model cache inside the test's own folders.
        qputenv("XDG_CONFIG_HOME", (home_.path() + "/config").toUtf8());
        qputenv("GRUQ_CACHE_DIR", (home_.path() + "/cache").toUtf8());
        QCoreApplication::setOrganizationName(QStringLiteral("gruq-test"));
        QCoreApplication::setApplicationName(QStringLiteral("gruq-test"));
        QSettings().clear();
        test::writeTinyMnist(dataDir_.path().toStdString(), 300, 100, true);
    }

    void loadsDataAndTrainsBaseline() {
        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* combo = child<QComboBox>(w, "taskCombo");
        QCOMPARE(combo->currentData().toString(), QStringLiteral("smnist-row"));  // the default task
        child<QLineEdit>(w, "dataPath")->setText(dataDir_.path());
        child<QSpinBox>(w, "hiddenSize")->setValue(8);
        child<QSpinBox>(w, "epochs")->setValue(3);

        QSignalSpy loaded(w.controller(), &ui::BaselineController::dataLoaded);
        QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
        QVERIFY(loaded.wait(30000));
        auto* table = child<QTableWidget>(w, "classTable");
        QCOMPARE(table->rowCount(), 10);
        QCOMPARE(table->item(0, 1)->text().toInt() + table->item(0, 2)->text().toInt(), 30);  // 300 images, 10 classes

        QTRY_VERIFY(child<QPushButton>(w, "trainButton")->isEnabled());  // enabled again once the load ends
        QSignalSpy ready(w.controller(), &ui::BaselineController::baselineReady);
        QSignalSpy epochs(w.controller(), &ui::BaselineController::epochFinished);
        QTest::mouseClick(child<QPushButton>(w, "trainButton"), Qt::LeftButton);
        QVERIFY(!child<QPushButton>(w, "trainButton")->isEnabled());  // busy while the worker trains
        QVERIFY(ready.wait(60000));
        QCOMPARE(epochs.count(), 3);
        QVERIFY(child<QLabel>(w, "baselineLabel")->text().contains(QStringLiteral("F28-H8-C10")));
        QTRY_VERIFY(child<QPushButton>(w, "trainButton")->isEnabled());

        // Training again hits the cache; so does merely loading the data.
        QSignalSpy again(w.controller(), &ui::BaselineController::baselineReady);
        QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
        QVERIFY(again.wait(30000));
        QVERIFY(again.takeFirst().at(0).value<ui::BaselineResult>().fromCache);

        // Two stacked layers: the Layers box trains a 2-layer float model (another cache entry).
        auto* layers = child<QSpinBox>(w, "layers");
        QCOMPARE(layers->maximum(), 3);
        QCOMPARE(child<QSpinBox>(w, "hiddenSize")->maximum(), 256);
        layers->setValue(2);
        QCOMPARE(child<QComboBox>(w, "layoutCombo")->itemText(0), QStringLiteral("default17 (31 genes)"));
        QSignalSpy stacked(w.controller(), &ui::BaselineController::baselineReady);
        QTest::mouseClick(child<QPushButton>(w, "trainButton"), Qt::LeftButton);
        QVERIFY(stacked.wait(60000));
        QVERIFY(!stacked.takeFirst().at(0).value<ui::BaselineResult>().fromCache);
        QVERIFY(child<QLabel>(w, "baselineLabel")->text().contains(QStringLiteral("F28-H8x2-C10")));
        layers->setValue(1);
        w.close();  // remembers one layer for the tests after this one
    }

    void badFolderShowsADialogNamingIt() {
        ui::MainWindow w;
        w.show();
        const QString missing = dataDir_.path() + QStringLiteral("/no-such-folder");
        child<QLineEdit>(w, "dataPath")->setText(missing);
        QSignalSpy failed(w.controller(), &ui::BaselineController::failed);
        QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
        QVERIFY(failed.wait(30000));
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr);
        QVERIFY(box->text().contains(missing));
        box->accept();
    }

    // "Your data (.npz)...": the task box offers it, the path row asks for a file, the Data tab shows
    // the file's classes and balance, a float model trains on it, and a damaged file is a dialog.
    void yourOwnNumpyData() {
        const std::string file = (home_.path() + QStringLiteral("/sensors.npz")).toStdString();
        auto members = test::npzMembers(test::numpyToy(90, 6, 3, 3));
        members["class_names"] = makeNpy("<U5", {3}, test::rawBytes(std::vector<uint32_t>{'i', 'd', 'l', 'e', 0, 'w', 'a', 'l', 'k', 0, 'r', 'u', 'n', 0, 0}));
        test::writeNpz(file, members, /*deflate=*/true);

        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* combo = child<QComboBox>(w, "taskCombo");
        const int index = combo->findData(QStringLiteral("npz"));
        QVERIFY(index >= 0);
        QCOMPARE(combo->itemText(index), QStringLiteral("Your data (.npz)..."));
        combo->setCurrentIndex(index);
        QCOMPARE(child<QLabel>(w, "dataPathLabel")->text(), QStringLiteral("&Data file"));
        QVERIFY(child<QLineEdit>(w, "dataPath")->placeholderText().contains(QStringLiteral(".npz")));
        child<QLineEdit>(w, "dataPath")->setText(QString::fromStdString(file));
        child<QLineEdit>(w, "modelPath")->clear();  // trained here
        child<QSpinBox>(w, "hiddenSize")->setValue(8);
        child<QSpinBox>(w, "epochs")->setValue(2);

        QSignalSpy loaded(w.controller(), &ui::BaselineController::dataLoaded);
        QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
        QVERIFY(loaded.wait(30000));
        auto* table = child<QTableWidget>(w, "classTable");
        QCOMPARE(table->rowCount(), 3);
        QVERIFY2(table->item(1, 0)->text().contains(QStringLiteral("walk")), qPrintable(table->item(1, 0)->text()));
        // 30 sequences per class: 6 to test, 2 to validation, 22 to training.
        QCOMPARE(table->item(0, 1)->text().toInt(), 22);
        QTRY_VERIFY(child<QPushButton>(w, "trainButton")->isEnabled());
        QSignalSpy ready(w.controller(), &ui::BaselineController::baselineReady);
        QTest::mouseClick(child<QPushButton>(w, "trainButton"), Qt::LeftButton);
        QVERIFY(ready.wait(60000));
        QVERIFY(child<QLabel>(w, "baselineLabel")->text().contains(QStringLiteral("F3-H8-C3")));

        // The same file without y: a dialog naming the file and what is missing.
        members.erase("y");
        const std::string bad = (home_.path() + QStringLiteral("/no-labels.npz")).toStdString();
        test::writeNpz(bad, members);
        child<QLineEdit>(w, "dataPath")->setText(QString::fromStdString(bad));
        QTRY_VERIFY(child<QPushButton>(w, "loadButton")->isEnabled());
        QSignalSpy failed(w.controller(), &ui::BaselineController::failed);
        QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
        QVERIFY(failed.wait(30000));
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr);
        const QString text = box->text() + box->informativeText();
        QVERIFY2(text.contains(QString::fromStdString(bad)) && text.contains(QStringLiteral("no array 'y'")), qPrintable(text));
        box->accept();
    }

    // A GRU trained elsewhere (a torch.save state_dict) imported instead of trained, from the settings panel.
    void yourOwnModel() {
        const QString data = home_.path() + QStringLiteral("/sensors-for-model.npz");
        test::writeNpz(data.toStdString(), test::npzMembers(test::numpyToy(90, 6, 3, 3)));
        const QString model = home_.path() + QStringLiteral("/model.pt");
        const QString wrong = home_.path() + QStringLiteral("/seven-classes.pt");
        test::writeBytes(model.toStdString(), test::torchSaveFile(test::gruStateDict(test::patternedWeights(3, 5, 3))));
        test::writeBytes(wrong.toStdString(), test::torchSaveFile(test::gruStateDict(test::patternedWeights(3, 5, 7))));

        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        auto* combo = child<QComboBox>(w, "taskCombo");
        combo->setCurrentIndex(combo->findData(QStringLiteral("smnist-row")));
        QVERIFY(!child<QLineEdit>(w, "modelPath")->isVisible());  // built-in tasks train their own model
        combo->setCurrentIndex(combo->findData(QStringLiteral("npz")));
        QVERIFY(child<QLineEdit>(w, "modelPath")->isVisible() && child<QLineEdit>(w, "testPath")->isVisible());
        child<QLineEdit>(w, "dataPath")->setText(data);
        QVERIFY(child<QCheckBox>(w, "normalizeCheck")->isEnabled());
        child<QLineEdit>(w, "modelPath")->setText(model);
        QVERIFY(!child<QSpinBox>(w, "hiddenSize")->isEnabled());
        QVERIFY(!child<QCheckBox>(w, "normalizeCheck")->isEnabled() && !child<QCheckBox>(w, "normalizeCheck")->isChecked());
        QCOMPARE(child<QPushButton>(w, "trainButton")->text(), QStringLiteral("&Import model"));

        QSignalSpy ready(w.controller(), &ui::BaselineController::baselineReady);
        QTest::mouseClick(child<QPushButton>(w, "loadButton"), Qt::LeftButton);
        QVERIFY(ready.wait(30000));  // loading the data imports the model at once: nothing to train
        const QString label = child<QLabel>(w, "baselineLabel")->text();
        QVERIFY2(label.contains(QStringLiteral("F3-H5-C3")) && label.contains(QStringLiteral("imported PyTorch state_dict")),
                 qPrintable(label));

        // A model for seven classes on three-class data: a dialog naming the model file and the mismatch.
        child<QLineEdit>(w, "modelPath")->setText(wrong);
        QTRY_VERIFY(child<QPushButton>(w, "trainButton")->isEnabled());
        QSignalSpy failed(w.controller(), &ui::BaselineController::failed);
        QTest::mouseClick(child<QPushButton>(w, "trainButton"), Qt::LeftButton);
        QVERIFY(failed.wait(30000));
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr);
        const QString text = box->text() + box->informativeText();
        QVERIFY2(text.contains(wrong) && text.contains(QStringLiteral("7 outputs, the data have 3 classes")), qPrintable(text));
        box->accept();
    }

    // The window remembers the task and file it last loaded; later tests start from the defaults.
    void forgetTheNumpyTask() { QSettings().clear(); }

    void searchRunsLiveAndPointsCanBeInspected() {
        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        child<QLineEdit>(w, "dataPath")->setText(dataDir_.path());
        child<QSpinBox>(w, "hiddenSize")->setValue(8);
        child<QSpinBox>(w, "epochs")->setValue(3);
        child<QSpinBox>(w, "population")->setValue(8);
        child<QSpinBox>(w, "generations")->setValue(2);
        child<QSpinBox>(w, "qatSamples")->setValue(64);
        child<QSpinBox>(w, "workers")->setValue(1);
        const QString archive = home_.path() + QStringLiteral("/live.gruq");

        // Measure how long the GUI thread is ever blocked while the search runs.
        QElapsedTimer clock;
        qint64 last = 0, longestStall = 0;
        QTimer ticker;
        connect(&ticker, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            longestStall = std::max(longestStall, now - last);
            last = now;
        });
        QSignalSpy evaluated(w.searchController(), &ui::SearchController::individualEvaluated);
        QSignalSpy finished(w.searchController(), &ui::SearchController::finished);
        clock.start();
        ticker.start(5);
        w.startSearch(archive);
        QVERIFY(w.searchController()->isBusy());
        QVERIFY(!child<QPushButton>(w, "startButton")->isEnabled());
        // Points appear while the search is still running.
        QTRY_VERIFY_WITH_TIMEOUT(w.paretoPlot()->pointCount() >= 3, 60000);
        QVERIFY(finished.isEmpty());
        QVERIFY(finished.wait(120000));
        ticker.stop();
        qInfo("longest GUI event-loop stall during the search: %lld ms (goal < 100 ms)", longestStall);
        QVERIFY(!finished.first().at(0).toBool());  // not cancelled
        QTRY_VERIFY(!w.searchController()->isBusy());
        QCOMPARE(w.paretoPlot()->pointCount(), int(SearchArchive::open(archive.toStdString(), true).individualCount()));
        QVERIFY(!w.paretoPlot()->frontIds().isEmpty());

        // Click a front point at its pixel position: the inspector shows that genome.
        const qint64 target = w.paretoPlot()->frontIds().constLast();
        const QPoint pixel = w.paretoPlot()->plot()->mapFrom(w.paretoPlot(), w.paretoPlot()->pixelOf(target).toPoint());
        QTest::mouseClick(w.paretoPlot()->plot(), Qt::LeftButton, Qt::NoModifier, pixel);
        QCOMPARE(w.paretoPlot()->selectedId(), target);
        QCOMPARE(w.inspector()->currentId(), target);
        const auto stored = SearchArchive::open(archive.toStdString(), true).individual(target);
        QVERIFY(stored.has_value());
        QLabel* header = w.inspector()->findChild<QLabel*>(QStringLiteral("headerLabel"));
        QVERIFY(header);
        QVERIFY2(header->text().contains(QString::fromStdString(stored->genome)), qPrintable(header->text()));
        QTableWidget* genes = w.inspector()->findChild<QTableWidget*>(QStringLiteral("geneTable"));
        QVERIFY(genes);
        QCOMPARE(genes->rowCount(), 17);
        for (int i = 0; i < 17; ++i) QCOMPARE(genes->item(i, 1)->data(Qt::UserRole).toInt(), stored->genes[size_t(i)]);

        // Export that point as firmware from the inspector's button: a folder is chosen,
        // the model is rebuilt on a worker thread, and a summary dialog reports the written folder.
        const QString firmwareDir = home_.path() + QStringLiteral("/firmware");
        QDir().mkpath(firmwareDir);
        // The folder dialog is the one part not driven here (a native dialog may block offscreen): the
        // window asks its chooser, which the test replaces.
        qint64 askedFor = -1;
        w.setExportFolderChooser([&](qint64 id) {
            askedFor = id;
            return firmwareDir;
        });
        QTest::mouseClick(child<QPushButton>(*w.inspector(), "exportButton"), Qt::LeftButton);
        QMessageBox* exportDone = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((exportDone = w.findChild<QMessageBox*>(QStringLiteral("exportDoneDialog"))) != nullptr, 60000);
        QCOMPARE(askedFor, target);
        QVERIFY2(exportDone->text().contains(firmwareDir), qPrintable(exportDone->text()));
        exportDone->accept();
        const BlobContents blob = readBlobFile((firmwareDir + QStringLiteral("/model.bin")).toStdString());
        QCOMPARE(blob.genome.toText(), stored->genome);
        QVERIFY(QFileInfo::exists(firmwareDir + QStringLiteral("/gruq_runtime.c")));
        QTRY_VERIFY(!w.exportController()->isBusy());
        // A folder that cannot be created: a dialog naming it, nothing else disturbed.
        const QString blocker = home_.path() + QStringLiteral("/not-a-folder");
        test::writeBytes(blocker.toStdString(), "x");
        w.exportFirmware(target, blocker + QStringLiteral("/sub"));
        QMessageBox* error = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((error = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr, 60000);
        QVERIFY2(error->text().contains(QStringLiteral("not-a-folder")) ||
                     error->informativeText().contains(QStringLiteral("not-a-folder")),
                 qPrintable(error->text() + error->informativeText()));
        error->accept();
        QTRY_VERIFY(!w.exportController()->isBusy());

        // Stop a longer search part-way, reopen its archive, resume it to the end.
        child<QSpinBox>(w, "generations")->setValue(4);
        const QString second = home_.path() + QStringLiteral("/stopped.gruq");
        QSignalSpy stoppedSpy(w.searchController(), &ui::SearchController::finished);
        w.startSearch(second);
        QTRY_VERIFY_WITH_TIMEOUT(w.paretoPlot()->pointCount() >= 10, 60000);
        QTest::mouseClick(child<QPushButton>(w, "stopButton"), Qt::LeftButton);
        QVERIFY(stoppedSpy.wait(60000));
        QVERIFY(stoppedSpy.first().at(0).toBool());  // cancelled
        QTRY_VERIFY(!w.searchController()->isBusy());
        const int64_t kept = SearchArchive::open(second.toStdString(), true).individualCount();
        QVERIFY(kept >= 10);

        ui::MainWindow reopened;
        QVERIFY(reopened.openArchive(second));
        QCOMPARE(reopened.paretoPlot()->pointCount(), int(kept));
        QSignalSpy resumedSpy(reopened.searchController(), &ui::SearchController::finished);
        reopened.resumeSearch();
        QVERIFY(resumedSpy.wait(120000));
        QVERIFY(!resumedSpy.first().at(0).toBool());
        const SearchArchive done = SearchArchive::open(second.toStdString(), true);
        QCOMPARE(done.state("status").value_or(""), std::string("finished"));
        QCOMPARE(reopened.paretoPlot()->pointCount(), int(done.individualCount()));

        // Exports.
        QVERIFY(reopened.exportFront(home_.path() + QStringLiteral("/front.csv")));
        QVERIFY(reopened.exportFront(home_.path() + QStringLiteral("/front.json")));
        QVERIFY(reopened.exportPlot(home_.path() + QStringLiteral("/plot.png")));
        QVERIFY(QFileInfo(home_.path() + QStringLiteral("/plot.png")).size() > 1000);
        QFile csv(home_.path() + QStringLiteral("/front.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csv.readAll()).count(QLatin1Char('\n')), reopened.paretoPlot()->frontIds().size() + 1);
    }

    // Fine-tune from the inspector: the copy appears as its own point with an arrow from its source and
    // is selected when done; the button stops a running one (its best epoch stays); an archive shown
    // read-only while another process writes it is refused with a dialog.
    void fineTuneFromTheInspector() {
        const QString archive = home_.path() + QStringLiteral("/live.gruq");  // searchRunsLiveAndPointsCanBeInspected's
        QVERIFY(QFileInfo::exists(archive));
        ui::MainWindow w;
        w.show();
        QVERIFY(w.openArchive(archive));
        const qint64 source = w.paretoPlot()->frontIds().constLast();
        w.selectIndividual(source);
        QPushButton* button = child<QPushButton>(*w.inspector(), "fineTuneButton");
        QCOMPARE(button->text(), QStringLiteral("Fine-tune…"));
        ui::FineTuneChoice choice{3, 1};
        qint64 askedFor = -1;
        w.setFineTuneChooser([&](const ui::IndividualRow& row) {
            askedFor = row.id;
            return std::optional<ui::FineTuneChoice>(choice);
        });
        QSignalSpy finished(w.fineTuneController(), &ui::FineTuneController::finished);
        QTest::mouseClick(button, Qt::LeftButton);
        QCOMPARE(askedFor, source);
        QTRY_COMPARE(button->text(), QStringLiteral("Stop fine-tune"));
        QVERIFY(finished.wait(120000));
        QTRY_VERIFY(!w.fineTuneController()->isBusy());
        QCOMPARE(button->text(), QStringLiteral("Fine-tune…"));
        const qint64 tuned = finished.first().at(0).toLongLong();
        const ArchivedIndividual stored = SearchArchive::open(archive.toStdString(), true).individual(tuned).value();
        QCOMPARE(stored.sourceId, source);
        QCOMPARE(w.paretoPlot()->fineTuneArrowCount(), 1);
        QVERIFY(w.paretoPlot()->contains(tuned));
        QVERIFY(!w.paretoPlot()->frontIds().contains(tuned));
        QCOMPARE(w.inspector()->currentId(), tuned);  // selected: Export firmware… now exports it
        const QString header = child<QLabel>(*w.inspector(), "headerLabel")->text();
        QVERIFY2(header.contains(QStringLiteral("fine-tuned from #%1").arg(source)), qPrintable(header));

        // Stop a long one after its first stored epoch: the copy stays, marked cancelled.
        choice = {200, 200};
        QSignalSpy storedSpy(w.fineTuneController(), &ui::FineTuneController::stored);
        w.selectIndividual(source);
        QTest::mouseClick(button, Qt::LeftButton);
        QVERIFY(storedSpy.wait(120000));
        QTest::mouseClick(button, Qt::LeftButton);  // "Stop fine-tune"
        QTRY_VERIFY_WITH_TIMEOUT(!w.fineTuneController()->isBusy(), 60000);
        const qint64 stopped = storedSpy.last().at(0).value<ui::IndividualRow>().id;
        const ArchivedIndividual kept = SearchArchive::open(archive.toStdString(), true).individual(stopped).value();
        QCOMPARE(kept.fineTune.status, std::string("cancelled"));
        QVERIFY(kept.fineTune.epochsRun < 200);
        QCOMPARE(w.paretoPlot()->fineTuneArrowCount(), 2);

        // Followed read-only (another live process writes it): refused, the chooser is not even asked.
        const QString followed = home_.path() + QStringLiteral("/followed.gruq");
        QVERIFY(QFile::copy(archive, followed));
        {
            SearchArchive writer = SearchArchive::open(followed.toStdString());
            writer.setState("writer", thisProcessIdentity());
            writer.setState("status", "running");
        }
        ui::MainWindow viewer;
        viewer.show();
        QVERIFY(viewer.openArchive(followed));
        QTRY_VERIFY(viewer.isFollowing());
        askedFor = -1;
        viewer.setFineTuneChooser([&](const ui::IndividualRow& row) {
            askedFor = row.id;
            return std::optional<ui::FineTuneChoice>(choice);
        });
        viewer.selectIndividual(source);
        QTest::mouseClick(child<QPushButton>(*viewer.inspector(), "fineTuneButton"), Qt::LeftButton);
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = viewer.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr);
        QVERIFY2((box->text() + box->informativeText()).contains(QStringLiteral("read-only")), qPrintable(box->text()));
        QCOMPARE(askedFor, qint64(-1));
        QVERIFY(!viewer.fineTuneController()->isBusy());
        box->accept();
        viewer.stopFollowing();
    }

    // The Genes view: one row per front point by size, one column per gene coloured as in the inspector;
    // clicking a row selects that point everywhere, selecting a point elsewhere highlights its row.
    void genesViewShowsTheFrontAndSelects() {
        const QString archive = home_.path() + QStringLiteral("/live.gruq");
        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openArchive(archive));
        auto* views = child<QTabWidget>(w, "frontViews");
        views->setCurrentWidget(w.genesView());
        QTableWidget* table = w.genesView()->table();
        QTRY_VERIFY(table->isVisible());
        const QVector<qint64> front = w.paretoPlot()->frontIds();
        QCOMPARE(table->rowCount(), front.size());
        QVERIFY(front.size() >= 2);
        const SearchArchive stored = SearchArchive::open(archive.toStdString(), true);
        double lastSize = -1;
        for (int row = 0; row < table->rowCount(); ++row) {
            const qint64 id = w.genesView()->idOfRow(row);
            QVERIFY(front.contains(id));
            const ArchivedIndividual a = stored.individual(id).value();
            QVERIFY(a.sizeFraction >= lastSize);  // smallest first
            lastSize = a.sizeFraction;
            QCOMPARE(table->columnCount(), 3 + int(a.genes.size()));
            for (size_t g = 0; g < a.genes.size(); ++g) {
                QTableWidgetItem* item = table->item(row, 3 + int(g));
                QCOMPARE(item->data(Qt::UserRole).toInt(), a.genes[g]);
                QCOMPARE(item->background().color(), ui::CellDiagram::colourForBits(a.genes[g]));
            }
        }
        QCOMPARE(table->horizontalHeaderItem(3)->text(), QStringLiteral("x"));

        // Click the second row's mul_zn cell: the inspector and the plot follow.
        const int row = 1;
        const QRect rect = table->visualItemRect(table->item(row, 3 + 12));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, Qt::NoModifier, rect.center());
        const qint64 clicked = w.genesView()->idOfRow(row);
        QCOMPARE(w.inspector()->currentId(), clicked);
        QCOMPARE(w.paretoPlot()->selectedId(), clicked);
        // Selected elsewhere (the plot): the row follows, without selecting anything else.
        const qint64 other = w.genesView()->idOfRow(0);
        w.selectIndividual(other);
        QCOMPARE(table->selectedItems().first()->row(), 0);
        QCOMPARE(w.inspector()->currentId(), other);
        if (qEnvironmentVariableIsSet("GRUQ_SCREENSHOT_DIR")) {
            w.resize(1500, 900);
            QTest::qWait(200);
            w.grab().save(qEnvironmentVariable("GRUQ_SCREENSHOT_DIR") + QStringLiteral("/genes-view.png"));
        }
    }

    // A multi-fidelity search's stopped genomes: rings with a legend entry, an inspector header saying where
    // they stopped; the settings check box follows the archive and reaches the search settings.
    void multiFidelityArchiveShowsStoppedGenomes() {
        const test::TinySearchFolders folders(home_.path().toStdString() + "/mf");
        SearchSettings s = test::tinySearchSettings(folders.data, folders.cache);
        s.multiFidelity.gainNeighbours = 4;
        s.qat.samplesPerEpoch = 128;
        s.nsga2.generations = 3;
        const QString archive = home_.path() + QStringLiteral("/mf.gruq");
        runSearch(s, archive.toStdString());
        std::vector<ArchivedIndividual> stopped;
        for (const auto& a : SearchArchive::open(archive.toStdString(), true).individuals()) {
            if (a.isPartial()) stopped.push_back(a);
        }
        QVERIFY(!stopped.empty());

        ui::MainWindow w;
        w.show();
        QVERIFY(w.openArchive(archive));
        QCOMPARE(w.paretoPlot()->partialPointCount(), int(stopped.size()));
        QVERIFY(w.paretoPlot()->legendShows(QStringLiteral("stopped at the rung")));
        for (const auto& a : stopped) QVERIFY(!w.paretoPlot()->frontIds().contains(a.id));
        w.selectIndividual(stopped.front().id);
        QLabel* header = w.inspector()->findChild<QLabel*>(QStringLiteral("headerLabel"));
        QVERIFY2(header->text().contains(QStringLiteral("stopped at 25% of the QAT budget")), qPrintable(header->text()));
        QLabel* metrics = w.inspector()->findChild<QLabel*>(QStringLiteral("metricsLabel"));
        QVERIFY2(metrics->text().contains(QStringLiteral("* at the rung: after 25% of the QAT budget")), qPrintable(metrics->text()));
        const qint64 full = w.paretoPlot()->frontIds().constLast();
        w.selectIndividual(full);
        QVERIFY(!metrics->text().contains(QStringLiteral("at the rung")));

        QCheckBox* check = child<QCheckBox>(w, "multiFidelityCheck");
        QVERIFY(check->isChecked());
        check->setChecked(false);
        QVERIFY(!w.settingsPanel()->searchSettings().multiFidelity.enabled);
        check->setChecked(true);
        QCOMPARE(w.settingsPanel()->searchSettings().multiFidelity.gainNeighbours, 4);  // the archive's, kept
    }

    // A search under a flash budget with latency as a third objective: the plot greys the points over the
    // budget and draws the budget as a line, the latency axis shows instructions per step, the inspector
    // the instructions and their time at the budget's clock, and the settings panel shows what was asked.
    void budgetsAndLatencyAreShown() {
        const test::TinySearchFolders folders(home_.path().toStdString() + "/budget");
        SearchSettings s = test::tinySearchSettings(folders.data, folders.cache);
        const QString plain = home_.path() + QStringLiteral("/budget-free.gruq");
        const SearchResult free = runSearch(s, plain.toStdString());
        QVERIFY(free.front.size() >= 3);
        s.objectives.latency = true;
        s.objectives.maxFlashBytes = (free.front[free.front.size() / 2].sizeBits + 7) / 8;
        s.objectives.cpuMhz = 64;
        const QString archive = home_.path() + QStringLiteral("/budget.gruq");
        runSearch(s, archive.toStdString());
        int over = 0;
        std::vector<ArchivedIndividual> individuals = SearchArchive::open(archive.toStdString(), true).individuals();
        for (const auto& a : individuals) over += !a.baseline && !a.isFineTune() && !s.objectives.feasible(a);
        QVERIFY(over > 0);

        ui::MainWindow w;
        w.show();
        QVERIFY(w.openArchive(archive));
        ui::ParetoPlot* plot = w.paretoPlot();
        QCOMPARE(plot->infeasiblePointCount(), over);
        QVERIFY(plot->legendShows(QStringLiteral("over the budget")));
        QVERIFY(plot->budgetLineVisible());
        const ArchivedIndividual& any = individuals.front();
        QCOMPARE(plot->budgetLineX(), 100.0 * 8.0 * double(s.objectives.maxFlashBytes) / (double(any.sizeBits) / any.sizeFraction));
        for (const auto& a : individuals) {
            if (plot->frontIds().contains(a.id)) QVERIFY2(s.objectives.feasible(a), a.genome.c_str());
        }
        // The latency axis: x is thousands of instructions per step; no latency budget, so no line.
        QAction* latencyAxis = w.findChild<QAction*>(QStringLiteral("latencyAxisAction"));
        QVERIFY(latencyAxis);
        latencyAxis->trigger();
        QCOMPARE(plot->sizeAxis(), ui::ParetoPlot::SizeAxis::Latency);
        QVERIFY(!plot->budgetLineVisible());
        const qint64 first = plot->frontIds().constFirst();
        const auto it = std::find_if(individuals.begin(), individuals.end(), [&](const auto& a) { return a.id == first; });
        QVERIFY(plot->plot()->xAxis->range().contains(it->stepInstructions / 1000.0));
        // Colour by the third objective: size on the latency axis, latency on a size axis.
        QAction* colourByThird = w.findChild<QAction*>(QStringLiteral("colourByThirdAction"));
        QVERIFY(colourByThird);
        colourByThird->setChecked(true);
        QCOMPARE(plot->colourLabel(), QStringLiteral("size (% of the 8-bit model)"));
        w.findChild<QAction*>(QStringLiteral("latencyAxisAction"))->trigger();
        plot->setSizeAxis(ui::ParetoPlot::SizeAxis::PercentOf8Bit);
        QCOMPARE(plot->colourLabel(), QStringLiteral("latency (% of the 8-bit model's)"));
        colourByThird->setChecked(false);
        QCOMPARE(plot->colourLabel(), QStringLiteral("generation"));
        latencyAxis->trigger();
        w.selectIndividual(first);
        QLabel* metrics = w.inspector()->findChild<QLabel*>(QStringLiteral("metricsLabel"));
        const QString instructions = QLocale().toString(it->stepInstructions, 'f', 0);
        QVERIFY2(metrics->text().contains(instructions + QStringLiteral(" instructions per GRU step")), qPrintable(metrics->text()));
        QVERIFY2(metrics->text().contains(QStringLiteral("at 64 MHz")), qPrintable(metrics->text()));
        // An individual over the budget says so.
        const auto overOne = std::find_if(individuals.begin(), individuals.end(),
                                          [&](const auto& a) { return !a.baseline && !s.objectives.feasible(a); });
        w.selectIndividual(overOne->id);
        QVERIFY2(metrics->text().contains(QStringLiteral("Over the flash budget")), qPrintable(metrics->text()));
        // The settings panel shows the archive's objectives and budgets, and hands them back.
        QComboBox* objectives = child<QComboBox>(w, "objectivesCombo");
        QCOMPARE(objectives->currentData().toString(), QStringLiteral("error,flash,latency"));
        const SearchSettings back = w.settingsPanel()->searchSettings();
        QCOMPARE(back.objectives.maxFlashBytes, s.objectives.maxFlashBytes);
        QVERIFY(back.objectives.latency && back.objectives.flash);
        child<QSpinBox>(w, "maxFlash")->setValue(0);
        QCOMPARE(w.settingsPanel()->searchSettings().objectives.maxFlashBytes, int64_t(0));
    }

    void damagedArchiveShowsADialog() {
        ui::MainWindow w;
        w.show();
        const QString bad = home_.path() + QStringLiteral("/bad.gruq");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("this is not a search archive");
        f.close();
        QVERIFY(!w.openArchive(bad));
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr);
        QVERIFY(box->text().contains(bad));
        box->accept();
    }

    void settingsAreRemembered() {
        {
            ui::MainWindow w;
            child<QSpinBox>(w, "hiddenSize")->setValue(96);
            child<QSpinBox>(w, "layers")->setValue(3);
            child<QDoubleSpinBox>(w, "qatRangeTracking")->setValue(0.0);
            w.close();
        }
        ui::MainWindow w2;
        QCOMPARE(child<QSpinBox>(w2, "hiddenSize")->value(), 96);
        QCOMPARE(child<QSpinBox>(w2, "layers")->value(), 3);
        QCOMPARE(child<QDoubleSpinBox>(w2, "qatRangeTracking")->value(), 0.0);
        auto* panel = w2.findChild<ui::SearchSettingsPanel*>();
        QVERIFY(panel != nullptr);
        QCOMPARE(panel->searchSettings().qat.freezeRangesAfter, 0.0);  // the search gets it
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
