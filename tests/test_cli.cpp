// gruq-cli end to end: data info, float training, evaluation, search + firmware export, and errors as
// messages with non-zero exits.
#include "test_support.h"

#include <QtTest>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QFileInfo>
#include <QProcess>

class TestCli : public QObject {
    Q_OBJECT
    static constexpr double kAboveChance = 0.2;  // ten balanced classes: chance is 0.1
    QTemporaryDir dataDir_, cacheDir_;

    struct Result {
        int exitCode;
        QString out, err;
    };

    Result run(const QStringList& args) {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("GRUQ_CACHE_DIR"), cacheDir_.path());
        p.setProcessEnvironment(env);
        p.start(QStringLiteral(GRUQ_CLI_PATH), args);
        if (!p.waitForFinished(120000)) qFatal("gruq-cli did not finish");
        return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
                QString::fromUtf8(p.readAllStandardError())};
    }

private slots:
    void initTestCase() { gruq::test::writeTinyMnist(dataDir_.path().toStdString(), 200, 60, true); }

    void dataInfoText() {
        const Result r = run({"data", "info", "smnist-row", "--path", dataDir_.path()});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY(r.out.contains(QStringLiteral("28 steps x 28 features")));
        QVERIFY(r.out.contains(QStringLiteral("class balance")));
    }

    void dataInfoJson() {
        const Result r = run({"data", "info", "smnist-pixel", "--path", dataDir_.path(), "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(j["task"].toString(), QStringLiteral("smnist-pixel"));
        QCOMPARE(j["train"].toObject()["steps"].toInt(), 784);
        QCOMPARE(j["test"].toObject()["count"].toInt(), 60);
        QCOMPARE(j["validation"].toObject()["class_counts"].toArray().size(), 10);
    }

    void trainTinyModelThenHitTheCache() {
        const QStringList args = {"train", "--task", "smnist-row", "--path", dataDir_.path(), "--hidden", "8",
                                  "--epochs", "2", "--batch", "32", "--threads", "1", "--json"};
        const Result first = run(args);
        QVERIFY2(first.exitCode == 0, qPrintable(first.err));
        const QJsonObject a = QJsonDocument::fromJson(first.out.toUtf8()).object();
        QCOMPARE(a["shape"].toString(), QStringLiteral("F28-H8-C10"));
        QCOMPARE(a["from_cache"].toBool(), false);
        QVERIFY(a["samples_per_second"].toDouble() > 0);
        QVERIFY(first.err.contains(QStringLiteral("epoch   2")));
        const Result second = run(args);
        const QJsonObject b = QJsonDocument::fromJson(second.out.toUtf8()).object();
        QCOMPARE(b["from_cache"].toBool(), true);
        QCOMPARE(b["test_accuracy"].toDouble(), a["test_accuracy"].toDouble());
    }

    void evalOneGenome() {
        const QStringList common = {"eval", "--task", "smnist-row", "--path", dataDir_.path(), "--hidden", "16",
                                    "--float-epochs", "30", "--qat-samples", "64", "--qat-batch", "32",
                                    "--calibration-batches", "2", "--threads", "1", "--json"};
        const Result r = run(common + QStringList{"--genome",
                                                  "x6 wih4 whh4 ih6 hh6 sumr5 sumz5 sigr4 sigz4 mulrn5 sumn5 tanhn4 "
                                                  "mulzn5 mulzh5 h6 wfc4 fc6"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject j = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QCOMPARE(j["genome"].toString().left(12), QStringLiteral("x6 w_ih4 w_h"));
        QVERIFY2(j["test_accuracy"].toDouble() > kAboveChance, qPrintable(r.out));
        QVERIFY(j["agreement"].toDouble() >= 0.99);
        QVERIFY(j["size_fraction_of_8bit"].toDouble() < 0.7);

        const Result eight = run(common + QStringList{"--bits", "8", "--layout", "homogeneous"});
        QVERIFY2(eight.exitCode == 0, qPrintable(eight.err));
        QCOMPARE(QJsonDocument::fromJson(eight.out.toUtf8()).object()["size_fraction_of_8bit"].toDouble(), 1.0);
    }

    void badGenomeIsRejectedNamingTheGene() {
        const Result r = run({"eval", "--path", dataDir_.path(), "--genome", "x8 w_ih4 bogus3"});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains(QStringLiteral("bogus")), qPrintable(r.err));
        const Result range = run({"eval", "--path", dataDir_.path(), "--layout", "homogeneous", "--genome", "bits9"});
        QCOMPARE(range.exitCode, 3);
        QVERIFY2(range.err.contains(QStringLiteral("'bits': 9 bits is outside 2..8")), qPrintable(range.err));
    }

    void exportFromArchiveAndFromGenome() {
        const QString archive = cacheDir_.path() + QStringLiteral("/run.gruq");
        const Result search = run({"search", "--path", dataDir_.path(), "--hidden", "16", "--float-epochs", "30",
                                   "--population", "8", "--generations", "1", "--qat-samples", "64", "--qat-batch", "32",
                                   "--calibration-batches", "2", "--workers", "1", "--out", archive});
        QVERIFY2(search.exitCode == 0, qPrintable(search.err));
        const Result front = run({"front", archive, "--json"});
        QVERIFY2(front.exitCode == 0, qPrintable(front.err));
        const QJsonArray rows = QJsonDocument::fromJson(front.out.toUtf8()).array();
        QVERIFY(!rows.isEmpty());
        const QJsonObject pick = rows.last().toObject();
        QVERIFY2(pick["test_accuracy"].toDouble() > kAboveChance, qPrintable(front.out));
        const QString id = QString::number(pick["id"].toInt());

        const QString out = cacheDir_.path() + QStringLiteral("/fw");
        const Result e = run({"export", archive, "--pick", id, "--out", out});
        QVERIFY2(e.exitCode == 0, qPrintable(e.err));
        QVERIFY2(!e.err.contains(QStringLiteral("warning")), qPrintable(e.err));  // rebuilt model == archived one
        for (const char* f : {"model.bin", "gruq_model.h", "gruq_model.c", "gruq_runtime.h", "gruq_runtime.c", "README.md", "model.json"}) {
            QVERIFY2(QFileInfo::exists(out + "/" + f), f);
        }
        const Result info = run({"blob-info", out + QStringLiteral("/model.bin")});
        QVERIFY2(info.exitCode == 0, qPrintable(info.err));
        QVERIFY2(info.out.contains(pick["genome"].toString()), qPrintable(info.out));

        // An existing export is not overwritten without --force; a missing id is an error naming the archive.
        const Result again = run({"export", archive, "--pick", id, "--out", out});
        QCOMPARE(again.exitCode, 3);
        QVERIFY2(again.err.contains(QStringLiteral("--force")), qPrintable(again.err));
        const Result missing = run({"export", archive, "--pick", "9999", "--out", out + "2"});
        QCOMPARE(missing.exitCode, 3);
        QVERIFY2(missing.err.contains(archive) && missing.err.contains(QStringLiteral("#9999")), qPrintable(missing.err));

        // Directly from a genome (2-bit homogeneous), then a damaged copy of its blob.
        const Result direct = run({"export", "--path", dataDir_.path(), "--hidden", "16", "--float-epochs", "30",
                                   "--qat-samples", "64", "--qat-batch", "32", "--calibration-batches", "2", "--threads",
                                   "1", "--bits", "2", "--out", out + "-2bit"});
        QVERIFY2(direct.exitCode == 0, qPrintable(direct.err));
        std::string blob = gruq::test::readBytes((out + "-2bit/model.bin").toStdString());
        blob[blob.size() - 3] ^= 1;
        gruq::test::writeBytes((out + "-2bit/damaged.bin").toStdString(), blob);
        const Result damaged = run({"blob-info", out + "-2bit/damaged.bin"});
        QCOMPARE(damaged.exitCode, 3);
        QVERIFY2(damaged.err.contains(QStringLiteral("damaged.bin")) && damaged.err.contains(QStringLiteral("CRC")), qPrintable(damaged.err));
    }

    void missingFolderIsAnErrorNamingIt() {
        const QString missing = dataDir_.path() + QStringLiteral("/nothing-here");
        const Result r = run({"data", "info", "smnist-row", "--path", missing});
        QCOMPARE(r.exitCode, 3);
        QVERIFY2(r.err.contains(missing), qPrintable(r.err));
    }

    void unknownTaskAndBadOptions() {
        const Result r = run({"data", "info", "cifar10"});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains(QStringLiteral("unknown task 'cifar10'")), qPrintable(r.err));
        QVERIFY(run({"train", "--epochs", "many"}).exitCode != 0);
        QVERIFY(run({}).exitCode != 0);
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
