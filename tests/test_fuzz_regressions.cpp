// Replays every input under fuzz/regressions/<target>/ (inputs that made a fuzz target of
// scripts/fuzz.sh crash or throw the wrong thing, and crafted inputs of the same bugs) through the
// reader that target fuzzes, the same way the target feeds it, plus tricky inputs built here (some
// too big to commit). Each must be read or refused with InputError (BlobError is one): never a crash,
// never another exception. Inputs of fixed bugs also check the specific outcome of the fix.
#include "gruq/search/archive.h"
#include "gruq/export/blob.h"
#include "gruq/base/errors.h"
#include "gruq/quant/genome.h"
#include "gruq/data/idx_reader.h"
#include "gruq/data/npz_archive.h"
#include "gruq/model/model_import.h"
#include "gruq/model/onnx_gru_reader.h"
#include "gruq/model/torch_save_reader.h"
#include "gruq/data/numpy_task.h"
#include "gruq/search/search.h"
#include "gruq/data/speech_commands.h"
#include "gruq/data/wav_io.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#ifndef GRUQ_FUZZ_REGRESSIONS_DIR
#error "GRUQ_FUZZ_REGRESSIONS_DIR must name the fuzz/regressions folder"
#endif

using namespace gruq;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

Bytes readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeFile(const fs::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes bytesOf(const std::string& text) { return Bytes(text.begin(), text.end()); }

// ---- the reader entry points, fed as the fuzz targets feed them (see fuzz/fuzz_*.cpp) ----

void replayIdx(const Bytes& input, const fs::path& dir) {
    const fs::path path = dir / "input-idx3-ubyte";
    writeFile(path, input);
    readIdxFile(path.string());
}

void replayNpz(const Bytes& input, const fs::path&) {
    numpySequencesFromMembers(readNpzBytes(std::string(input.begin(), input.end()), "input.npz", uint64_t(64) << 20),
                              "input.npz");
}

void replayModelImport(const Bytes& input, const fs::path&) {
    const std::string bytes(input.begin(), input.end());
    const bool zip = bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == 'K';
    gruFromTensors(zip ? readTorchSaveBytes(bytes, "model.pt") : readOnnxGru(bytes, "model.onnx"), {}, "model");
}

void replayWav(const Bytes& input, const fs::path& dir) {
    const fs::path path = dir / "input.wav";
    writeFile(path, input);
    readAudioFile(path.string());
    readAudioResampled(path.string(), 16000);
}

// Byte 0: which list files exist (bit 0 validation, bit 1 testing); the rest is the validation list,
// a NUL, the testing list. The folder tree is the one of fuzz/fuzz_speech_lists.cpp.
void replaySpeechLists(const Bytes& input, const fs::path& dir) {
    const fs::path root = dir / "speech";
    for (const char* clip : {"yes/0a7c2a8d_nohash_0.wav", "yes/0a7c2a8d_nohash_1.wav", "yes/9e3779b1_nohash_0.wav",
                             "no/c6ef3620_nohash_0.wav", "no/daa66d13_nohash_0.WAV",
                             "_background_noise_/white_noise.wav", ".hidden/x.wav", "yes/README.txt"}) {
        fs::create_directories((root / clip).parent_path());
        writeFile(root / clip, bytesOf("RIFF"));
    }
    const uint8_t flags = input.empty() ? 0 : input[0];
    const Bytes rest(input.begin() + (input.empty() ? 0 : 1), input.end());
    const auto nul = std::find(rest.begin(), rest.end(), uint8_t(0));
    const Bytes validation(rest.begin(), nul);
    const Bytes testing(nul == rest.end() ? rest.end() : nul + 1, rest.end());
    std::error_code ignored;
    fs::remove(root / "validation_list.txt", ignored);
    fs::remove(root / "testing_list.txt", ignored);
    if (flags & 1) writeFile(root / "validation_list.txt", validation);
    if (flags & 2) writeFile(root / "testing_list.txt", testing);
    indexSpeechCommands(root.string());
}

// Byte 0 mod 4: 0..2 text with knownLayouts()[0..2], 3 JSON.
void replayGenome(const Bytes& input, const fs::path&) {
    if (input.empty()) return;
    const std::string text(input.begin() + 1, input.end());
    const int reader = input[0] % 4;
    const Genome genome = reader < 3 ? parseGenomeText(text, *knownLayouts()[size_t(reader)]) : parseGenomeJson(text);
    validateGenome(genome);
}

void replaySettings(const Bytes& input, const fs::path&) {
    SearchSettings::fromJson(std::string(input.begin(), input.end()));
}

void readEverything(const SearchArchive& archive) {
    archive.settingsJson();
    const std::vector<ArchivedIndividual> all = archive.individuals();
    if (!all.empty()) archive.findGenome(all.back().layout, all.back().genome);
    archive.generations();
    archive.lastGeneration();
    archive.state("status");
    archive.integrityCheck();
}

// Read-only open and reads; then (whatever the first outcome) a read-write open, reads and a write.
void replayArchive(const Bytes& input, const fs::path& dir) {
    const fs::path path = dir / "input.gruq";
    writeFile(path, input);
    std::optional<InputError> readOnlyError;
    try {
        readEverything(SearchArchive::open(path.string(), true));
    } catch (const InputError& e) {
        readOnlyError = e;
    }
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(path.string() + suffix);
    writeFile(path, input);
    SearchArchive archive = SearchArchive::open(path.string(), false);
    readEverything(archive);
    archive.setState("fuzz", "resumed");
    if (readOnlyError) throw *readOnlyError;
}

// As it is, as a file, and with the size fields and CRC repaired (as the blob fuzz targets do).
void replayBlob(const Bytes& input, const fs::path& dir) {
    std::optional<BlobError> asIsError;
    try {
        readBlob(input, "regression.bin");
    } catch (const BlobError& e) {
        asIsError = e;
    }
    writeFile(dir / "input.bin", input);
    try {
        readBlobFile((dir / "input.bin").string());
    } catch (const InputError&) {
    }
    if (asIsError && input.size() >= 16) {
        Bytes repaired = input;
        auto putU32 = [&](size_t at, uint32_t v) {
            for (int i = 0; i < 4; ++i) repaired[at + size_t(i)] = uint8_t(v >> (8 * i));
        };
        putU32(8, uint32_t(input.size()));
        if (input.size() >= kBlobHeaderBytes) putU32(604, uint32_t(input.size() - kBlobHeaderBytes));
        putU32(12, crc32Of(repaired.data() + 16, repaired.size() - 16));
        readBlob(repaired, "regression.bin");
    }
    if (asIsError) throw *asIsError;
}

using Replay = std::function<void(const Bytes&, const fs::path&)>;

// The reader of each fuzz target; a folder under fuzz/regressions without an entry here fails.
std::optional<Replay> replayFor(const std::string& target) {
    if (target == "fuzz_idx") return replayIdx;
    if (target == "fuzz_npz") return replayNpz;
    if (target == "fuzz_model_import") return replayModelImport;
    if (target == "fuzz_wav") return replayWav;
    if (target == "fuzz_speech_lists") return replaySpeechLists;
    if (target == "fuzz_genome") return replayGenome;
    if (target == "fuzz_settings") return replaySettings;
    if (target == "fuzz_archive") return replayArchive;
    if (target == "fuzz_core_blob" || target == "fuzz_runtime_blob") return replayBlob;
    return std::nullopt;
}

enum class Expect { ReadOrRefused, Refused, Read };

struct Outcome {
    bool read = false;
    std::string refusal;  // InputError message when refused
    std::string failure;  // anything that is neither (another exception)
};

Outcome run(const Replay& replay, const Bytes& input) {
    QTemporaryDir scratch;
    Outcome outcome;
    try {
        replay(input, fs::path(scratch.path().toStdString()));
        outcome.read = true;
    } catch (const InputError& e) {
        outcome.refusal = e.what();
        if (outcome.refusal.empty()) outcome.failure = "InputError with an empty message";
    } catch (const std::exception& e) {
        outcome.failure = std::string("escaped ") + typeid(e).name() + ": " + e.what();
    } catch (...) {
        outcome.failure = "escaped a non-std exception";
    }
    return outcome;
}

// ---- tricky inputs built here ----

void putLe(Bytes& b, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

// A 16-bit PCM (format 1) or 32-bit float (format 3) mono WAV with the given raw sample bytes.
Bytes wavFile(uint32_t rate, uint16_t format, uint16_t bits, const Bytes& data) {
    Bytes b = bytesOf("RIFF");
    putLe(b, 36 + data.size(), 4);
    for (char c : std::string("WAVEfmt ")) b.push_back(uint8_t(c));
    putLe(b, 16, 4);
    putLe(b, format, 2);
    putLe(b, 1, 2);
    putLe(b, rate, 4);
    putLe(b, rate * bits / 8, 4);
    putLe(b, bits / 8, 2);
    putLe(b, bits, 2);
    for (char c : std::string("data")) b.push_back(uint8_t(c));
    putLe(b, data.size(), 4);
    b.insert(b.end(), data.begin(), data.end());
    return b;
}

Bytes floatSamples(const std::vector<float>& values) {
    Bytes b;
    for (float v : values) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        putLe(b, bits, 4);
    }
    return b;
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

class TestFuzzRegressions : public QObject {
    Q_OBJECT

private slots:
    void regressionFoldersHaveReaders() {
        const fs::path root(GRUQ_FUZZ_REGRESSIONS_DIR);
        QVERIFY2(fs::is_directory(root), GRUQ_FUZZ_REGRESSIONS_DIR);
        int files = 0;
        for (const auto& folder : fs::directory_iterator(root)) {
            QVERIFY2(folder.is_directory(), qPrintable("not a target folder: " + QString::fromStdString(folder.path().string())));
            QVERIFY2(replayFor(folder.path().filename().string()),
                     qPrintable("no reader for fuzz/regressions/" + QString::fromStdString(folder.path().filename().string())));
            for (const auto& file : fs::directory_iterator(folder.path())) files += file.is_regular_file();
        }
        QVERIFY(files > 0);
    }

    void regressions_data() {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("path");
        std::vector<fs::path> paths;
        for (const auto& folder : fs::directory_iterator(fs::path(GRUQ_FUZZ_REGRESSIONS_DIR))) {
            if (!folder.is_directory()) continue;
            for (const auto& file : fs::directory_iterator(folder.path())) {
                if (file.is_regular_file()) paths.push_back(file.path());
            }
        }
        std::sort(paths.begin(), paths.end());
        for (const fs::path& path : paths) {
            const std::string target = path.parent_path().filename().string();
            const std::string row = target + "/" + path.filename().string();
            QTest::newRow(row.c_str()) << QString::fromStdString(target) << QString::fromStdString(path.string());
        }
    }

    // Whatever the input, read or InputError.
    void regressions() {
        QFETCH(QString, target);
        QFETCH(QString, path);
        const std::optional<Replay> replay = replayFor(target.toStdString());
        QVERIFY(replay);
        const Outcome outcome = run(*replay, readFile(path.toStdString()));
        QVERIFY2(outcome.failure.empty(), outcome.failure.c_str());
    }

    // The fixed bugs, with what the fix promises.
    void tricky_data() {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<int>("expect");
        QTest::addColumn<QString>("refusalMentions");
        auto row = [](const char* name, const char* target, const Bytes& input, Expect expect, const char* mentions = "") {
            QTest::newRow(name) << QString(target) << QByteArray(reinterpret_cast<const char*>(input.data()), int(input.size()))
                                << int(expect) << QString(mentions);
        };
        const fs::path regressions(GRUQ_FUZZ_REGRESSIONS_DIR);

        // torch.save readers (review of the model import): a size x stride that overflows int64 must not
        // index outside the storage; a million nested tuples must not overflow the stack when freed; a
        // dict holding itself is refused (no cycle, no leak, no endless copies).
        auto torchSave = [](const std::string& pickle, const std::map<std::string, std::string>& storages = {}) {
            std::map<std::string, std::string> members = storages;
            members["archive/data.pkl"] = pickle;
            const std::string zip = makeZip(members);
            return Bytes(zip.begin(), zip.end());
        };
        auto long8 = [](int64_t v) {
            std::string out = "\x8a\x08";
            for (int i = 0; i < 8; ++i) out.push_back(char(uint64_t(v) >> (8 * i)));
            return out;
        };
        using namespace std::string_literals;  // the pickles hold NUL bytes
        const std::string overflow = "\x80\x02}(X\x01\x00\x00\x00" "w"s +
                                     "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00" "storagectorch\nByteStorage\n"s +
                                     "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpu"s + long8(8) + "tQ" + long8(0) + "(" +
                                     long8((int64_t(1) << 23) + 1) + "t(" + long8(int64_t(1) << 40) + "t\x89}tRu.";
        row("torch.save size x stride overflow", "fuzz_model_import", torchSave(overflow, {{"archive/data/0", std::string(8, '\0')}}),
            Expect::Refused, "overflow");
        row("torch.save 1M nested tuples", "fuzz_model_import", torchSave("\x80\x02N"s + std::string(1000000, '\x85') + "."),
            Expect::Refused, "holds a tuple");
        row("torch.save dict holding itself", "fuzz_model_import", torchSave("\x80\x02}q\x00X\x01\x00\x00\x00" "ah\x00s."s),
            Expect::Refused, "holding itself");

        // Settings: numbers a field cannot hold are refused, not converted with undefined behaviour.
        row("settings seed beyond uint64", "fuzz_settings", bytesOf(R"({"seed": 184095546744073709551615})"),
            Expect::Refused, "'seed'");
        row("settings seed negative", "fuzz_settings", bytesOf(R"({"seed": -1})"), Expect::Refused, "'seed'");
        row("settings workers 2^40", "fuzz_settings", bytesOf(R"({"workers": 1099511627776})"), Expect::Refused, "'workers'");
        row("settings epochs 2.5", "fuzz_settings", bytesOf(R"({"model": {"epochs": 2.5}})"), Expect::Refused,
            "'model.epochs'");
        row("settings epochs 1e30", "fuzz_settings", bytesOf(R"({"qat": {"epochs": 1e30}})"), Expect::Refused, "'qat.epochs'");
        row("settings epochs 2.0 is 2", "fuzz_settings", bytesOf(R"({"model": {"epochs": 2.0}})"), Expect::Read);
        row("settings number overflow", "fuzz_settings", bytesOf(R"({"qat": {"learning_rate": 1e400}})"), Expect::Refused,
            "malformed JSON");
        row("settings deeply nested", "fuzz_settings", bytesOf(R"({"seed": )" + nested(1000000) + "}"), Expect::Refused,
            "'seed'");

        // Genome JSON: overflowing numbers and deep nesting (once a stack overflow in the message).
        row("genome number overflow", "fuzz_genome", bytesOf("\x03{\"layout\":\"homogeneous\",\"genes\":{\"bits\":1e400}}"),
            Expect::Refused, "malformed JSON");
        row("genome deeply nested bits", "fuzz_genome",
            bytesOf("\x03{\"layout\":\"homogeneous\",\"genes\":{\"bits\":" + nested(1000000) + "}}"), Expect::Refused,
            "a JSON array");
        row("genome deeply nested document", "fuzz_genome", bytesOf("\x03" + nested(1000000)), Expect::Refused);

        // Audio: a rate no resampler handles is refused before the output is allocated (1 Hz asked
        // for 16000 output samples per input sample: 12.8 GB here); NaN samples are refused; a
        // header's frame count is only a hint; a FLAC bomb stops at the sample limit.
        row("wav at 1 Hz", "fuzz_wav", wavFile(1, 1, 16, Bytes(400000, 0)), Expect::Refused, "1 Hz");
        row("wav at 62 Hz", "fuzz_wav", wavFile(62, 1, 16, Bytes(64, 0)), Expect::Refused, "62 Hz");
        row("wav at 63 Hz", "fuzz_wav", wavFile(63, 1, 16, Bytes(64, 0)), Expect::Read);
        row("wav at 2^31-1 Hz", "fuzz_wav", wavFile(0x7FFFFFFF, 1, 16, Bytes(64, 0)), Expect::Refused, "Hz");
        row("float wav with NaN", "fuzz_wav", wavFile(16000, 3, 32, floatSamples({0.5f, std::nanf(""), 0.25f})),
            Expect::Refused, "non-finite");
        row("float wav with infinity", "fuzz_wav", wavFile(16000, 3, 32, floatSamples({0.5f, HUGE_VALF})),
            Expect::Refused, "non-finite");
        row("flac header claims 2^36 frames", "fuzz_wav",
            readFile(regressions / "fuzz_wav" / "flac_header_claims_2pow36_frames.flac"), Expect::Read);
        row("flac bomb", "fuzz_wav", readFile(regressions / "fuzz_wav" / "flac_constant_frames_bomb_72M_samples.flac"),
            Expect::Refused, "longer than");

        // Empty input for every reader.
        for (const char* target : {"fuzz_idx", "fuzz_wav", "fuzz_settings", "fuzz_archive", "fuzz_core_blob"}) {
            row((std::string("empty input, ") + target).c_str(), target, Bytes(), Expect::Refused);
        }
    }

    void tricky() {
        QFETCH(QString, target);
        QFETCH(QByteArray, input);
        QFETCH(int, expect);
        QFETCH(QString, refusalMentions);
        const Outcome outcome = run(*replayFor(target.toStdString()), Bytes(input.begin(), input.end()));
        QVERIFY2(outcome.failure.empty(), outcome.failure.c_str());
        if (Expect(expect) == Expect::Refused) {
            QVERIFY2(!outcome.read, "was read, expected InputError");
            QVERIFY2(outcome.refusal.find(refusalMentions.toStdString()) != std::string::npos, outcome.refusal.c_str());
        } else if (Expect(expect) == Expect::Read) {
            QVERIFY2(outcome.read, outcome.refusal.c_str());
        }
    }
};

QTEST_APPLESS_MAIN(TestFuzzRegressions)
#include "test_fuzz_regressions.moc"
