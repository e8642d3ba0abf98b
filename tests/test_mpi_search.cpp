// Searches over MPI ranks: `mpirun -np 3 gruq-cli search --mpi` gives the single-process front, and a
// worker rank killed mid-search loses no finished evaluation (the job stops, --resume completes it).
#include "gruq/search/archive.h"
#include "gruq/search/search.h"
#include "search_test_support.h"

#include <QtTest>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>

#include <csignal>
#include <map>

using namespace gruq;

class TestMpiSearch : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string data_, cache_;

    QString archivePath(const char* name) const { return dir_.path() + "/" + name; }

    void start(QProcess& p, const QString& program, const QStringList& args) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GRUQ_CACHE_DIR"), QString::fromStdString(cache_));
        // Containers forbid the ptrace-based single-copy transfer between ranks; messages are small.
        env.insert(QStringLiteral("OMPI_MCA_btl_vader_single_copy_mechanism"), QStringLiteral("none"));
        env.insert(QStringLiteral("OMPI_MCA_rmaps_base_oversubscribe"), QStringLiteral("1"));
        // Under the sanitizer build (scripts/sanitize.sh): Open MPI keeps allocations from MPI_Init for the
        // process lifetime in plugins it unloads at MPI_Finalize, so LeakSanitizer can neither attribute
        // nor suppress them. MPI processes keep every other check (ASan, UBSan); the rest keep leak checks.
        if (args.contains(QStringLiteral("--mpi")) && env.contains(QStringLiteral("ASAN_OPTIONS"))) {
            env.insert(QStringLiteral("ASAN_OPTIONS"), env.value(QStringLiteral("ASAN_OPTIONS")) + QStringLiteral(":detect_leaks=0"));
        }
        p.setProcessEnvironment(env);
        p.start(program, args);
        QVERIFY(p.waitForStarted());
    }

    // One torch thread per evaluation in both runs; the search itself is the tiny search of the tests.
    QStringList searchArgs() const {
        return {"search",     "--path",         QString::fromStdString(data_), "--hidden",     "8",
                "--float-epochs", "3",          "--qat-samples", "64",         "--qat-batch",  "32",
                "--calibration-batches", "2",   "--population", "8",           "--generations", "4",
                "--workers",  "1",              "--threads-per-worker", "1",   "--seed",       "11"};
    }

    QStringList mpirun(const QStringList& cliArgs) const {
        return QStringList{"--allow-run-as-root", "--oversubscribe", "-np", "3", QStringLiteral(GRUQ_CLI_PATH)} + cliArgs +
               QStringList{"--mpi"};
    }

    static std::map<std::string, ArchivedIndividual> byGenome(const std::vector<ArchivedIndividual>& v) {
        std::map<std::string, ArchivedIndividual> m;
        for (const auto& a : v) m[a.genome] = a;
        return m;
    }

    static std::vector<std::string> frontGenomes(const SearchArchive& archive) {
        std::vector<std::string> genomes;
        for (const auto& a : paretoFront(archive.individuals())) genomes.push_back(a.genome);
        return genomes;
    }

    // Same individuals with the same results, and the same front, as the single-process reference.
    void compareWithReference(const QString& path) {
        const SearchArchive ref = SearchArchive::open(archivePath("ref.gruq").toStdString(), true);
        const SearchArchive run = SearchArchive::open(path.toStdString(), true);
        QCOMPARE(run.integrityCheck(), std::string("ok"));
        const auto expected = byGenome(ref.individuals());
        const auto got = byGenome(run.individuals());
        QCOMPARE(got.size(), expected.size());
        for (const auto& [genome, a] : expected) {
            QVERIFY2(got.count(genome), genome.c_str());
            QCOMPARE(got.at(genome).validationAccuracy, a.validationAccuracy);
            QCOMPARE(got.at(genome).sizeBits, a.sizeBits);
        }
        QCOMPARE(frontGenomes(run), frontGenomes(ref));
        // The front's test accuracies too: measured on rank 0 or a worker, they equal the reference's.
        for (const auto& a : paretoFront(run.individuals())) {
            QVERIFY2(a.testAccuracy > 0.1, a.genome.c_str());  // ten classes: above chance
            QCOMPARE(a.testAccuracy, expected.at(a.genome).testAccuracy);
        }
        QCOMPARE(run.state("status").value_or(""), std::string("finished"));
    }

