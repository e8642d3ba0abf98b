// Following an archive that another process writes (issue 9 item 4): the real main window, offscreen,
// opens the archive of a running `gruq-cli search` process and shows its new points as they are
// committed, read-only; opening never writes to the file; transient trouble is retried silently and a
// file that stays unreadable ends in one dialog; a writer killed mid-search ends following with a note
// (no dialog), and Resume is offered.
#include "archive_follower.h"
#include "gruq/search/archive.h"
#include "hypervolume_plot.h"
#include "main_window.h"
#include "pareto_plot.h"
#include "search_test_support.h"
#include "test_support.h"

#include <QtTest>
#include <QAction>
#include <QApplication>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QTimer>

#include <cstdio>
#include <optional>

using namespace gruq;

namespace {

// Contents and modification time of a file ("" / invalid when missing).
struct FileFingerprint {
    QByteArray sha;
    QDateTime modified;
    qint64 size = -1;
    bool operator==(const FileFingerprint& o) const { return sha == o.sha && modified == o.modified && size == o.size; }
};

FileFingerprint fingerprint(const QString& path) {
    FileFingerprint f;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return f;
    f.sha = QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
    const QFileInfo info(path);
    f.modified = info.lastModified();
    f.size = info.size();
    return f;
}

ArchivedIndividual fakeIndividual(int n) {
    ArchivedIndividual a;
    a.layout = "default17";
    a.genome = "fake" + std::to_string(n);
    a.genes.assign(17, 2 + n % 7);
    a.validationAccuracy = 0.5 + 0.01 * n;
    a.sizeBits = 1000 + 10 * n;
    a.sizeFraction = 0.1 + 0.01 * n;
    a.seconds = 0.1;
    return a;
}

}  // namespace

class TestArchiveFollow : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string data_, cache_;

    QString pathOf(const char* name) const { return dir_.path() + "/" + name; }

    std::string settingsJson() const { return test::tinySearchSettings(data_, cache_).toJson(); }

    // Starts `gruq-cli search` on the tiny task, writing `archive`.
    void startWriter(QProcess& writer, const QString& archive, const QString& qatSamples, const QString& generations,
                     const QString& seed) const {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GRUQ_CACHE_DIR"), QString::fromStdString(cache_));
        env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
        writer.setProcessEnvironment(env);
        writer.start(QStringLiteral(GRUQ_CLI_PATH),
                     {"search", "--path", QString::fromStdString(data_), "--hidden", "8", "--float-epochs", "3",
                      "--qat-samples", qatSamples, "--qat-batch", "32", "--calibration-batches", "2", "--population",
                      "8", "--generations", generations, "--workers", "1", "--seed", seed, "--out", archive});
    }

    // Waits until the writer's archive exists and holds at least `rows` individuals; returns that count.
    static std::optional<int64_t> waitForArchive(QProcess& writer, const QString& archive, int64_t rows) {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 60000 && writer.state() == QProcess::Running) {
            QTest::qWait(20);
            if (!QFile::exists(archive)) continue;
            try {
                const int64_t count = SearchArchive::open(archive.toStdString(), true).individualCount();
                if (count >= rows) return count;
            } catch (const std::exception&) {
                // mid-creation: look again
            }
        }
        return std::nullopt;
    }

    static QLabel* statusLabel(ui::MainWindow& w) {
        auto* label = w.findChild<QLabel*>(QStringLiteral("statusLabel"));
        if (!label) qFatal("no status label");
        return label;
    }

