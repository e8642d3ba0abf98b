// libFuzzer target for the search archive opener (core/search/src/archive.cpp, SQLite): SearchArchive::open,
// read-only and read-write, and every read a viewer or a resumed search makes afterwards.
//
// The input is written as an archive file (no -wal / -shm beside it) and opened read-only; the
// individuals (fine-tune records included), models, generations, settings and state are read and the
// integrity check is run. The file
// must then still hold exactly the input bytes (read-only opens never write). The input is opened
// again read-write (WAL switch, migration of older schemas), read the same way, and one state value
// is written, as a search does on resume, and a fine-tuned copy of the first individual is stored
// and updated. Acceptable: InputError at any step. Anything else is a
// finding. SQLite is the system's library (not instrumented): its own robustness against damaged
// files is SQLite's business; what is fuzzed here is that every failure surfaces as an InputError
// and that gruq's decoding of the rows (JSON id lists, genes) holds.
// Build and seeds: scripts/fuzz.sh (target fuzz_archive).
#include "fuzz_support.h"

#include "gruq/search/archive.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

void readEverything(const gruq::SearchArchive& archive) {
    archive.schemaVersion();
    archive.settingsJson();
    archive.floatModelJson();
    const std::vector<gruq::ArchivedIndividual> all = archive.individuals();
    archive.individualCount();
    archive.individualsAfter(0);
    if (!all.empty()) {
        archive.individual(all.front().id);
        archive.findGenome(all.back().layout, all.back().genome);
        archive.model(all.front().id);
    }
    archive.modelCount();
    archive.generations();
    archive.lastGeneration();
    archive.state("status");
    archive.integrityCheck();
}

void removeSidecars(const std::string& path) {
    std::error_code ignored;
    for (const char* suffix : {"-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ignored);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::scratchDir("archive") + "/input.gruq";
    removeSidecars(path);
    fuzz::writeFile(path, data, size);

    fuzz::acceptedOrInputError([&] {
        const gruq::SearchArchive archive = gruq::SearchArchive::open(path, true);
        readEverything(archive);
    });
    {
        std::ifstream in(path, std::ios::binary);
        const std::vector<uint8_t> after((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (after.size() != size || (size && std::memcmp(after.data(), data, size) != 0)) {
            fuzz::invariantBroken("a read-only open changed the archive file");
        }
    }

    removeSidecars(path);
    fuzz::acceptedOrInputError([&] {
        gruq::SearchArchive archive = gruq::SearchArchive::open(path, false);
        readEverything(archive);
        archive.setState("fuzz", "resumed");
        // A fine-tune stores a copy of an individual beside it, then replaces its figures and model.
        const std::vector<gruq::ArchivedIndividual> all = archive.individuals();
        if (!all.empty()) {
            gruq::ArchivedIndividual copy = all.front();
            copy.id = 0;
            copy.sourceId = all.front().id;
            copy.fineTune.status = "running";
            copy.id = archive.storeFineTune(copy, {1, 2, 3});
            copy.fineTune.status = "finished";
            archive.storeFineTune(copy, {4});
            readEverything(archive);
        }
    });
    return 0;
}
