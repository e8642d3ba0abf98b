#pragma once
// Fixtures of the bad-input matrix (issue 10): files with byte-exact (also non-UTF-8) names, snapshots of
// folders to prove nothing was touched, and a small valid archive, blob, export and Speech Commands folder
// made through core without any training, plus damaged variants of them.
//
// Paths are std::string bytes throughout: a name holding 0xff cannot pass through QString (Qt decodes it
// lossily, and QDir listings skip such entries altogether).
#include "gruq/search/archive.h"
#include "gruq/export/blob.h"
#include "gruq/export/firmware_export.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/quantized_gru.h"
#include "gruq/search/search.h"
#include "gruq/data/wav_io.h"
#include "model_test_support.h"
#include "test_support.h"

#include <QByteArray>
#include <QCryptographicHash>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace gruq::test {

namespace fs = std::filesystem;

// Two bytes that are never valid UTF-8, for file and folder names.
inline const std::string kNotUtf8 = "\xff\xfe";

// The first bytes of a real 1x1 PNG: "some other file type" for every reader.
inline std::string pngBytes() {
    static const unsigned char png[] = {
        0x89, 'P',  'N',  'G',  0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 'I',  'H',  'D',  'R',  0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
        0x00, 0x00, 0x0a, 'I',  'D',  'A',  'T',  0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
        0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 'I',  'E',  'N',  'D',  0xae, 0x42, 0x60, 0x82};
    return std::string(reinterpret_cast<const char*>(png), sizeof png);
}

inline void makeFolder(const std::string& dir) { fs::create_directories(dir); }

inline void truncateFile(const std::string& path, size_t size) {
    const std::string bytes = readBytes(path);
    writeBytes(path, bytes.substr(0, std::min(size, bytes.size())));
}

// Overwrites bytes at `offset` (the file keeps its size).
inline void patchFile(const std::string& path, size_t offset, const std::string& bytes) {
    std::string content = readBytes(path);
    content.replace(offset, bytes.size(), bytes);
    writeBytes(path, content);
}

inline std::string bigEndian32(uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

inline std::string littleEndian(uint64_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out.push_back(char((v >> (8 * i)) & 0xff));
    return out;
}

// Every file and folder below dir: relative path -> SHA-256 of the bytes ("dir" for folders).
inline std::map<std::string, QByteArray> snapshot(const std::string& dir) {
    std::map<std::string, QByteArray> entries;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return entries;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const std::string relative = fs::relative(it->path(), dir, ec).string();
        std::error_code typeEc;
        if (it->is_directory(typeEc)) {
            entries[relative + "/"] = "dir";
        } else {
            entries[relative] = QCryptographicHash::hash(QByteArray::fromStdString(readBytes(it->path().string())),
                                                         QCryptographicHash::Sha256);
        }
    }
    return entries;
}

// What changed between two snapshots, for failure messages ("" when nothing did).
inline std::string describeChanges(const std::map<std::string, QByteArray>& before,
                                   const std::map<std::string, QByteArray>& after, bool newFilesAllowed) {
    std::string out;
    for (const auto& [name, hash] : before) {
        const auto it = after.find(name);
        if (it == after.end()) out += " removed:" + name;
        else if (it->second != hash) out += " changed:" + name;
    }
    if (!newFilesAllowed) {
        static const QByteArray emptyFile = QCryptographicHash::hash(QByteArray(), QCryptographicHash::Sha256);
        auto endsWith = [](const std::string& s, const std::string& tail) {
            return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
        };
        for (const auto& [name, hash] : after) {
            if (before.count(name)) continue;
            // SQLite's own side files of an archive that was only read: a read-only connection does not
            // checkpoint on close, so an empty -wal and the -shm index stay (archive.cpp; the archive
            // itself is compared above).
            const bool sqliteSideFile =
                (endsWith(name, "-wal") && hash == emptyFile && before.count(name.substr(0, name.size() - 4))) ||
                (endsWith(name, "-shm") && before.count(name.substr(0, name.size() - 4)));
            if (!sqliteSideFile) out += " new:" + name;
        }
    }
    return out;
}

// ---- valid inputs made through core ----

inline SearchSettings fixtureSettings(const std::string& dataDir) {
    SearchSettings s;
    s.task = "smnist-row";
    s.data.path = dataDir;
    s.floatModel.hiddenSize = 4;
    s.floatModel.epochs = 1;
    s.nsga2.population = 8;
    s.nsga2.generations = 1;
    s.qat.epochs = 0;
    s.workers = 1;
    return s;
}

