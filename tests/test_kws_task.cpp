// Tests of the KWS task loader on a tiny generated Speech Commands layout: shapes, labels,
// normalisation, the feature cache (hit, miss, corruption), optional classes, errors and cancel.
#include "gruq/base/errors.h"
#include "gruq/data/feature_cache.h"
#include "gruq/data/kws_task.h"
#include "gruq/data/speech_commands.h"
#include "gruq/data/wav_io.h"

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace gruq;
namespace fs = std::filesystem;

namespace {

const int kSpeakersPerSplit[3] = {6, 2, 2};  // training, validation, testing

// Speaker ids ("%08x") chosen so that the hash split gives exactly kSpeakersPerSplit of each.
std::vector<std::string> pickSpeakers() {
    std::vector<std::string> picked;
    int have[3] = {0, 0, 0};
    for (unsigned i = 1; picked.size() < 10; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "%08x", i * 2654435761u);
        const int split = static_cast<int>(hashPartition(std::string(id) + "_nohash_0.wav"));
        if (have[split] < kSpeakersPerSplit[split]) {
            ++have[split];
            picked.push_back(id);
        }
    }
    return picked;
}

// A distinct signal per word: steady tones and rising / falling chirps, with a little per-speaker
// variation in pitch and level so that clips are not identical.
std::vector<float> synthesize(const std::string& word, int speaker, int rate, double seconds) {
    double f0 = 400, f1 = 400;
    if (word == "no") f0 = f1 = 900;
    else if (word == "up") { f0 = 300; f1 = 1500; }
    else if (word == "down") { f0 = 1500; f1 = 300; }
    else if (word == "left") f0 = f1 = 2500;
    else if (word == "right") f0 = f1 = 3300;
    const double detune = 1.0 + 0.02 * (speaker % 5);
    const double amplitude = 0.3 + 0.05 * (speaker % 4);
    const auto n = static_cast<size_t>(std::lround(seconds * rate));
    std::vector<float> out(n);
    double phase = 0;
    uint32_t noiseState = 977u * static_cast<uint32_t>(speaker + 1);
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / static_cast<double>(n);
        phase += 2.0 * M_PI * detune * (f0 + (f1 - f0) * t) / rate;
        noiseState = noiseState * 1664525u + 1013904223u;
        const double hiss = 0.01 * ((noiseState >> 8) / double(1u << 24) - 0.5);
        out[i] = static_cast<float>(amplitude * std::sin(phase) + hiss);
    }
    return out;
}

void makeLayout(const fs::path& root, const std::vector<std::string>& words) {
    const std::vector<std::string> speakers = pickSpeakers();
    for (const std::string& word : words) {
        fs::create_directories(root / word);
        for (size_t s = 0; s < speakers.size(); ++s) {
            // Every third clip at 8 kHz (resampled on load); lengths 0.9 s / 1.1 s (padded / cropped).
            const int rate = s % 3 == 0 ? 8000 : 16000;
            const double seconds = s % 2 == 0 ? 0.9 : 1.1;
            writeWav16((root / word / (speakers[s] + "_nohash_0.wav")).string(),
                       synthesize(word, static_cast<int>(s), rate, seconds), rate);
        }
    }
    fs::create_directories(root / "_background_noise_");
    for (int n = 0; n < 2; ++n) {
        std::vector<float> noise(16000 * 12);
        uint32_t state = 31u + static_cast<uint32_t>(n);
        for (float& v : noise) {
            state = state * 1664525u + 1013904223u;
            v = static_cast<float>(0.2 * ((state >> 8) / double(1u << 24) - 0.5));
        }
        writeWav16((root / "_background_noise_" / ("noise" + std::to_string(n) + ".wav")).string(), noise, 16000);
    }
}

struct ProgressLog {
    int computeCalls = 0;
    int cacheLoads = 0;
    Progress last;
    ProgressFn fn() {
        return [this](const Progress& p) {
            if (p.stage == "computing MFCC features") {
                ++computeCalls;
                last = p;
            } else if (p.stage == "loading cached features") {
                ++cacheLoads;
            }
        };
    }
};