private slots:
    void initTestCase() {
        qputenv("XDG_CONFIG_HOME", (dir_.path() + "/config").toUtf8());
        qputenv("XDG_DATA_HOME", (dir_.path() + "/share").toUtf8());
        QCoreApplication::setOrganizationName(QStringLiteral("gruq-test"));
        QCoreApplication::setApplicationName(QStringLiteral("gruq-follow-test"));
        QSettings().clear();
        const test::TinySearchFolders folders(dir_.path().toStdString());
        data_ = folders.data;
        cache_ = folders.cache;
    }

    // The acceptance test: a separate gruq-cli process writes, the window follows it to the end.
    void followsASearchWrittenByAnotherProcess() {
        const QString archive = pathOf("cli.gruq");
        QProcess writer;
        startWriter(writer, archive, QStringLiteral("512"), QStringLiteral("6"), QStringLiteral("11"));
        QVERIFY(writer.waitForStarted());
        // Open it as soon as the writer has created it (the float model is trained first).
        const std::optional<int64_t> countAtOpen = waitForArchive(writer, archive, 0);
        QVERIFY2(countAtOpen.has_value(), qPrintable(QString::fromUtf8(writer.readAllStandardError())));

        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        // Polled more often than the default 0.5 s: the tiny search takes only a few seconds.
        w.findChild<ui::ArchiveFollower*>()->setPollInterval(100);
        QVERIFY(w.openArchive(archive));
        QVERIFY2(w.isFollowing(), "a running search is followed");
        auto* start = w.findChild<QPushButton*>(QStringLiteral("startButton"));
        QVERIFY(start);
        QVERIFY(!start->isEnabled());  // read-only while following
        QVERIFY(w.windowTitle().contains(QStringLiteral("following")));
        auto* stopFollowing = w.findChild<QAction*>(QStringLiteral("stopFollowingAction"));
        QVERIFY(stopFollowing && stopFollowing->isEnabled());

        // Watch the plot while the other process writes.
        QVector<int> counts{w.paretoPlot()->pointCount()};
        QString followText;
        QTimer sampler;
        connect(&sampler, &QTimer::timeout, [&] {
            if (w.isFollowing() && statusLabel(w)->text().startsWith(QStringLiteral("Following")))
                followText = statusLabel(w)->text();
            const int n = w.paretoPlot()->pointCount();
            if (n != counts.constLast()) counts << n;
        });
        sampler.start(20);
        QTRY_VERIFY_WITH_TIMEOUT(writer.state() == QProcess::NotRunning, 90000);
        QTRY_VERIFY_WITH_TIMEOUT(!w.isFollowing(), 10000);  // the final status ends following
        sampler.stop();

        QVERIFY2(writer.exitStatus() == QProcess::NormalExit && writer.exitCode() == 0,
                 qPrintable(QString::fromUtf8(writer.readAllStandardError())));
        const SearchArchive done = SearchArchive::open(archive.toStdString(), true);
        QCOMPARE(done.integrityCheck(), std::string("ok"));
        QCOMPARE(done.state("status").value_or(""), std::string("finished"));

        int increases = 0;
        for (int i = 1; i < counts.size(); ++i) increases += counts[i] > counts[i - 1] ? 1 : 0;
        qInfo("archive had %lld individuals when opened; plotted counts over time: %s", static_cast<long long>(*countAtOpen),
              qPrintable([&] {
                  QStringList s;
                  for (int c : counts) s << QString::number(c);
                  return s.join(QStringLiteral(" → "));
              }()));
        QVERIFY2(increases >= 2, "new points appeared at least twice while following");
        for (int i = 1; i < counts.size(); ++i) QVERIFY(counts[i] > counts[i - 1]);  // never lost a point
        QCOMPARE(w.paretoPlot()->pointCount(), int(done.individualCount()));
        QVERIFY(!w.paretoPlot()->frontIds().isEmpty());
        auto* hypervolume = w.findChild<ui::HypervolumePlot*>();
        QVERIFY(hypervolume);
        QCOMPARE(hypervolume->pointCount(), int(done.generations().size()));

        // What the user was told while following, and what they can do afterwards.
        QVERIFY2(followText.startsWith(QStringLiteral("Following cli.gruq (written by another process) — ")) &&
                     followText.contains(QStringLiteral(" evaluations")),
                 qPrintable(followText));
        QCOMPARE(statusLabel(w)->text(), QStringLiteral("cli.gruq"));
        QVERIFY(start->isEnabled());
        QVERIFY(!stopFollowing->isEnabled());
        QVERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorDialog")) == nullptr);
    }

    // A writer that dies without finishing leaves the status "running" forever: the window notices its
    // process is gone, keeps every point, stops following and offers Resume.
    void followingEndsWhenTheWriterDies() {
        const QString archive = pathOf("killed.gruq");
        QProcess writer;
        startWriter(writer, archive, QStringLiteral("64"), QStringLiteral("200"), QStringLiteral("12"));
        QVERIFY(writer.waitForStarted());
        QVERIFY2(waitForArchive(writer, archive, 3), qPrintable(QString::fromUtf8(writer.readAllStandardError())));

        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QVERIFY(w.openArchive(archive));
        QVERIFY(w.isFollowing());
        auto* follower = w.findChild<ui::ArchiveFollower*>();
        QVERIFY(follower);
        QTest::qWait(300);
        QVERIFY2(w.isFollowing(), "a live writer is not mistaken for a dead one");

        const qint64 writerPid = writer.processId();
        writer.kill();  // SIGKILL: no chance to write a final status
        QVERIFY(writer.waitForFinished(10000));
        QTRY_VERIFY_WITH_TIMEOUT(!w.isFollowing(), 5000);
        QCOMPARE(follower->status(), QString::fromLatin1(ui::ArchiveFollower::kInterruptedStatus));
        QVERIFY2(follower->deadWriter().endsWith(QStringLiteral(":%1").arg(writerPid)), qPrintable(follower->deadWriter()));
        const SearchArchive left = SearchArchive::open(archive.toStdString(), true);
        QCOMPARE(left.state("status").value_or(""), std::string("running"));  // the file is not touched
        QCOMPARE(w.paretoPlot()->pointCount(), int(left.individualCount()));
        QVERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorDialog")) == nullptr);
        auto* resume = w.findChild<QAction*>(QStringLiteral("resumeAction"));
        QVERIFY(resume);
        QVERIFY(resume->isEnabled());
        QCOMPARE(statusLabel(w)->text(), QStringLiteral("killed.gruq"));

        // Opened again later: not followed at all, and the log says why.
        ui::MainWindow again;
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QVERIFY(again.openArchive(archive));
        QVERIFY(!again.isFollowing());
        auto* log = again.findChild<QPlainTextEdit*>(QStringLiteral("logView"));
        QVERIFY(log);
        QVERIFY2(log->toPlainText().contains(QStringLiteral("ended without finishing it")), qPrintable(log->toPlainText()));
        QCOMPARE(again.paretoPlot()->pointCount(), int(left.individualCount()));
        QVERIFY(again.findChild<QAction*>(QStringLiteral("resumeAction"))->isEnabled());
    }

    // Opening (and following) an archive with no writer present changes nothing in its file, even with
    // commits still in its WAL that a checkpoint would move into the main file.
    void openingNeverWritesTheFile() {
        const QString source = pathOf("source.gruq"), copy = pathOf("snapshot.gruq");
        {
            SearchArchive writer = SearchArchive::create(source.toStdString(), settingsJson(), "{}");
            writer.setState("status", "running");
            for (int n = 0; n < 3; ++n) writer.addIndividual(fakeIndividual(n));
            // A crashed writer's leftovers: the main file and its WAL (the commits are only there).
            QVERIFY(QFile::copy(source, copy));
            QVERIFY(QFile::copy(source + "-wal", copy + "-wal"));
        }
        QVERIFY(QFileInfo(copy + "-wal").size() > 0);
        const FileFingerprint mainBefore = fingerprint(copy), walBefore = fingerprint(copy + "-wal");
        QTest::qWait(1100);  // so that a write would show in the modification time too
        {
            ui::MainWindow w;
            QVERIFY(w.openArchive(copy));
            QCOMPARE(w.paretoPlot()->pointCount(), 3);
            QVERIFY(w.isFollowing());  // status "running": followed
            QSignalSpy polled(w.follower(), &ui::ArchiveFollower::polled);
            QTRY_VERIFY_WITH_TIMEOUT(polled.count() >= 3, 10000);
            QCOMPARE(w.paretoPlot()->pointCount(), 3);
            QVERIFY(w.follower()->trouble().isEmpty());
            w.close();
        }
        QVERIFY(fingerprint(copy) == mainBefore);
        QVERIFY(fingerprint(copy + "-wal") == walBefore);
    }

    // A file that is briefly missing is waited for without a dialog; one replaced by something
    // unreadable ends following with one dialog naming it, keeping the points shown.
    void survivesBriefAbsenceAndReportsAnUnreadableFile() {
        const QString archive = pathOf("flaky.gruq");
        auto writer = std::make_unique<SearchArchive>(SearchArchive::create(archive.toStdString(), settingsJson(), "{}"));
        writer->setState("status", "running");
        writer->addIndividual(fakeIndividual(0));

        ui::MainWindow w;
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.follower()->setGracePeriod(4000);
        QVERIFY(w.openArchive(archive));
        QVERIFY(w.isFollowing());
        QCOMPARE(w.paretoPlot()->pointCount(), 1);
        writer->addIndividual(fakeIndividual(1));
        QTRY_COMPARE_WITH_TIMEOUT(w.paretoPlot()->pointCount(), 2, 10000);
        writer.reset();  // the writer goes away; its files stay

        // Briefly missing (moved away and back): retried silently.
        QVERIFY(QFile::rename(archive, archive + ".away"));
        QTRY_VERIFY_WITH_TIMEOUT(!w.follower()->trouble().isEmpty(), 5000);
        QVERIFY(statusLabel(w)->text().contains(QStringLiteral("retrying")));
        QVERIFY(QFile::rename(archive + ".away", archive));
        QTRY_VERIFY_WITH_TIMEOUT(w.follower()->trouble().isEmpty(), 5000);
        QVERIFY(w.isFollowing());
        QVERIFY(w.findChild<QMessageBox*>(QStringLiteral("errorDialog")) == nullptr);
        {
            SearchArchive again = SearchArchive::open(archive.toStdString());
            again.addIndividual(fakeIndividual(2));
        }
        QTRY_COMPARE_WITH_TIMEOUT(w.paretoPlot()->pointCount(), 3, 10000);

        // Replaced by a file that is not an archive, for good: one dialog, following ends.
        QSignalSpy failed(w.follower(), &ui::ArchiveFollower::failed);
        QFile::remove(archive + "-wal");
        QFile::remove(archive + "-shm");
        test::writeBytes((archive + ".tmp").toStdString(), std::string(8192, 'x'));
        QVERIFY(::rename((archive + ".tmp").toLocal8Bit().constData(), archive.toLocal8Bit().constData()) == 0);
        QMessageBox* box = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((box = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr, 15000);
        QVERIFY2(box->text().contains(archive) || box->informativeText().contains(archive),
                 qPrintable(box->text() + box->informativeText()));
        QVERIFY(!w.isFollowing());
        QCOMPARE(w.paretoPlot()->pointCount(), 3);
        box->accept();
        QTest::qWait(1500);
        QCOMPARE(failed.count(), 1);  // only one dialog
    }

    // A finished archive is shown as it is, not followed; Resume stays available.
    void finishedArchiveIsNotFollowed() {
        const QString archive = pathOf("finished.gruq");
        {
            SearchArchive writer = SearchArchive::create(archive.toStdString(), settingsJson(), "{}");
            writer.addIndividual(fakeIndividual(0));
            writer.setState("status", "finished");
        }
        ui::MainWindow w;
        QVERIFY(w.openArchive(archive));
        QVERIFY(!w.isFollowing());
        QCOMPARE(statusLabel(w)->text(), QStringLiteral("finished.gruq"));
    }
};

QTEST_MAIN(TestArchiveFollow)
#include "test_archive_follow.moc"