// A finished search archive of the 7 homogeneous default17 genomes (no training: made-up figures).
// `settingsJson` replaces the stored settings (e.g. by damaged ones) when given.
inline void writeFixtureArchive(const std::string& path, const std::string& dataDir,
                                const std::string& settingsJson = std::string()) {
    SearchArchive archive = SearchArchive::create(
        path, settingsJson.empty() ? fixtureSettings(dataDir).toJson() : settingsJson,
        R"({"shape":"F28-H4-C10","cache_key":"fixture","validation_accuracy":0.61,"test_accuracy":0.6})");
    const GenomeLayout& layout = layoutByName("default17");
    ArchivedGeneration generation;
    for (int bits = 2; bits <= 8; ++bits) {
        const Genome genome = uniformGenome(layout, bits);
        ArchivedIndividual a;
        a.layout = layout.name;
        a.genome = genome.toText();
        a.genes = genome.bits;
        a.validationAccuracy = 0.3 + 0.04 * bits;
        a.fakeQuantValidationAccuracy = a.validationAccuracy;
        a.testAccuracy = a.validationAccuracy - 0.01;
        a.sizeBits = 1000 * bits;
        a.sizeFraction = bits / 8.0;
        a.generation = -1;
        a.baseline = true;
        const int64_t id = archive.addIndividual(a);
        generation.population.push_back(id);
        generation.front.push_back(id);
    }
    generation.hypervolume = 0.4;
    archive.addGeneration(generation);
    archive.setState("status", "finished");
}  // closing the only connection folds the WAL into the one file

inline QuantizedGru fixtureModel(const Genome& genome) {
    ActivationRanges layer{};
    for (auto& r : layer) r = {-2.0, 2.0};
    const LayerRanges ranges(1, layer);
    return buildQuantizedGru(randomWeights(28, 4, 10, 7), genome.resolve(), ranges);
}

inline std::string fixtureBlob() {
    const Genome genome = uniformGenome(layoutByName("default17"), 6);
    const std::vector<uint8_t> blob = writeBlob(fixtureModel(genome), genome, "smnist-row");
    return std::string(blob.begin(), blob.end());
}

// A complete firmware folder (model.bin, C files, README, model.json) of a made-up 4-bit model.
inline void writeFixtureExport(const std::string& dir) {
    FirmwareExport e;
    e.genome = uniformGenome(layoutByName("default17"), 4);
    e.model = fixtureModel(e.genome);
    e.rawScale = 1.0 / 255.0;
    e.facts.task = "smnist-row";
    e.facts.classNames = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    e.facts.source = "bad-input fixture";
    exportFirmware(e, dir);
}

// A mono 16-bit WAV with a hand-made header, so that every field can be absurd: `declaredDataBytes` is
// what the header claims, `samples` what really follows.
inline std::string wavBytes(int channels, uint32_t sampleRate, uint32_t declaredDataBytes, int samples) {
    const int blockAlign = 2 * channels;
    std::string w = "RIFF" + littleEndian(36 + uint64_t(declaredDataBytes), 4) + "WAVE";
    w += "fmt " + littleEndian(16, 4) + littleEndian(1, 2) + littleEndian(uint64_t(channels), 2) +
         littleEndian(sampleRate, 4) + littleEndian(uint64_t(sampleRate) * uint64_t(blockAlign), 4) +
         littleEndian(uint64_t(blockAlign), 2) + littleEndian(16, 2);
    w += "data" + littleEndian(declaredDataBytes, 4);
    for (int i = 0; i < samples; ++i) w += littleEndian(uint16_t(int16_t(1000 * std::sin(0.05 * i))), 2);
    return w;
}

inline const std::vector<std::string>& kwsWords() {
    static const std::vector<std::string> words = {"yes", "no", "up", "down"};
    return words;
}

// A Speech Commands folder for kws4: three short clips per keyword (a, b, c); the list files put b in
// validation and c in testing, so every split is non-empty whatever the file names hash to.
inline void writeTinySpeechCommands(const std::string& dir) {
    makeFolder(dir);
    std::string validation, testing;
    uint32_t seed = 1;
    for (const std::string& word : kwsWords()) {
        makeFolder(dir + "/" + word);
        for (const char* clip : {"a", "b", "c"}) {
            std::vector<float> samples(4000);
            for (float& s : samples) {
                seed = seed * 1664525u + 1013904223u;
                s = float(int(seed >> 16) % 2000 - 1000) / 4000.0f;
            }
            writeWav16(dir + "/" + word + "/" + clip + ".wav", samples, 16000);
        }
        validation += word + "/b.wav\n";
        testing += word + "/c.wav\n";
    }
    writeBytes(dir + "/validation_list.txt", validation);
    writeBytes(dir + "/testing_list.txt", testing);
}

}  // namespace gruq::test
