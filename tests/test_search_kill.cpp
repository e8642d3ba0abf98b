// Crash safety: a gruq-cli search killed with SIGKILL mid-generation, then resumed, loses no finished
// evaluation, re-runs none, and ends with the uninterrupted run's front.
#include "gruq/archive.h"
#include "gruq/search.h"
#include "search_test_support.h"
#include "test_support.h"

#include <QtTest>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>

#include <map>

using namespace gruq;

class TestSearchKill : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string data_, cache_;

    QString archivePath(const char* name) const { return dir_.path() + "/" + name; }

    void startCli(QProcess& p, const QStringList& args) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GRUQ_CACHE_DIR"), QString::fromStdString(cache_));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(GRUQ_CLI_PATH), args);
        QVERIFY(p.waitForStarted());
    }

    QStringList searchArgs() const {
        return {"search",     "--path",         QString::fromStdString(data_), "--hidden",     "8",
                "--float-epochs", "3",          "--qat-samples", "64",         "--qat-batch",  "32",
                "--calibration-batches", "2",   "--population", "8",           "--generations", "5",
                "--workers",  "1",              "--seed",       "7"};
    }

    static std::map<std::string, ArchivedIndividual> byGenome(const std::vector<ArchivedIndividual>& v) {
        std::map<std::string, ArchivedIndividual> m;
        for (const auto& a : v) m[a.genome] = a;
        return m;
    }

private slots:
    void initTestCase() {
        const test::TinySearchFolders folders(dir_.path().toStdString());
        data_ = folders.data;
        cache_ = folders.cache;
    }

    void killedSearchResumesWithoutLoss() {
        // Reference: the same search, uninterrupted.
        QProcess reference;
        startCli(reference, searchArgs() + QStringList{"--out", archivePath("ref.gruq")});
        QVERIFY(reference.waitForFinished(300000));
        QCOMPARE(reference.exitCode(), 0);

        // The victim: killed once a dozen evaluations are committed (inside generation 0 or 1).
        QProcess victim;
        startCli(victim, searchArgs() + QStringList{"--out", archivePath("run.gruq")});
        QElapsedTimer timer;
        timer.start();
        int64_t seen = 0;
        while (seen < 12 && timer.elapsed() < 120000 && victim.state() == QProcess::Running) {
            QTest::qWait(20);
            if (QFile::exists(archivePath("run.gruq"))) {
                try {
                    seen = SearchArchive::open(archivePath("run.gruq").toStdString(), true).individualCount();
                } catch (const std::exception&) {
                    // The file may be mid-creation; try again.
                }
            }
        }
        QVERIFY2(victim.state() == QProcess::Running, "search ended before it could be killed");
        victim.kill();  // SIGKILL
        QVERIFY(victim.waitForFinished());
        QCOMPARE(victim.exitStatus(), QProcess::CrashExit);

        const auto beforeList = SearchArchive::open(archivePath("run.gruq").toStdString(), true).individuals();
        QVERIFY(beforeList.size() >= 12);
        QVERIFY(beforeList.size() < byGenome(SearchArchive::open(archivePath("ref.gruq").toStdString(), true).individuals()).size());

        QProcess resumed;
        startCli(resumed, {"search", "--resume", archivePath("run.gruq")});
        QVERIFY(resumed.waitForFinished(300000));
        const QString out = QString::fromUtf8(resumed.readAllStandardOutput());
        QVERIFY2(resumed.exitCode() == 0, qPrintable(QString::fromUtf8(resumed.readAllStandardError())));
        const QRegularExpressionMatch m = QRegularExpression(QStringLiteral("(\\d+) evaluations computed")).match(out);
        QVERIFY2(m.hasMatch(), qPrintable(out));
        const int64_t computedAfterResume = m.captured(1).toLongLong();

        const SearchArchive archive = SearchArchive::open(archivePath("run.gruq").toStdString(), true);
        QCOMPARE(archive.integrityCheck(), std::string("ok"));
        const auto after = byGenome(archive.individuals());
        // No finished evaluation lost: every row stored before the kill is still there, unchanged.
        for (const auto& a : beforeList) {
            QVERIFY(after.count(a.genome));
            QCOMPARE(after.at(a.genome).id, a.id);
            QCOMPARE(after.at(a.genome).validationAccuracy, a.validationAccuracy);
        }
        // None re-run: the resumed process computed exactly the rows that were missing.
        QCOMPARE(int64_t(after.size()), int64_t(beforeList.size()) + computedAfterResume);

        // Same outcome as the uninterrupted run: same individuals, same results, same front.
        const SearchArchive ref = SearchArchive::open(archivePath("ref.gruq").toStdString(), true);
        const auto refAll = byGenome(ref.individuals());
        QCOMPARE(after.size(), refAll.size());
        for (const auto& [genome, a] : refAll) {
            QVERIFY(after.count(genome));
            QCOMPARE(after.at(genome).validationAccuracy, a.validationAccuracy);
        }
        std::vector<std::string> frontA, frontB;
        for (const auto& a : paretoFront(archive.individuals())) frontA.push_back(a.genome);
        for (const auto& a : paretoFront(ref.individuals())) frontB.push_back(a.genome);
        QCOMPARE(frontA, frontB);
        QCOMPARE(archive.state("status").value_or(""), std::string("finished"));
    }
};

QTEST_GUILESS_MAIN(TestSearchKill)
#include "test_search_kill.moc"
