// What clicking a front point costs with the archive's stored models (issue 19): for up to five front
// points of an archive, the seconds of rebuildArchivedIndividual + the test split's confusion matrix
// (what the GUI's inspector runs off the GUI thread), after the task data was read ahead (as the GUI does
// when an archive is opened; that read is timed apart); and what the stored models cost in archive size:
// the file, the models table's share (SQLite's dbstat), per model. Prints figures, asserts nothing.
//
//     bench_archived_model ARCHIVE.gruq
#include "gruq/quant/evaluate.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/search/archive_model.h"
#include "gruq/search/search.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

using namespace gruq;

namespace {

// Bytes of the pages of one table (and its indices), from SQLite's dbstat virtual table.
int64_t tableBytes(const std::string& path, const char* table) {
    sqlite3* db = nullptr;
    int64_t bytes = -1;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        const std::string sql = std::string("SELECT SUM(pgsize) FROM dbstat WHERE name='") + table + "'";
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            bytes = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return bytes;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s ARCHIVE.gruq\n", argv[0]);
        return 2;
    }
    const std::string path = argv[1];
    const SearchArchive archive = SearchArchive::open(path, true);
    std::vector<ArchivedIndividual> front = paretoFront(archive.individuals());
    if (front.size() > 5) front.resize(5);
    const int64_t steps = qatStepsRun();
    std::vector<double> clicks;
    // What the GUI does when an archive is opened or a search ends: the task data read in the background.
    const auto p0 = std::chrono::steady_clock::now();
    preloadArchiveTask(path);
    std::printf("task data read ahead (GUI: in the background when the archive is opened): %.2f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count());
    for (size_t i = 0; i < front.size(); ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const RebuiltIndividual r = rebuildArchivedIndividual(path, front[i].id);
        const auto matrix = IntegerGruEngine(r.evaluation.model).confusionMatrix(r.data->test, 0);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("click #%lld (%s): %.2f s\n", static_cast<long long>(front[i].id), r.fromStoredModel ? "stored model" : "rebuilt", s);
        clicks.push_back(s);
        (void)matrix;
    }
    std::sort(clicks.begin(), clicks.end());
    const double fileBytes = double(std::filesystem::file_size(path));
    const int64_t modelBytes = tableBytes(path, "models");
    std::printf("archived model clicks: median %.2f s; QAT steps run: %lld\n",
                clicks.empty() ? -1.0 : clicks[clicks.size() / 2], static_cast<long long>(qatStepsRun() - steps));
    std::printf("archive: %.0f kB with %lld individuals, %lld stored models taking %.0f kB (%.1f kB per model); "
                "without them %.0f kB\n",
                fileBytes / 1024, static_cast<long long>(archive.individualCount()), static_cast<long long>(archive.modelCount()),
                double(modelBytes) / 1024, archive.modelCount() ? double(modelBytes) / 1024 / double(archive.modelCount()) : 0.0,
                (fileBytes - double(modelBytes)) / 1024);
    return 0;
}
