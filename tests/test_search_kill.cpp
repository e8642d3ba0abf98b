// Crash safety: a gruq-cli search killed with SIGKILL mid-generation, then resumed, loses no finished
// evaluation, re-runs none, and ends with the uninterrupted run's front; and a search killed again and
// again at random moments always leaves an archive that opens, passes SQLite's integrity check and
// holds every evaluation the process reported as committed; a fine-tune killed mid-run keeps its best epoch.
#include "gruq/quant/integer_engine.h"
#include "gruq/search/archive.h"
#include "gruq/search/archive_model.h"
#include "gruq/search/search.h"
#include "search_test_support.h"
#include "test_support.h"

#include <QtTest>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>

#include <QRandomGenerator>

#include <map>
#include <optional>

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

    // A fine-tune killed after it stored a better epoch: the archive opens and passes the integrity
    // check, the copy is there with that epoch's model (exported as measured), and fine-tuning goes on.
    void killedFineTuneKeepsItsBestEpoch() {
        const std::string file = archivePath("fine-tune.gruq").toStdString();
        QVERIFY(QFile::copy(archivePath("ref.gruq"), archivePath("fine-tune.gruq")));  // the first test's finished search
        const int64_t source = paretoFront(SearchArchive::open(file, true).individuals()).back().id;
        QProcess victim;
        startCli(victim, {"finetune", QString::fromStdString(file), "--pick", QString::number(source), "--epochs", "1000",
                          "--patience", "1000"});
        QElapsedTimer timer;
        timer.start();
        std::optional<ArchivedIndividual> tuned;
        while (!tuned && timer.elapsed() < 120000 && victim.state() == QProcess::Running) {
            QTest::qWait(20);
            for (const ArchivedIndividual& a : SearchArchive::open(file, true).individuals()) {
                if (a.isFineTune()) tuned = a;
            }
        }
        QVERIFY2(tuned && victim.state() == QProcess::Running, "the fine-tune stored nothing or ended before the kill");
        victim.kill();  // SIGKILL
        QVERIFY(victim.waitForFinished());

        SearchArchive archive = SearchArchive::open(file);  // read-write, as the next fine-tune opens it
        QCOMPARE(archive.integrityCheck(), std::string("ok"));
        const ArchivedIndividual kept = archive.individual(tuned->id).value();
        QCOMPARE(kept.sourceId, source);
        QVERIFY(kept.fineTune.bestEpoch >= 1);
        QVERIFY(archive.model(kept.id).has_value());
        const RebuiltIndividual exported = rebuildArchivedIndividual(file, kept.id);
        QVERIFY(exported.fromStoredModel);
        QCOMPARE(IntegerGruEngine(exported.evaluation.model).accuracy(exported.data->validation), kept.validationAccuracy);

        QProcess again;
        startCli(again, {"finetune", QString::fromStdString(file), "--pick", QString::number(source), "--epochs", "2"});
        QVERIFY(again.waitForFinished(120000));
        QVERIFY2(again.exitCode() == 0, qPrintable(QString::fromUtf8(again.readAllStandardError())));
    }

    // Kills at pseudo-random moments (fixed seed, so a failure can be replayed): while the archive is
    // created, the float model is loaded, baselines and generations run, the front is measured. After
    // each kill the archive must open (read-only, and read-write as --resume does) and pass the
    // integrity check, and every evaluation the killed process had reported must be there unchanged.
    // A search that reaches its end is checked whole and the next one starts in a new archive, until
    // 25 kills have landed.
    void randomKillsNeverDamageTheArchive() {
        const quint32 seed = 20261126;
        QRandomGenerator rng(seed);
        struct Reported {
            std::string genome;
            double validation;
        };
        const QRegularExpression line(
            QStringLiteral("evaluation committed: id (\\d+), validation ([0-9.]+), size [0-9.]+, genome ([^\\n]+)"));
        int kills = 0, searches = 0;
        size_t reportedTotal = 0;
        std::map<int64_t, Reported> reported;  // of the current archive
        for (int round = 0; kills < 25; ++round) {
            QVERIFY2(round < 200, "the searches finish too quickly to be killed");
            const QString path = archivePath(qPrintable(QStringLiteral("random-%1.gruq").arg(searches)));
            if (!QFile::exists(path)) reported.clear();
            const QStringList args = QFile::exists(path) ? QStringList{"search", "--resume", path, "--log-evaluations"}
                                                         : searchArgs() + QStringList{"--out", path, "--log-evaluations"};
            QProcess victim;
            startCli(victim, args);
            // Mostly short lives (0.05 .. 1 s: start-up, creation, float model, first evaluations); every
            // third life lasts until 1..6 more evaluations are committed, then 0..0.3 s more, so the
            // search advances however loaded the machine is.
            QString err;
            int lifeMs = 50 + int(rng.bounded(1000u));
            bool finished = false;
            if (round % 3 == 2) {
                const int wanted = 1 + int(rng.bounded(6u));
                QElapsedTimer alive;
                alive.start();
                while (!finished && err.count(QStringLiteral("evaluation committed:")) < wanted && alive.elapsed() < 60000) {
                    finished = victim.waitForFinished(20);
                    err += QString::fromUtf8(victim.readAllStandardError());
                }
                lifeMs = int(alive.elapsed()) + int(rng.bounded(300u));
                if (!finished) finished = victim.waitForFinished(lifeMs - int(alive.elapsed()));
            } else {
                finished = victim.waitForFinished(lifeMs);
            }
            if (!finished) {
                victim.kill();
                QVERIFY(victim.waitForFinished(30000));
                ++kills;
            } else {
                QVERIFY2(victim.exitCode() == 0, victim.readAllStandardError().constData());
            }
            err += QString::fromUtf8(victim.readAllStandardError());
            for (auto it = line.globalMatch(err); it.hasNext();) {
                const auto m = it.next();
                reported[m.captured(1).toLongLong()] = {m.captured(3).trimmed().toStdString(), m.captured(2).toDouble()};
            }
            const QString context = QStringLiteral("seed %1, round %2, %3 after %4 ms")
                                        .arg(seed).arg(round).arg(finished ? "finished" : "killed").arg(lifeMs);
            if (!QFile::exists(path)) {
                QVERIFY2(reported.empty(), qPrintable(context));  // nothing reported, nothing to lose
                continue;
            }
            try {
                const SearchArchive archive = SearchArchive::open(path.toStdString(), true);
                QVERIFY2(archive.integrityCheck() == "ok", qPrintable(context));
                for (const auto& [id, r] : reported) {
                    const auto stored = archive.individual(id);
                    QVERIFY2(stored.has_value(), qPrintable(context + QStringLiteral(": lost id %1").arg(id)));
                    QCOMPARE(stored->genome, r.genome);
                    QVERIFY(std::abs(stored->validationAccuracy - r.validation) < 1e-6);
                }
                if (finished) {
                    QCOMPARE(archive.state("status").value_or(""), std::string("finished"));
                    reportedTotal += reported.size();
                    ++searches;  // the next round starts a new search
                } else {
                    (void)SearchArchive::open(path.toStdString(), false);  // as --resume opens it
                }
            } catch (const std::exception& e) {
                QFAIL(qPrintable(context + QStringLiteral(": ") + QString::fromUtf8(e.what())));
            }
        }
        qInfo("%d kills at random moments over %d finished searches and one unfinished, %zu reported evaluations kept",
              kills, searches, reportedTotal + reported.size());
        QVERIFY(reportedTotal + reported.size() >= 20);
    }
};

QTEST_GUILESS_MAIN(TestSearchKill)
#include "test_search_kill.moc"