std::vector<fs::path> cacheFiles(const fs::path& dir) {
    std::vector<fs::path> files;
    if (!fs::exists(dir)) return files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("features-", 0) == 0 && entry.path().extension() == ".bin") files.push_back(entry.path());
    }
    return files;
}

bool sameSet(const SequenceSet& a, const SequenceSet& b) {
    return a.count == b.count && a.steps == b.steps && a.features == b.features && a.x == b.x && a.y == b.y;
}

bool sameTask(const TaskData& a, const TaskData& b) {
    return a.task == b.task && a.description == b.description && a.classNames == b.classNames &&
           a.normalization.mean == b.normalization.mean && a.normalization.stdDev == b.normalization.stdDev &&
           sameSet(a.train, b.train) && sameSet(a.validation, b.validation) && sameSet(a.test, b.test);
}

}  // namespace

class TestKwsTask : public QObject {
    Q_OBJECT

private:
    QTemporaryDir tmp_;
    fs::path data_;  // yes no up down left right

    KwsTaskOptions options(const std::string& cacheName) const {
        KwsTaskOptions o;
        o.directory = data_.string();
        o.keywordCount = 4;
        o.cacheDir = (fs::path(tmp_.path().toStdString()) / cacheName).string();
        o.threads = 2;
        return o;
    }

private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        data_ = fs::path(tmp_.path().toStdString()) / "speech";
        makeLayout(data_, {"yes", "no", "up", "down", "left", "right"});
    }

    void keywordLists() {
        QCOMPARE(kwsKeywords(4), (std::vector<std::string>{"yes", "no", "up", "down"}));
        QCOMPARE(kwsKeywords(10).size(), size_t(10));
        QCOMPARE(kwsKeywords(10).back(), std::string("go"));
        QVERIFY_THROWS_EXCEPTION(InputError, kwsKeywords(5));
    }

    void kws4ShapesLabelsAndNormalisation() {
        ProgressLog log;
        const TaskData data = loadKwsTask(options("cache-basic"), log.fn());
        QCOMPARE(data.task, std::string("kws4"));
        QCOMPARE(data.classNames, (std::vector<std::string>{"yes", "no", "up", "down"}));
        QVERIFY(data.description.find("KWS-4") != std::string::npos);
        QVERIFY(data.description.find("49 MFCC frames x 10") != std::string::npos);
        QCOMPARE(data.source, data_.string());

        const SequenceSet* sets[3] = {&data.train, &data.validation, &data.test};
        for (int s = 0; s < 3; ++s) {
            const SequenceSet& set = *sets[s];
            QCOMPARE(set.steps, int64_t(49));
            QCOMPARE(set.features, int64_t(10));
            QCOMPARE(set.count, int64_t(4 * kSpeakersPerSplit[s]));
            QCOMPARE(set.x.size(), size_t(set.count * 49 * 10));
            QCOMPARE(set.y.size(), size_t(set.count));
            QCOMPARE(classCounts(set, 4), std::vector<int64_t>(4, kSpeakersPerSplit[s]));
        }

        double sum = 0, sumSq = 0;
        for (float v : data.train.x) {
            QVERIFY(std::isfinite(v));
            sum += v;
            sumSq += double(v) * v;
        }
        const double n = static_cast<double>(data.train.x.size());
        QVERIFY(std::fabs(sum / n) < 1e-3);
        QVERIFY(std::fabs(std::sqrt(sumSq / n - (sum / n) * (sum / n)) - 1.0) < 1e-3);
        // Per coefficient: every MFCC coefficient has mean ~0 and std ~1 over the training split.
        QCOMPARE(data.normalization.mean.size(), size_t(10));
        for (int64_t f = 0; f < 10; ++f) {
            double fs = 0, fss = 0;
            for (size_t i = size_t(f); i < data.train.x.size(); i += 10) {
                fs += data.train.x[i];
                fss += double(data.train.x[i]) * data.train.x[i];
            }
            const double m = n / 10;
            QVERIFY(std::fabs(fs / m) < 1e-3);
            QVERIFY(std::fabs(fss / m - 1.0) < 1e-2);
            QVERIFY(data.normalization.stdDevOf(f) > 0.0f);
        }

        // Features carry the words apart: nearest class centroid (from training) labels the test clips.
        std::vector<std::vector<double>> centroid(4, std::vector<double>(490, 0.0));
        for (int64_t i = 0; i < data.train.count; ++i) {
            for (int64_t j = 0; j < 490; ++j) centroid[size_t(data.train.y[size_t(i)])][size_t(j)] += data.train.sequence(i)[j];
        }
        int correct = 0;
        for (int64_t i = 0; i < data.test.count; ++i) {
            int best = -1;
            double bestDistance = 0;
            for (int c = 0; c < 4; ++c) {
                double d = 0;
                for (int64_t j = 0; j < 490; ++j) {
                    const double diff = data.test.sequence(i)[j] - centroid[size_t(c)][size_t(j)] / kSpeakersPerSplit[0];
                    d += diff * diff;
                }
                if (best < 0 || d < bestDistance) {
                    best = c;
                    bestDistance = d;
                }
            }
            correct += best == data.test.y[size_t(i)];
        }
        QVERIFY2(correct >= data.test.count - 1, qPrintable(QString("%1 / %2").arg(correct).arg(data.test.count)));

        QVERIFY(log.computeCalls >= 2);
        QCOMPARE(log.last.done, int64_t(40));
        QCOMPARE(log.last.total, int64_t(40));
    }

    void secondLoadHitsTheCache() {
        ProgressLog first, second;
        const KwsTaskOptions o = options("cache-hit");
        const TaskData a = loadKwsTask(o, first.fn());
        QVERIFY(first.computeCalls > 0);
        QCOMPARE(cacheFiles(o.cacheDir).size(), size_t(1));

        const TaskData b = loadKwsTask(o, second.fn());
        QCOMPARE(second.computeCalls, 0);
        QCOMPARE(second.cacheLoads, 1);
        QVERIFY(sameTask(a, b));
        QCOMPARE(b.source, a.source);

        // useCache = false recomputes, with the same result.
        KwsTaskOptions noCache = o;
        noCache.useCache = false;
        ProgressLog third;
        QVERIFY(sameTask(a, loadKwsTask(noCache, third.fn())));
        QVERIFY(third.computeCalls > 0);
        // Thread count does not change the features.
        noCache.threads = 1;
        QVERIFY(sameTask(a, loadKwsTask(noCache)));
    }

    void changedSettingOrInputMissesTheCache() {
        const KwsTaskOptions o = options("cache-miss");
        loadKwsTask(o);
        QCOMPARE(cacheFiles(o.cacheDir).size(), size_t(1));

        KwsTaskOptions other = o;
        other.mfcc.coefficients = 12;
        ProgressLog log;
        const TaskData twelve = loadKwsTask(other, log.fn());
        QVERIFY(log.computeCalls > 0);
        QCOMPARE(twelve.train.features, int64_t(12));
        QCOMPARE(cacheFiles(o.cacheDir).size(), size_t(2));

        // Editing one input clip changes the key as well (size + mtime are part of it).
        QTemporaryDir copyDir;
        const fs::path copy = fs::path(copyDir.path().toStdString()) / "speech";
        fs::copy(data_, copy, fs::copy_options::recursive);
        KwsTaskOptions onCopy = o;
        onCopy.directory = copy.string();
        const TaskData before = loadKwsTask(onCopy);
        ProgressLog unchanged;
        loadKwsTask(onCopy, unchanged.fn());
        QCOMPARE(unchanged.computeCalls, 0);
        std::vector<fs::path> yesClips;
        for (const auto& entry : fs::directory_iterator(copy / "yes")) yesClips.push_back(entry.path());
        QVERIFY(!yesClips.empty());
        const fs::path firstYes = *std::min_element(yesClips.begin(), yesClips.end());
        writeWav16(firstYes.string(), std::vector<float>(12000, 0.0f), 16000);
        ProgressLog edited;
        const TaskData after = loadKwsTask(onCopy, edited.fn());
        QVERIFY(edited.computeCalls > 0);
        QVERIFY(!sameTask(before, after));
    }

    void corruptCacheIsIgnoredAndRewritten() {
        const KwsTaskOptions o = options("cache-corrupt");
        const TaskData reference = loadKwsTask(o);
        const std::vector<fs::path> files = cacheFiles(o.cacheDir);
        QCOMPARE(files.size(), size_t(1));
        const uintmax_t size = fs::file_size(files[0]);

        // Flip a byte in the middle of the features: the checksum must catch it.
        {
            std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(static_cast<std::streamoff>(size / 2));
            f.put('\x5a');
            f.seekp(static_cast<std::streamoff>(size / 2 + 1));
            f.put('\xa5');
        }
        ProgressLog flipped;
        QVERIFY(sameTask(reference, loadKwsTask(o, flipped.fn())));
        QVERIFY(flipped.computeCalls > 0);
        QCOMPARE(fs::file_size(files[0]), size);

        // Truncated file: also a miss, then rewritten so that the next load is a hit again.
        fs::resize_file(files[0], size / 3);
        ProgressLog truncated;
        QVERIFY(sameTask(reference, loadKwsTask(o, truncated.fn())));
        QVERIFY(truncated.computeCalls > 0);
        ProgressLog again;
        QVERIFY(sameTask(reference, loadKwsTask(o, again.fn())));
        QCOMPARE(again.computeCalls, 0);
        QCOMPARE(cacheFiles(o.cacheDir).size(), size_t(1));
    }

    void featureCacheRejectsForeignAndDamagedFiles() {
        QTemporaryDir dir;
        const FeatureCache cache(dir.path().toStdString() + "/sub/dir");
        QVERIFY(!cache.load("k1").has_value());  // folder does not even exist yet

        TaskData data;
        data.task = "t";
        data.description = "d";
        data.source = "s";
        data.classNames = {"a", "b"};
        data.normalization.mean = {0.5f, -1.0f};
        data.normalization.stdDev = {2.0f, 3.0f};
        data.train.count = 3;
        data.train.steps = 2;
        data.train.features = 2;
        data.train.x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        data.train.y = {0, 1, 1};
        data.test.steps = 2;
        data.test.features = 2;
        cache.store("k1", data);
        const std::optional<TaskData> loaded = cache.load("k1");
        QVERIFY(loaded.has_value());
        QVERIFY(sameTask(data, *loaded));
        QCOMPARE(loaded->source, std::string("s"));

        // An entry whose stored key differs (a file-name hash collision) is a miss.
        fs::copy_file(cache.entryPath("k1"), cache.entryPath("k2"));
        QVERIFY(!cache.load("k2").has_value());

        // Every truncation length and garbage are misses, never crashes.
        const std::string path = cache.entryPath("k1");
        std::string bytes;
        {
            std::ifstream in(path, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        for (size_t keep = 0; keep < bytes.size(); ++keep) {
            std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(keep));
            QVERIFY(!cache.load("k1").has_value());
        }
        std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(4096, '\xff');
        QVERIFY(!cache.load("k1").has_value());

        // A malformed TaskData is refused instead of being written.
        TaskData bad = data;
        bad.train.y.pop_back();
        QVERIFY_THROWS_EXCEPTION(InputError, cache.store("k3", bad));
    }

    void unknownAndSilenceAddClasses() {
        KwsTaskOptions o = options("cache-extra");
        o.includeUnknown = true;
        o.includeSilence = true;
        o.unknownFraction = 0.5;
        o.silenceFraction = 0.25;
        o.seed = 7;
        const TaskData data = loadKwsTask(o);
        QCOMPARE(data.classNames, (std::vector<std::string>{"yes", "no", "up", "down", "_unknown_", "_silence_"}));
        QVERIFY(data.description.find("_unknown_") != std::string::npos);
        const SequenceSet* sets[3] = {&data.train, &data.validation, &data.test};
        for (int s = 0; s < 3; ++s) {
            const int64_t keywordClips = 4 * kSpeakersPerSplit[s];
            // Unknown: capped at half the keyword clips, and at the 2 other words' clips in that split.
            const int64_t unknown = std::min<int64_t>(std::llround(0.5 * keywordClips), 2 * kSpeakersPerSplit[s]);
            const int64_t silence = std::llround(0.25 * keywordClips);
            const std::vector<int64_t> counts = classCounts(*sets[s], 6);
            QCOMPARE(counts[4], unknown);
            QCOMPARE(counts[5], silence);
            QCOMPARE(sets[s]->count, keywordClips + unknown + silence);
        }

        // Only unknown: _unknown_ is the last class. Same seed -> same task; other seed -> other picks.
        KwsTaskOptions onlyUnknown = options("cache-extra");
        onlyUnknown.includeUnknown = true;
        onlyUnknown.unknownFraction = 0.25;
        onlyUnknown.useCache = false;
        const TaskData u1 = loadKwsTask(onlyUnknown);
        QCOMPARE(u1.classNames.back(), std::string("_unknown_"));
        QCOMPARE(classCounts(u1.train, 5)[4], int64_t(6));
        QVERIFY(sameTask(u1, loadKwsTask(onlyUnknown)));
        bool differs = false;
        for (uint64_t seed = 1; seed < 6 && !differs; ++seed) {
            onlyUnknown.seed = seed;
            differs = !sameTask(u1, loadKwsTask(onlyUnknown));
        }
        QVERIFY(differs);

        KwsTaskOptions onlySilence = options("cache-extra");
        onlySilence.includeSilence = true;
        onlySilence.useCache = false;
        const TaskData s1 = loadKwsTask(onlySilence);
        QCOMPARE(s1.classNames.back(), std::string("_silence_"));
        QCOMPARE(s1.numClasses(), 5);
    }

    void missingKeywordFolderIsInputError() {
        QTemporaryDir dir;
        const fs::path root = fs::path(dir.path().toStdString()) / "speech";
        fs::create_directories(root / "yes");
        fs::create_directories(root / "no");
        fs::create_directories(root / "up");
        writeWav16((root / "yes" / "00000001_nohash_0.wav").string(), std::vector<float>(16000, 0.1f), 16000);
        KwsTaskOptions o = options("cache-missing");
        o.directory = root.string();
        try {
            loadKwsTask(o);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), root.string());
            QVERIFY(std::string(e.what()).find("\"down\"") != std::string::npos);
        }
    }

    void unreadableClipIsInputErrorNamingIt() {
        QTemporaryDir dir;
        const fs::path root = fs::path(dir.path().toStdString()) / "speech";
        fs::copy(data_, root, fs::copy_options::recursive);
        const fs::path broken = root / "up" / "zzzzzzzz_nohash_0.wav";
        std::ofstream(broken) << "not audio";
        KwsTaskOptions o = options("cache-broken");
        o.directory = root.string();
        try {
            loadKwsTask(o);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), broken.string());
        }
    }

    void cancelFlagStopsTheLoad() {
        CancelFlag flag;
        flag.request();
        QVERIFY_THROWS_EXCEPTION(Cancelled, loadKwsTask(options("cache-cancel"), {}, &flag));

        // Raised while the features are being computed (from the progress callback).
        CancelFlag midway;
        KwsTaskOptions o = options("cache-cancel");
        o.threads = 1;
        QVERIFY_THROWS_EXCEPTION(Cancelled, loadKwsTask(o, [&](const Progress&) { midway.request(); }, &midway));
        QVERIFY(cacheFiles(o.cacheDir).empty());  // nothing half-done was cached
    }
};

QTEST_APPLESS_MAIN(TestKwsTask)
#include "test_kws_task.moc"
