// Drives the real main window offscreen: loads a task's data, trains the float baseline on a worker
// thread while the GUI stays live, shows the result, and reports a bad data folder as a dialog.
#include "baseline_controller.h"
#include "main_window.h"
#include "test_support.h"

#include <QtTest>
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTableWidget>

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

    void settingsAreRemembered() {
        {
            ui::MainWindow w;
            child<QSpinBox>(w, "hiddenSize")->setValue(96);
            w.close();
        }
        ui::MainWindow w2;
        QCOMPARE(child<QSpinBox>(w2, "hiddenSize")->value(), 96);
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
