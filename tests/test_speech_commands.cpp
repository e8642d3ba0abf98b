// Tests of the Speech Commands folder index and the TensorFlow hash split rule.
#include "gruq/base/errors.h"
#include "gruq/data/speech_commands.h"

#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>

using namespace gruq;
namespace fs = std::filesystem;

namespace {

// Speakers whose partition under the default 10 % / 10 % rule is known (see hashPartitionKnownValues).
const char* const kValidationSpeaker = "9e3779b1";
const char* const kTestingSpeaker = "c6ef3620";
const char* const kTrainingSpeakers[] = {"3c6ef362", "daa66d13", "0a7c2a8d"};

void touch(const fs::path& path, const std::string& content = "RIFF") {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// yes/ no/ up/, two clips per speaker, a background noise folder and some things to ignore.
void makeLayout(const fs::path& root) {
    for (const char* word : {"yes", "no", "up"}) {
        std::vector<std::string> speakers = {kValidationSpeaker, kTestingSpeaker};
        for (const char* s : kTrainingSpeakers) speakers.push_back(s);
        for (const std::string& speaker : speakers) {
            for (int n = 0; n < 2; ++n) touch(root / word / (speaker + "_nohash_" + std::to_string(n) + ".wav"));
        }
        touch(root / word / "README.txt", "not a clip");
    }
    touch(root / "_background_noise_" / "white_noise.wav");
    touch(root / "_background_noise_" / "pink_noise.wav");
    touch(root / "_background_noise_" / "README.md", "not noise");
    touch(root / ".hidden" / "x.wav");
    touch(root / "LICENSE", "text");
}

std::string speakerOf(const Clip& clip) {
    const std::string name = fs::path(clip.relativePath).filename().string();
    return name.substr(0, name.find("_nohash_"));
}

}  // namespace

class TestSpeechCommands : public QObject {
    Q_OBJECT

private slots:
    void hashPartitionKnownValues() {
        // Expected values computed with Python's hashlib and TensorFlow's formula:
        //   hash_name = re.sub(r'_nohash_.*$', '', basename)
        //   pct = (int(hashlib.sha1(hash_name.encode()).hexdigest(), 16) % (2**27 - 1 + 1)) * (100.0 / (2**27 - 1))
        // giving  9e3779b1 -> 1.7013542480867672   00000000 -> 9.555729549793373
        //         c6ef3620 -> 14.580752064144253   be1e0823 -> 16.829276955345847
        //         abcd1234 -> 22.42997379921357    0a7c2a8d -> 56.836387193474074
        //         3c6ef362 -> 68.36694902455024    "noseparator.wav" (whole name) -> 40.10033935383215
        QCOMPARE(hashPartition("9e3779b1_nohash_0.wav"), Partition::Validation);
        QCOMPARE(hashPartition("00000000_nohash_0.wav"), Partition::Validation);
        QCOMPARE(hashPartition("c6ef3620_nohash_0.wav"), Partition::Testing);
        QCOMPARE(hashPartition("be1e0823_nohash_4.wav"), Partition::Testing);
        QCOMPARE(hashPartition("abcd1234_nohash_0.wav"), Partition::Training);
        QCOMPARE(hashPartition("0a7c2a8d_nohash_0.wav"), Partition::Training);
        QCOMPARE(hashPartition("3c6ef362_nohash_1.wav"), Partition::Training);

        // Thresholds just either side of the known percentages.
        QCOMPARE(hashPartition("abcd1234_nohash_0.wav", 22.4, 0.0), Partition::Training);
        QCOMPARE(hashPartition("abcd1234_nohash_0.wav", 22.5, 0.0), Partition::Validation);
        QCOMPARE(hashPartition("0a7c2a8d_nohash_0.wav", 60.0, 10.0), Partition::Validation);
        QCOMPARE(hashPartition("0a7c2a8d_nohash_0.wav", 50.0, 6.9), Partition::Testing);
        QCOMPARE(hashPartition("0a7c2a8d_nohash_0.wav", 50.0, 6.8), Partition::Training);
        QCOMPARE(hashPartition("00000000_nohash_0.wav", 9.55, 0.01), Partition::Testing);
        QCOMPARE(hashPartition("00000000_nohash_0.wav", 9.56, 0.0), Partition::Validation);

        // Folders are ignored; without "_nohash_" the whole base name (extension included) is hashed.
        QCOMPARE(hashPartition("yes/0a7c2a8d_nohash_3.wav", 56.84, 0.0), Partition::Validation);
        QCOMPARE(hashPartition("noseparator.wav", 40.2, 0.0), Partition::Validation);
        QCOMPARE(hashPartition("noseparator.wav", 40.0, 0.0), Partition::Training);
    }

