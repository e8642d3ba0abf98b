// The espeak-ng speech generator: Speech Commands layout, decodable 1 s clips, reproducibility
// from the seed (whatever the thread count), errors and cancellation.
#include "gruq/base/errors.h"
#include "gruq/speechgen/speech_generator.h"
#include "gruq/data/wav_io.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>
#include <set>

using namespace gruq;

namespace {

SpeechGeneratorOptions tinyOptions(const QString& dir) {
    SpeechGeneratorOptions o;
    o.outputDir = dir.toStdString();
    o.words = {"yes", "no", "left"};
    o.utterancesPerWord = 6;
    o.seed = 7;
    o.backgroundNoiseFiles = 6;  // one of each kind
    o.backgroundNoiseSeconds = 2.0;
    o.threads = 2;
    return o;
}

// Relative path -> file bytes, for every file under dir.
std::map<QString, QByteArray> readTree(const QString& dir) {
    std::map<QString, QByteArray> files;
    QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly)) files[QDir(dir).relativeFilePath(path)] = f.readAll();
    }
    return files;
}

}  // namespace

class TestSpeechGenerator : public QObject {
    Q_OBJECT

private slots:
    void speakerList() {
        const std::vector<std::string> speakers = speechGeneratorSpeakers();
        QVERIFY2(speakers.size() >= 50, qPrintable(QString::number(speakers.size())));
        QCOMPARE(std::set<std::string>(speakers.begin(), speakers.end()).size(), speakers.size());
        for (const std::string& s : speakers) QVERIFY2(s.rfind("en", 0) == 0 && s.find('+') != std::string::npos, s.c_str());
    }

    void layoutAndAudio() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString root = tmp.filePath("sc");
        std::vector<Progress> reports;
        const SpeechGeneratorReport report =
            generateSpeechCommands(tinyOptions(root), [&](const Progress& p) { reports.push_back(p); });
        QCOMPARE(report.utterances, int64_t(18));
        QVERIFY(report.speakers >= 2);
        QCOMPARE(QString::fromStdString(report.outputDir), root);

        QVERIFY(!reports.empty());
        QCOMPARE(QString::fromStdString(reports.back().stage), QString("synthesising"));
        QCOMPARE(reports.back().done, int64_t(18));
        QCOMPARE(reports.back().total, int64_t(18));

        QVERIFY(QFile::exists(root + "/README.txt"));
        QVERIFY(QFile::exists(root + "/LICENSE.txt"));
        const QStringList noise = QDir(root + "/_background_noise_").entryList({"*.wav"}, QDir::Files);
        QCOMPARE(noise.size(), 6);
        for (const QString& name : noise) {
            const Audio a = readAudioFile((root + "/_background_noise_/" + name).toStdString());
            QCOMPARE(a.sampleRate, 16000);
            QCOMPARE(a.samples.size(), size_t(32000));
        }

        const QStringList dirs = QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        QCOMPARE(dirs, QStringList({"_background_noise_", "left", "no", "yes"}));
        const QRegularExpression pattern("^[0-9a-f]{8}_nohash_[0-9]+\\.wav$");
        for (const QString& word : {"yes", "no", "left"}) {
            const QStringList files = QDir(root + "/" + word).entryList(QDir::Files);
            QCOMPARE(files.size(), 6);
            for (const QString& name : files) {
                QVERIFY2(pattern.match(name).hasMatch(), qPrintable(name));
                const Audio a = readAudioFile((root + "/" + word + "/" + name).toStdString());
                QCOMPARE(a.sampleRate, 16000);
                QCOMPARE(a.samples.size(), size_t(16000));
                double energy = 0;
                int nearFullScale = 0;
                for (float v : a.samples) {
                    energy += double(v) * v;
                    if (std::fabs(v) > 0.999f) ++nearFullScale;
                }
                const double rms = std::sqrt(energy / a.samples.size());
                QVERIFY2(rms > 0.01, qPrintable(word + "/" + name + " rms " + QString::number(rms)));
                QVERIFY2(nearFullScale < 100, qPrintable(word + "/" + name + " clipped"));
            }
        }
    }

    void reproducibleAcrossThreads() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        SpeechGeneratorOptions a = tinyOptions(tmp.filePath("a"));
        a.threads = 1;
        SpeechGeneratorOptions b = tinyOptions(tmp.filePath("b"));
        b.threads = 3;
        SpeechGeneratorOptions c = tinyOptions(tmp.filePath("c"));
        c.seed = 8;
        // c runs between a and b, so b starts from a different espeak-ng history than a.
        generateSpeechCommands(a);
        generateSpeechCommands(c);
        generateSpeechCommands(b);
        const auto treeA = readTree(tmp.filePath("a")), treeB = readTree(tmp.filePath("b")), treeC = readTree(tmp.filePath("c"));
        QCOMPARE(treeA.size(), size_t(18 + 6 + 2));
        QStringList mismatched;
        for (const auto& [path, bytes] : treeA) {
            const auto it = treeB.find(path);
            if (it == treeB.end() || it->second != bytes) mismatched << path;
        }
        QVERIFY2(mismatched.isEmpty() && treeA.size() == treeB.size(), qPrintable(mismatched.join(", ")));
        // Another seed: different utterances (names may coincide, contents must not all).
        int differing = 0;
        for (const auto& [path, bytes] : treeC) {
            const auto it = treeA.find(path);
            if (path.endsWith(".wav") && (it == treeA.end() || it->second != bytes)) ++differing;
        }
        QVERIFY2(differing >= 18, qPrintable(QString::number(differing)));
    }

    void unwritableOutput() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QFile blocker(tmp.filePath("file"));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.write("x");
        blocker.close();
        const QString under = tmp.filePath("file/sc");
        bool thrown = false;
        try {
            generateSpeechCommands(tinyOptions(under));
        } catch (const InputError& e) {
            thrown = true;
            QCOMPARE(QString::fromStdString(e.path()), under);
        }
        QVERIFY(thrown);
    }

    void cancelledBeforehand() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        CancelFlag cancel;
        cancel.request();
        QVERIFY_THROWS_EXCEPTION(Cancelled, generateSpeechCommands(tinyOptions(tmp.filePath("sc")), {}, &cancel));
    }

    void cancelledMidway() {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        SpeechGeneratorOptions o = tinyOptions(tmp.filePath("sc"));
        o.utterancesPerWord = 200;
        CancelFlag cancel;
        auto stopEarly = [&](const Progress& p) {
            if (p.stage == "synthesising" && p.total > 0) cancel.request();
        };
        QVERIFY_THROWS_EXCEPTION(Cancelled, generateSpeechCommands(o, stopEarly, &cancel));
    }
};

QTEST_APPLESS_MAIN(TestSpeechGenerator)
#include "test_speech_generator.moc"