private slots:
    void initTestCase() {
        const test::TinySearchFolders folders(dir_.path().toStdString());
        data_ = folders.data;
        cache_ = folders.cache;
        QProcess reference;
        start(reference, QStringLiteral(GRUQ_CLI_PATH), searchArgs() + QStringList{"--out", archivePath("ref.gruq")});
        QVERIFY(reference.waitForFinished(300000));
        QVERIFY2(reference.exitCode() == 0, reference.readAllStandardError().constData());
    }

    void threeRanksGiveTheSingleProcessFront() {
        QProcess run;
        start(run, QStringLiteral(GRUQ_MPIEXEC), mpirun(searchArgs() + QStringList{"--out", archivePath("mpi.gruq")}));
        QVERIFY(run.waitForFinished(300000));
        const QString err = QString::fromUtf8(run.readAllStandardError());
        QVERIFY2(run.exitStatus() == QProcess::NormalExit && run.exitCode() == 0, qPrintable(err));
        QVERIFY2(err.contains(QStringLiteral("2 worker ranks evaluate")), qPrintable(err));
        QCOMPARE(err.count(QStringLiteral("evaluates genomes")), 2);
        compareWithReference(archivePath("mpi.gruq"));
    }

    void singleProcessMpiIsRefused() {
        QProcess run;
        start(run, QStringLiteral(GRUQ_CLI_PATH), searchArgs() + QStringList{"--out", archivePath("single.gruq"), "--mpi"});
        QVERIFY(run.waitForFinished(120000));
        QCOMPARE(run.exitCode(), 3);
        QVERIFY(QString::fromUtf8(run.readAllStandardError()).contains(QStringLiteral("mpirun -np N")));
        QVERIFY(!QFile::exists(archivePath("single.gruq")));
    }

    void killedWorkerRankLosesNothing() {
        const QString path = archivePath("killed.gruq");
        QProcess run;
        start(run, QStringLiteral(GRUQ_MPIEXEC), mpirun(searchArgs() + QStringList{"--out", path, "--log-evaluations"}));

        // Worker pids from their start lines; the kill comes once a few evaluations are committed.
        QString err;
        QList<qint64> workerPids;
        int64_t committed = 0;
        QElapsedTimer timer;
        timer.start();
        const QRegularExpression workerLine(QStringLiteral("rank \\d+ of 3 on \\S+ \\(pid (\\d+)\\) evaluates"));
        while (timer.elapsed() < 240000 && run.state() == QProcess::Running && (workerPids.size() < 2 || committed < 6)) {
            run.waitForReadyRead(50);
            err += QString::fromUtf8(run.readAllStandardError());
            workerPids.clear();
            for (auto it = workerLine.globalMatch(err); it.hasNext();) workerPids.push_back(it.next().captured(1).toLongLong());
            committed = err.count(QStringLiteral("evaluation committed:"));
        }
        QVERIFY2(run.state() == QProcess::Running, qPrintable(err));
        QCOMPARE(workerPids.size(), 2);
        QCOMPARE(::kill(static_cast<pid_t>(workerPids.front()), SIGKILL), 0);
        QVERIFY(run.waitForFinished(120000));
        err += QString::fromUtf8(run.readAllStandardError());
        QVERIFY2(run.exitCode() != 0 || run.exitStatus() != QProcess::NormalExit, "mpirun must report the dead rank");

        // Every evaluation reported as committed is in the archive, with its reported accuracy.
        std::vector<ArchivedIndividual> before;
        {
            const SearchArchive archive = SearchArchive::open(path.toStdString(), true);
            QCOMPARE(archive.integrityCheck(), std::string("ok"));
            before = archive.individuals();
            const QRegularExpression line(QStringLiteral("evaluation committed: id (\\d+), validation ([0-9.]+), size [0-9.]+, genome ([^\\n]+)"));
            int reported = 0;
            for (auto it = line.globalMatch(err); it.hasNext(); ++reported) {
                const auto m = it.next();
                const auto stored = archive.individual(m.captured(1).toLongLong());
                QVERIFY(stored.has_value());
                QCOMPARE(QString::fromStdString(stored->genome), m.captured(3).trimmed());
                QVERIFY(std::abs(stored->validationAccuracy - m.captured(2).toDouble()) < 1e-6);
            }
            QVERIFY(reported >= 6);
            QVERIFY(int64_t(before.size()) >= reported);
        }

        QProcess resumed;
        start(resumed, QStringLiteral(GRUQ_MPIEXEC), mpirun({"search", "--resume", path}));
        QVERIFY(resumed.waitForFinished(300000));
        const QString out = QString::fromUtf8(resumed.readAllStandardOutput());
        QVERIFY2(resumed.exitCode() == 0, resumed.readAllStandardError().constData());
        const auto m = QRegularExpression(QStringLiteral("(\\d+) evaluations computed")).match(out);
        QVERIFY2(m.hasMatch(), qPrintable(out));

        const SearchArchive archive = SearchArchive::open(path.toStdString(), true);
        const auto after = byGenome(archive.individuals());
        for (const auto& a : before) {  // nothing finished was lost or recomputed
            QVERIFY(after.count(a.genome));
            QCOMPARE(after.at(a.genome).id, a.id);
            QCOMPARE(after.at(a.genome).validationAccuracy, a.validationAccuracy);
        }
        QCOMPARE(int64_t(after.size()), int64_t(before.size()) + m.captured(1).toLongLong());
        compareWithReference(path);
    }
};

QTEST_GUILESS_MAIN(TestMpiSearch)
#include "test_mpi_search.moc"