    void indexWithoutListsFollowsHash() {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        makeLayout(root);
        const SpeechCommandsIndex index = indexSpeechCommands(root.string());
        QCOMPARE(index.root, root.string());
        QCOMPARE(index.words, (std::vector<std::string>{"no", "up", "yes"}));
        QCOMPARE(index.backgroundNoise,
                 (std::vector<std::string>{"_background_noise_/pink_noise.wav", "_background_noise_/white_noise.wav"}));
        QVERIFY(!index.usedListFiles);
        QCOMPARE(index.clips.size(), size_t(3 * 5 * 2));
        QCOMPARE(index.clips.front().relativePath, std::string("no/0a7c2a8d_nohash_0.wav"));
        QCOMPARE(index.clips.front().word, std::string("no"));
        for (size_t i = 1; i < index.clips.size(); ++i) QVERIFY(index.clips[i - 1].relativePath < index.clips[i].relativePath);

        std::map<Partition, int> counts;
        for (const Clip& clip : index.clips) {
            QCOMPARE(clip.partition, hashPartition(clip.relativePath));
            QVERIFY(clip.relativePath.rfind(clip.word + "/", 0) == 0);
            ++counts[clip.partition];
            if (speakerOf(clip) == kValidationSpeaker) QCOMPARE(clip.partition, Partition::Validation);
            if (speakerOf(clip) == kTestingSpeaker) QCOMPARE(clip.partition, Partition::Testing);
        }
        QCOMPARE(counts[Partition::Validation], 6);
        QCOMPARE(counts[Partition::Testing], 6);
        QCOMPARE(counts[Partition::Training], 18);
    }

    void sameSpeakerSamePartition() {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        // Many speakers, several clips each, across words.
        for (int s = 0; s < 60; ++s) {
            char speaker[16];
            std::snprintf(speaker, sizeof speaker, "%08x", static_cast<unsigned>(s * 2654435761u));
            for (const char* word : {"go", "stop"}) {
                for (int n = 0; n < 3; ++n) touch(root / word / (std::string(speaker) + "_nohash_" + std::to_string(n) + ".wav"));
            }
        }
        const SpeechCommandsIndex index = indexSpeechCommands(root.string());
        std::map<std::string, Partition> bySpeaker;
        std::map<Partition, int> seen;
        for (const Clip& clip : index.clips) {
            const auto [it, inserted] = bySpeaker.emplace(speakerOf(clip), clip.partition);
            if (!inserted) QCOMPARE(clip.partition, it->second);
            ++seen[clip.partition];
        }
        QCOMPARE(bySpeaker.size(), size_t(60));
        QVERIFY(seen[Partition::Training] > seen[Partition::Validation]);
    }

    void listFilesDecideTheSplit() {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        makeLayout(root);
        // A clip the hash puts in training goes to validation, one it puts in validation goes to testing;
        // CRLF line endings and blank lines are tolerated, as in files edited on Windows.
        std::ofstream(root / "validation_list.txt") << "yes/3c6ef362_nohash_0.wav\r\n\r\nup/daa66d13_nohash_1.wav\r\n";
        std::ofstream(root / "testing_list.txt") << "no/9e3779b1_nohash_1.wav\n";
        const SpeechCommandsIndex index = indexSpeechCommands(root.string());
        QVERIFY(index.usedListFiles);
        for (const Clip& clip : index.clips) {
            Partition expected = Partition::Training;
            if (clip.relativePath == "yes/3c6ef362_nohash_0.wav" || clip.relativePath == "up/daa66d13_nohash_1.wav") {
                expected = Partition::Validation;
            } else if (clip.relativePath == "no/9e3779b1_nohash_1.wav") {
                expected = Partition::Testing;
            }
            QVERIFY2(clip.partition == expected, clip.relativePath.c_str());
        }
    }

    void listNamingMissingClipIsInputError() {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        makeLayout(root);
        std::ofstream(root / "testing_list.txt") << "no/9e3779b1_nohash_1.wav\nyes/ffffffff_nohash_0.wav\n";
        try {
            indexSpeechCommands(root.string());
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), (root / "testing_list.txt").string());
            QVERIFY(std::string(e.what()).find("yes/ffffffff_nohash_0.wav") != std::string::npos);
        }
    }

    void missingFolderIsInputError() {
        QTemporaryDir tmp;
        const std::string missing = (fs::path(tmp.path().toStdString()) / "nope").string();
        try {
            indexSpeechCommands(missing);
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), missing);
        }
    }

    void folderWithoutWordsIsInputError() {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        touch(root / "_background_noise_" / "white_noise.wav");
        touch(root / "stray.wav");
        try {
            indexSpeechCommands(root.string());
            QFAIL("expected InputError");
        } catch (const InputError& e) {
            QCOMPARE(e.path(), root.string());
        }
    }
};

QTEST_APPLESS_MAIN(TestSpeechCommands)
#include "test_speech_commands.moc"
