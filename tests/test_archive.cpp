// Search archive: round trips, duplicates, followers, read-only opens, threads, crash safety,
// migration from schema v1, and every kind of bad file (each with its specific message).
#include "gruq/search/archive.h"
#include "gruq/search/search.h"
#include "gruq/base/errors.h"
#include "gruq/base/process_identity.h"

#include "test_support.h"
#include "unprivileged_files.h"

#include <QtTest>

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <thread>

using namespace gruq;
namespace fs = std::filesystem;

namespace {

const std::string kSettings = R"({"task":"mnist","population":24,"generations":10,"seed":7})";
const std::string kFloatModel = R"({"hash":"3fa9c0de","hidden":64,"accuracy":0.9812})";

using test::readBytes;
using test::writeBytes;

bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Sample values chosen to catch any decimal round trip: 1/3, 0.1+0.2, a subnormal, huge numbers.
ArchivedIndividual sampleIndividual(int n) {
    ArchivedIndividual individual;
    individual.layout = n % 3 == 0 ? "default17" : "compact9";
    individual.genome = "genome-" + std::to_string(n) + "-" + std::string(60, char('a' + n % 26));
    individual.genes = {2 + n % 7, 8, 4, 1 + n % 3, 6, n};
    individual.validationAccuracy = 1.0 / (n + 3.0);
    individual.fakeQuantValidationAccuracy = 0.1 + 0.2 + n * 1e-17;
    individual.testAccuracy = n % 2 ? std::nextafter(0.75, 1.0) : -1;
    individual.fakeQuantTestAccuracy = n % 2 ? 2.0 / 3.0 : -1;
    individual.sizeBits = 123456789012345LL + n;
    individual.sizeFraction = n == 0 ? 5e-324 : std::sqrt(2.0) / (n + 1);
    individual.seconds = 1e300 / (n + 7);
    individual.generation = n % 4 == 0 ? -1 : n % 5;
    individual.baseline = n % 4 == 0;
    individual.fidelity = n % 3 == 1 ? 0.25 : 1.0;  // multi-fidelity: some stopped at the rung
    individual.rungValidationAccuracy = n % 2 ? 1.0 / (n + 5.0) : -1;
    return individual;
}

// Empty when equal in every field (doubles bit for bit), else the first difference.
std::string difference(const ArchivedIndividual& a, const ArchivedIndividual& b) {
    if (a.id != b.id) return "id " + std::to_string(a.id) + " vs " + std::to_string(b.id);
    if (a.layout != b.layout) return "layout " + a.layout + " vs " + b.layout;
    if (a.genome != b.genome) return "genome " + a.genome + " vs " + b.genome;
    if (a.genes != b.genes) return "genes of " + a.genome;
    if (a.sourceId != b.sourceId) return "sourceId of " + a.genome;
    if (!sameBits(a.validationAccuracy, b.validationAccuracy)) return "validationAccuracy of " + a.genome;
    if (!sameBits(a.fakeQuantValidationAccuracy, b.fakeQuantValidationAccuracy))
        return "fakeQuantValidationAccuracy of " + a.genome;
    if (!sameBits(a.testAccuracy, b.testAccuracy)) return "testAccuracy of " + a.genome;
    if (!sameBits(a.fakeQuantTestAccuracy, b.fakeQuantTestAccuracy)) return "fakeQuantTestAccuracy of " + a.genome;
    if (a.sizeBits != b.sizeBits) return "sizeBits of " + a.genome;
    if (!sameBits(a.sizeFraction, b.sizeFraction)) return "sizeFraction of " + a.genome;
    if (!sameBits(a.seconds, b.seconds)) return "seconds of " + a.genome;
    if (a.generation != b.generation) return "generation of " + a.genome;
    if (a.baseline != b.baseline) return "baseline of " + a.genome;
    if (!sameBits(a.fidelity, b.fidelity)) return "fidelity of " + a.genome;
    if (!sameBits(a.rungValidationAccuracy, b.rungValidationAccuracy)) return "rungValidationAccuracy of " + a.genome;
    return {};
}

ArchivedIndividual withId(ArchivedIndividual individual, int64_t id) {
    individual.id = id;
    return individual;
}

// Direct SQLite access, to build foreign / old / tampered files the archive itself would never write.
void rawExec(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    char* error = nullptr;
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const std::string message = error ? error : (db ? sqlite3_errmsg(db) : "open failed");
    sqlite3_free(error);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error("rawExec " + path + ": " + message);
}

int64_t rawPragma(const std::string& path, const std::string& pragma) {
    sqlite3* db = nullptr;
    int64_t value = -12345;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db, ("PRAGMA " + pragma).c_str(), -1, &statement, nullptr) == SQLITE_OK &&
            sqlite3_step(statement) == SQLITE_ROW)
            value = sqlite3_column_int64(statement, 0);
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return value;
}

// Runs fn, expects an InputError naming `path` whose problem starts with `problemStart`.
template <typename Fn>
std::string expectInputError(Fn fn, const std::string& path, const std::string& problemStart) {
    try {
        fn();
    } catch (const InputError& e) {
        if (e.path() != path) return std::string("wrong path in: ") + e.what();
        if (e.problem().rfind(problemStart, 0) != 0) return std::string("wrong problem in: ") + e.what();
        if (std::string(e.what()).find(path) == std::string::npos) return std::string("path not in: ") + e.what();
        return {};
    } catch (const std::exception& e) {
        return std::string("not an InputError: ") + e.what();
    }
    return "no error for " + path;
}

#define EXPECT_INPUT_ERROR(statement, path, problemStart)                                             \
    do {                                                                                             \
        const std::string failure = expectInputError([&] { statement; }, (path), (problemStart));    \
        QVERIFY2(failure.empty(), failure.c_str());                                                  \
    } while (0)

// Reads everything an archive holds (what the GUI does when it shows one).
void readEverything(const SearchArchive& archive) {
    (void)archive.settingsJson();
    (void)archive.floatModelJson();
    (void)archive.individuals();
    (void)archive.individualCount();
    (void)archive.generations();
    (void)archive.lastGeneration();
    (void)archive.state("status");
}

const char* const kVersion1Schema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA application_id=1196578129;
PRAGMA user_version=1;
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE individuals(
    id INTEGER PRIMARY KEY,
    layout TEXT NOT NULL,
    genome TEXT NOT NULL,
    genes TEXT NOT NULL,
    val_accuracy REAL,
    fq_val_accuracy REAL,
    test_accuracy REAL,
    size_bits INTEGER NOT NULL,
    size_fraction REAL,
    seconds REAL,
    generation INTEGER NOT NULL,
    baseline INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE(layout, genome));
CREATE TABLE generations(
    generation INTEGER PRIMARY KEY,
    population TEXT NOT NULL,
    front TEXT NOT NULL,
    hypervolume REAL,
    seconds REAL);
INSERT INTO meta VALUES('settings', '{"task":"kws"}'), ('float_model', '{"hash":"old"}'), ('created_by', 'gruq');
INSERT INTO individuals VALUES
    (1, 'default17', 'aaa', '[8,8,8]', 0.5, 0.25, -1, 1000, 1.0, 2.5, -1, 1, '2024-01-01T00:00:00.000Z'),
    (2, 'default17', 'bbb', '[4,2,8]', 0.125, 0.0625, 0.75, 600, 0.6, 3.5, 0, 0, '2024-01-01T00:00:01.000Z');
INSERT INTO generations VALUES(0, '[1,2]', '[2,1]', 0.375, 9.5);
)sql";

static_assert(kArchiveApplicationId == 1196578129, "kVersion1Schema spells the application id in decimal");

}  // namespace

class TestArchive : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string bigArchive_;  // closed archive spanning many pages, copied by the damage tests

    std::string path(const std::string& name) const { return dir_.path().toStdString() + "/" + name; }

    std::string copyOfBigArchive(const std::string& name) {
        const std::string copy = path(name);
        fs::copy_file(bigArchive_, copy, fs::copy_options::overwrite_existing);
        return copy;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        bigArchive_ = path("big.gruq");
        SearchArchive archive = SearchArchive::create(bigArchive_, kSettings, kFloatModel);
        for (int n = 0; n < 1500; ++n) archive.addIndividual(sampleIndividual(n));
        for (int g = 0; g < 20; ++g) archive.addGeneration({g, {1, 2, 3, g + 4}, {3, 1}, 0.5 + g, 10.0 * g});
        archive.setState("status", "finished");
        QVERIFY(fs::file_size(bigArchive_) > 40 * 4096);
    }

    // The writer identity a follower uses to tell a dead search from a running one.
    void writerLiveness() {
        const std::string me = thisProcessIdentity();
        QCOMPARE(livenessOf(me), ProcessLiveness::Alive);
        const pid_t child = fork();
        if (child == 0) _exit(0);
        QVERIFY(child > 0);
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);  // reaped: the pid names no process now
        const std::string host = me.substr(0, me.rfind(':'));
        QCOMPARE(livenessOf(host + ":" + std::to_string(child)), ProcessLiveness::Gone);
        QCOMPARE(livenessOf("another-host.example:" + std::to_string(getpid())), ProcessLiveness::Unknown);
        for (const char* bad : {"", ":", "nohost", "x:", "x:abc", "x:-3", "x:99999999999999999999"})
            QCOMPARE(livenessOf(bad), ProcessLiveness::Unknown);
        QCOMPARE(livenessOf(host + ":0"), ProcessLiveness::Unknown);  // 0 would mean "my process group"
    }

    // A creator killed mid-way leaves ".NAME.creating-host:pid"; the next create beside it removes such
    // leftovers of dead processes on this host, and only those.
    void deadCreatorsLeftoversAreRemoved() {
        const std::string me = thisProcessIdentity();
        const std::string host = me.substr(0, me.rfind(':'));
        const pid_t child = fork();
        if (child == 0) _exit(0);
        QVERIFY(child > 0);
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        const std::string prefix = path(".left.gruq.creating-");
        const std::string dead = prefix + host + ":" + std::to_string(child);
        const std::string live = prefix + host + ":" + std::to_string(getppid());
        const std::string elsewhere = prefix + "another-host.example:" + std::to_string(child);
        for (const std::string& f : {dead, dead + "-wal", dead + "-shm", live, elsewhere}) std::ofstream(f) << "partial";
        SearchArchive::create(path("left.gruq"), "{}", "{}");
        QVERIFY(!std::filesystem::exists(dead));
        QVERIFY(!std::filesystem::exists(dead + "-wal"));
        QVERIFY(!std::filesystem::exists(dead + "-shm"));
        QVERIFY(std::filesystem::exists(live));       // maybe still being built by that process
        QVERIFY(std::filesystem::exists(elsewhere));  // another machine's: cannot tell
        QVERIFY(!std::filesystem::exists(prefix + me));
        QVERIFY(std::filesystem::exists(path("left.gruq")));
    }

    void createAndReopenRoundTrip() {
        const std::string file = path("roundtrip.gruq");
        std::vector<ArchivedIndividual> stored;
        {
            SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
            QCOMPARE(archive.path(), file);
            QCOMPARE(archive.schemaVersion(), kArchiveSchemaVersion);
            QCOMPARE(archive.individualCount(), int64_t(0));
            QVERIFY(!archive.lastGeneration());
            QVERIFY(!archive.state("status"));
            for (int n = 0; n < 6; ++n) {
                ArchivedIndividual individual = sampleIndividual(n);
                individual.id = archive.addIndividual(individual);
                stored.push_back(individual);
            }
            archive.addGeneration({0, {1, 2, 3}, {3, 1}, 0.25, 1.5});
            archive.addGeneration({1, {1, 2, 4}, {4}, 0.5, 3.5});
            archive.addGeneration({1, {4, 5, 6}, {6, 4}, 1.0 / 3.0, 4.5});  // replaces generation 1
            archive.setState("status", "running");
            archive.setState("status", "finished");
            archive.setState("note", "");
        }
        QCOMPARE(rawPragma(file, "application_id"), int64_t(kArchiveApplicationId));
        QCOMPARE(rawPragma(file, "user_version"), int64_t(kArchiveSchemaVersion));

        SearchArchive archive = SearchArchive::open(file);
        QCOMPARE(archive.schemaVersion(), kArchiveSchemaVersion);
        QCOMPARE(archive.settingsJson(), kSettings);
        QCOMPARE(archive.floatModelJson(), kFloatModel);
        const std::vector<ArchivedIndividual> individuals = archive.individuals();
        QCOMPARE(individuals.size(), stored.size());
        for (size_t i = 0; i < stored.size(); ++i) {
            QCOMPARE(individuals[i].id, int64_t(i + 1));  // ids 1, 2, ... in insertion order
            const std::string diff = difference(individuals[i], stored[i]);
            QVERIFY2(diff.empty(), diff.c_str());
        }
        const auto found = archive.findGenome(stored[2].layout, stored[2].genome);
        QVERIFY(found);
        QVERIFY2(difference(*found, stored[2]).empty(), "findGenome");
        QVERIFY(!archive.findGenome("other-layout", stored[2].genome));
        QVERIFY(archive.individual(4));
        QVERIFY2(difference(*archive.individual(4), stored[3]).empty(), "individual(4)");
        QVERIFY(!archive.individual(99));

        const std::vector<ArchivedGeneration> generations = archive.generations();
        QCOMPARE(generations.size(), size_t(2));
        QCOMPARE(generations[0].generation, 0);
        QCOMPARE(generations[0].population, (std::vector<int64_t>{1, 2, 3}));
        QCOMPARE(generations[0].front, (std::vector<int64_t>{3, 1}));
        QVERIFY(sameBits(generations[0].hypervolume, 0.25));
        QCOMPARE(generations[1].population, (std::vector<int64_t>{4, 5, 6}));
        QCOMPARE(generations[1].front, (std::vector<int64_t>{6, 4}));
        QVERIFY(sameBits(generations[1].hypervolume, 1.0 / 3.0));
        QVERIFY(sameBits(generations[1].seconds, 4.5));
        QCOMPARE(archive.lastGeneration()->generation, 1);
        QCOMPARE(archive.state("status").value_or("?"), std::string("finished"));
        QCOMPARE(archive.state("note").value_or("?"), std::string(""));
        QVERIFY(!archive.state("missing"));
        QCOMPARE(archive.integrityCheck(), std::string("ok"));
    }

    void nanAndInfinityRoundTrip() {
        SearchArchive archive = SearchArchive::create(path("nan.gruq"), "{}", "{}");
        ArchivedIndividual individual = sampleIndividual(1);
        individual.validationAccuracy = std::numeric_limits<double>::quiet_NaN();
        individual.seconds = std::numeric_limits<double>::infinity();
        const int64_t id = archive.addIndividual(individual);
        const ArchivedIndividual back = archive.individual(id).value();
        QVERIFY(std::isnan(back.validationAccuracy));
        QVERIFY(std::isinf(back.seconds));
    }

    void duplicateGenomeReturnsExistingId() {
        SearchArchive archive = SearchArchive::create(path("duplicates.gruq"), kSettings, kFloatModel);
        const ArchivedIndividual first = sampleIndividual(3);
        const int64_t firstId = archive.addIndividual(first);
        const int64_t secondId = archive.addIndividual(sampleIndividual(4));
        QVERIFY(secondId > firstId);

        ArchivedIndividual again = first;
        again.validationAccuracy = 0.999;
        again.generation = 7;
        QCOMPARE(archive.addIndividual(again), firstId);
        QCOMPARE(archive.individualCount(), int64_t(2));
        const std::string diff = difference(archive.individual(firstId).value(), withId(first, firstId));
        QVERIFY2(diff.empty(), diff.c_str());  // the stored one is unchanged

        ArchivedIndividual otherLayout = first;
        otherLayout.layout = "another-layout";
        QVERIFY(archive.addIndividual(otherLayout) > secondId);  // same genome text, other layout: new
        QCOMPARE(archive.individualCount(), int64_t(3));
    }

    // A fine-tuned copy has its source's genome: stored beside it (not deduplicated into it), never
    // found as the search's individual of that genome, updated in place with its model as it improves.
    void fineTunedCopiesShareTheirSourcesGenome() {
        const std::string file = path("fine-tune.gruq");
        SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
        const ArchivedIndividual source = sampleIndividual(3);
        const int64_t sourceId = archive.addIndividual(source);
        archive.addModel(sourceId, {7, 7});

        ArchivedIndividual tuned = source;
        tuned.sourceId = sourceId;
        tuned.validationAccuracy = 0.5;
        tuned.fineTune = {10, 1, 1, 3, 5e-4, "running"};
        const int64_t tunedId = archive.storeFineTune(tuned, {1, 2});
        QVERIFY(tunedId > sourceId);
        QCOMPARE(archive.findGenome(source.layout, source.genome)->id, sourceId);
        QCOMPARE(archive.addIndividual(source), sourceId);  // still deduplicated among the search's own
        QCOMPARE(archive.individualCount(), int64_t(2));

        tuned.id = tunedId;
        tuned.validationAccuracy = 0.625;
        tuned.testAccuracy = 0.6;
        tuned.fineTune = {10, 4, 4, 3, 5e-4, "finished"};
        QCOMPARE(archive.storeFineTune(tuned, {3, 4, 5}), tunedId);
        ArchivedIndividual wrongSource = tuned;
        wrongSource.sourceId = sourceId + 5;
        QVERIFY_THROWS_EXCEPTION(InputError, archive.storeFineTune(wrongSource, {}));
        QCOMPARE(archive.individualCount(), int64_t(2));

        const SearchArchive reader = SearchArchive::open(file, true);
        const ArchivedIndividual back = reader.individual(tunedId).value();
        QVERIFY(back.isFineTune() && !reader.individual(sourceId)->isFineTune());
        QCOMPARE(back.sourceId, sourceId);
        QCOMPARE(back.genome, source.genome);
        QVERIFY(sameBits(back.validationAccuracy, 0.625));
        QVERIFY(sameBits(back.testAccuracy, 0.6));
        QCOMPARE(back.fineTune.epochsRun, 4);
        QCOMPARE(back.fineTune.bestEpoch, 4);
        QCOMPARE(back.fineTune.status, std::string("finished"));
        QVERIFY(sameBits(back.fineTune.learningRate, 5e-4));
        QCOMPARE(reader.model(tunedId).value(), (std::vector<uint8_t>{3, 4, 5}));  // replaced by the better epoch
        QCOMPARE(reader.model(sourceId).value(), (std::vector<uint8_t>{7, 7}));
        // The search's front ignores it even though it dominates its source.
        for (const ArchivedIndividual& a : paretoFront(reader.individuals())) QVERIFY(!a.isFineTune());
    }

    void individualsAfter() {
        SearchArchive archive = SearchArchive::create(path("after.gruq"), kSettings, kFloatModel);
        std::vector<int64_t> ids;
        for (int n = 0; n < 5; ++n) ids.push_back(archive.addIndividual(sampleIndividual(n)));
        QVERIFY(std::is_sorted(ids.begin(), ids.end()));
        QCOMPARE(std::set<int64_t>(ids.begin(), ids.end()).size(), size_t(5));
        QCOMPARE(archive.individualsAfter(0).size(), size_t(5));
        const auto tail = archive.individualsAfter(ids[2]);
        QCOMPARE(tail.size(), size_t(2));
        QCOMPARE(tail[0].id, ids[3]);
        QCOMPARE(tail[1].id, ids[4]);
        QVERIFY(archive.individualsAfter(ids[4]).empty());
    }

    void setTestAccuracy() {
        const std::string file = path("testacc.gruq");
        int64_t id = 0;
        {
            SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
            archive.addIndividual(sampleIndividual(0));
            id = archive.addIndividual(sampleIndividual(2));
            archive.setTestAccuracy(id, 1.0 / 7.0, 0.1 + 0.7);
            EXPECT_INPUT_ERROR(archive.setTestAccuracy(999, 0.5, 0.5), file, "no individual with id 999");
        }
        SearchArchive archive = SearchArchive::open(file);
        const ArchivedIndividual back = archive.individual(id).value();
        QVERIFY(sameBits(back.testAccuracy, 1.0 / 7.0));
        QVERIFY(sameBits(back.fakeQuantTestAccuracy, 0.1 + 0.7));
        QVERIFY(sameBits(back.validationAccuracy, sampleIndividual(2).validationAccuracy));
        QVERIFY(sameBits(archive.individual(1)->testAccuracy, -1));
    }

    void readOnlyOpenNeverWrites() {
        const std::string file = path("readonly.gruq");
        {
            SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
            for (int n = 0; n < 10; ++n) archive.addIndividual(sampleIndividual(n));
            archive.addGeneration({0, {1, 2}, {2}, 0.5, 1.0});
            archive.setState("status", "finished");
        }
        const std::string bytesBefore = readBytes(file);
        const auto mtimeBefore = fs::last_write_time(file);
        {
            SearchArchive archive = SearchArchive::open(file, true);
            readEverything(archive);
            QCOMPARE(archive.individualCount(), int64_t(10));
            QCOMPARE(archive.state("status").value_or("?"), std::string("finished"));
            QCOMPARE(archive.integrityCheck(), std::string("ok"));
            EXPECT_INPUT_ERROR(archive.addIndividual(sampleIndividual(50)), file, "opened read-only");
            EXPECT_INPUT_ERROR(archive.addIndividual(sampleIndividual(1)), file, "opened read-only");
            EXPECT_INPUT_ERROR(archive.setTestAccuracy(1, 0.5, 0.5), file, "opened read-only");
            EXPECT_INPUT_ERROR(archive.addGeneration({1, {1}, {1}, 1, 1}), file, "opened read-only");
            EXPECT_INPUT_ERROR(archive.setState("status", "running"), file, "opened read-only");
            QCOMPARE(archive.individualCount(), int64_t(10));
        }
        QVERIFY(readBytes(file) == bytesBefore);
        QVERIFY(fs::last_write_time(file) == mtimeBefore);
    }

    void followerSeesCommitsOfOpenWriter() {
        const std::string file = path("follow.gruq");
        SearchArchive writer = SearchArchive::create(file, kSettings, kFloatModel);
        writer.setState("status", "running");
        const int64_t firstId = writer.addIndividual(sampleIndividual(0));

        SearchArchive follower = SearchArchive::open(file, true);
        QCOMPARE(follower.settingsJson(), kSettings);
        QCOMPARE(follower.state("status").value_or("?"), std::string("running"));
        QCOMPARE(follower.individualsAfter(0).size(), size_t(1));

        int64_t lastSeen = firstId;
        for (int round = 1; round <= 3; ++round) {
            for (int n = 0; n < 4; ++n) writer.addIndividual(sampleIndividual(round * 10 + n));
            writer.addGeneration({round, {1}, {1}, double(round), double(round)});
            const std::vector<ArchivedIndividual> fresh = follower.individualsAfter(lastSeen);
            QCOMPARE(fresh.size(), size_t(4));
            const std::string diff = difference(fresh[0], withId(sampleIndividual(round * 10), fresh[0].id));
            QVERIFY2(diff.empty(), diff.c_str());
            lastSeen = fresh.back().id;
            QCOMPARE(follower.lastGeneration()->generation, round);
        }
        writer.setState("status", "finished");
        QCOMPARE(follower.state("status").value_or("?"), std::string("finished"));
        QCOMPARE(follower.individualCount(), writer.individualCount());
    }

    // A kill -9 right after addIndividual returns keeps that individual (it was committed).
    void survivesKillRightAfterAdd() {
        const std::string file = path("killed.gruq");
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            try {
                SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
                archive.addIndividual(sampleIndividual(0));
                archive.setState("status", "running");
                archive.addIndividual(sampleIndividual(1));
                raise(SIGKILL);  // no destructor, no checkpoint, no close
            } catch (...) {
            }
            _exit(3);
        }
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY2(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child did not die by SIGKILL");

        {
            SearchArchive follower = SearchArchive::open(file, true);
            QCOMPARE(follower.individualCount(), int64_t(2));
        }
        SearchArchive resumed = SearchArchive::open(file);
        QCOMPARE(resumed.individualCount(), int64_t(2));
        const std::string diff = difference(resumed.individual(2).value(), withId(sampleIndividual(1), 2));
        QVERIFY2(diff.empty(), diff.c_str());
        QCOMPARE(resumed.state("status").value_or("?"), std::string("running"));
        QCOMPARE(resumed.addIndividual(sampleIndividual(2)), int64_t(3));
    }

    // A write that fails (here: file size limit, standing in for a full disk) is an InputError naming
    // the archive, and what was committed before it stays readable.
    void writeFailureIsAnInputError() {
        const std::string file = path("full.gruq");
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            int exitCode = 10;
            try {
                SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
                archive.addIndividual(sampleIndividual(0));
                signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of a signal
                const rlimit limit{256 * 1024, 256 * 1024};
                setrlimit(RLIMIT_FSIZE, &limit);
                for (int n = 1; n < 100000; ++n) archive.addIndividual(sampleIndividual(n));
                exitCode = 11;  // never hit the limit
            } catch (const InputError& e) {
                std::fprintf(stderr, "child got: %s\n", e.what());
                exitCode = e.path() == file && e.problem().rfind("write failed: ", 0) == 0 ? 0 : 12;
            } catch (...) {
                exitCode = 13;
            }
            _exit(exitCode);
        }
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY2(WIFEXITED(status), "child crashed");
        QCOMPARE(WEXITSTATUS(status), 0);
        SearchArchive archive = SearchArchive::open(file, true);
        QVERIFY(archive.individualCount() > 1);
        QVERIFY(archive.individualCount() < 100000);
    }

    void concurrentAddsFromFourThreads() {
        SearchArchive archive = SearchArchive::create(path("threads.gruq"), kSettings, kFloatModel);
        const int threadCount = 4, addsPerThread = 100;
        std::vector<std::vector<int64_t>> idsByThread(threadCount);
        std::atomic<bool> writing{true};
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < threadCount; ++t) {
            threads.emplace_back([&, t] {
                try {
                    for (int n = 0; n < addsPerThread; ++n)
                        idsByThread[t].push_back(archive.addIndividual(sampleIndividual(t * 1000 + n)));
                } catch (...) {
                    ++failures;
                }
            });
        }
        std::thread reader([&] {  // a GUI-like reader on the same object meanwhile
            try {
                while (writing) (void)archive.individualsAfter(archive.individualCount() / 2);
            } catch (...) {
                ++failures;
            }
        });
        for (std::thread& thread : threads) thread.join();
        writing = false;
        reader.join();

        QCOMPARE(failures.load(), 0);
        std::set<int64_t> distinct;
        for (const auto& ids : idsByThread) distinct.insert(ids.begin(), ids.end());
        QCOMPARE(distinct.size(), size_t(threadCount * addsPerThread));
        QCOMPARE(archive.individualCount(), int64_t(threadCount * addsPerThread));
        QCOMPARE(archive.individuals().size(), size_t(threadCount * addsPerThread));
    }

    void moveKeepsTheConnection() {
        SearchArchive first = SearchArchive::create(path("moved.gruq"), kSettings, kFloatModel);
        first.addIndividual(sampleIndividual(0));
        SearchArchive second = std::move(first);
        QCOMPARE(second.individualCount(), int64_t(1));
        SearchArchive third = SearchArchive::create(path("moved2.gruq"), kSettings, kFloatModel);
        third = std::move(second);
        QCOMPARE(third.path(), path("moved.gruq"));
        QCOMPARE(third.addIndividual(sampleIndividual(1)), int64_t(2));
    }

    // ---- bad files ----

    void missingFile() {
        const std::string file = path("no-such.gruq");
        EXPECT_INPUT_ERROR(SearchArchive::open(file), file, "file not found");
        EXPECT_INPUT_ERROR(SearchArchive::open(file, true), file, "file not found");
        QVERIFY(!fs::exists(file));  // opening never creates
    }

    void createOverExistingFile() {
        const std::string text = path("existing.txt");
        writeBytes(text, "my precious notes\n");
        EXPECT_INPUT_ERROR(SearchArchive::create(text, kSettings, kFloatModel), text,
                           "already exists (open it to resume instead)");
        QCOMPARE(readBytes(text), std::string("my precious notes\n"));

        const std::string archiveFile = copyOfBigArchive("existing.gruq");
        const std::string before = readBytes(archiveFile);
        EXPECT_INPUT_ERROR(SearchArchive::create(archiveFile, "{}", "{}"), archiveFile, "already exists");
        QVERIFY(readBytes(archiveFile) == before);
        QVERIFY(!fs::exists(archiveFile + "-wal"));
    }

    void textFile() {
        const std::string file = path("notes.gruq");
        writeBytes(file, std::string(3000, 'x') + "\nthis is not a database\n");
        EXPECT_INPUT_ERROR(SearchArchive::open(file), file, "not an SQLite database");
        EXPECT_INPUT_ERROR(SearchArchive::open(file, true), file, "not an SQLite database");
    }

    void randomBytes() {
        const std::string file = path("random.gruq");
        std::mt19937 generator(42);
        std::string bytes(64 * 1024, '\0');
        for (char& byte : bytes) byte = char(generator() & 0xff);
        writeBytes(file, bytes);
        EXPECT_INPUT_ERROR(SearchArchive::open(file), file, "not an SQLite database");
        EXPECT_INPUT_ERROR(SearchArchive::open(file, true), file, "not an SQLite database");
        QVERIFY(readBytes(file) == bytes);
    }

    void truncatedArchive() {
        for (bool readOnly : {true, false}) {
            const std::string file = copyOfBigArchive("truncated.gruq");
            fs::resize_file(file, fs::file_size(file) / 2);
            try {
                SearchArchive archive = SearchArchive::open(file, readOnly);
                readEverything(archive);
                QFAIL("a truncated archive opened and read without error");
            } catch (const InputError& e) {
                const std::string problem = e.problem();
                QVERIFY2(e.path() == file, e.what());
                QVERIFY2(problem.rfind("damaged", 0) == 0 || problem == "not an SQLite database", e.what());
            }
        }
    }

    void foreignDatabase() {
        const std::string file = path("contacts.db");
        rawExec(file, "CREATE TABLE contacts(name TEXT, phone TEXT); INSERT INTO contacts VALUES('Ada', '123');");
        EXPECT_INPUT_ERROR(SearchArchive::open(file), file, "not a gruq search archive (application id 0x00000000)");
        EXPECT_INPUT_ERROR(SearchArchive::open(file, true), file, "not a gruq search archive");

        const std::string other = path("other-app.db");
        rawExec(other, "PRAGMA application_id=1234; CREATE TABLE t(x);");
        EXPECT_INPUT_ERROR(SearchArchive::open(other), other, "not a gruq search archive (application id 0x000004d2)");

        // Our application id but none of our tables (e.g. hand-made): still not an archive.
        const std::string impostor = path("impostor.gruq");
        rawExec(impostor, "PRAGMA application_id=1196578129; PRAGMA user_version=2; CREATE TABLE t(x);");
        EXPECT_INPUT_ERROR(SearchArchive::open(impostor), impostor, "not a gruq search archive");
        EXPECT_INPUT_ERROR(SearchArchive::open(impostor, true), impostor, "not a gruq search archive");

        const std::string empty = path("empty.gruq");
        writeBytes(empty, "");
        EXPECT_INPUT_ERROR(SearchArchive::open(empty), empty, "not a gruq search archive");
        QCOMPARE(fs::file_size(empty), uintmax_t(0));
    }

    void newerSchemaVersion() {
        const std::string file = copyOfBigArchive("future.gruq");
        rawExec(file, "PRAGMA user_version=99;");
        const std::string message = "archive schema version 99 is newer than this gruq understands (" +
                                    std::to_string(kArchiveSchemaVersion) + ")";
        EXPECT_INPUT_ERROR(SearchArchive::open(file), file, message);
        EXPECT_INPUT_ERROR(SearchArchive::open(file, true), file, message);
        QCOMPARE(rawPragma(file, "user_version"), int64_t(99));
    }

    void corruptedPages() {
        // Inverting whole pages in the middle breaks their b-tree headers: must be caught, not crash.
        const std::string file = copyOfBigArchive("corrupt.gruq");
        std::string bytes = readBytes(file);
        const size_t pageSize = 4096;
        const size_t start = (bytes.size() / 2) / pageSize * pageSize;
        for (size_t i = start; i < start + 3 * pageSize && i < bytes.size(); ++i) bytes[i] = char(~bytes[i]);
        writeBytes(file, bytes);
        for (bool readOnly : {true, false}) {
            try {
                SearchArchive archive = SearchArchive::open(file, readOnly);
                readEverything(archive);
                QFAIL("a corrupted archive opened and read without error");
            } catch (const InputError& e) {
                QVERIFY2(e.path() == file && e.problem().rfind("damaged", 0) == 0, e.what());
            }
        }
    }

    void scatteredByteFlipsNeverCrash() {
        // Small random damage may go unnoticed (a flipped digit in a double), but must never crash
        // or escape as anything other than InputError.
        std::mt19937 generator(7);
        const std::string pristine = readBytes(bigArchive_);
        int detected = 0;
        for (int trial = 0; trial < 25; ++trial) {
            const std::string file = path("flipped-" + std::to_string(trial) + ".gruq");
            std::string bytes = pristine;
            for (int flip = 0; flip < 8; ++flip) {
                const size_t offset = 4096 + generator() % (bytes.size() - 4096);  // keep the header page
                bytes[offset] = char(bytes[offset] ^ (1 + generator() % 255));
            }
            writeBytes(file, bytes);
            try {
                SearchArchive archive = SearchArchive::open(file, trial % 2 == 0);
                readEverything(archive);
            } catch (const InputError& e) {
                QVERIFY2(e.path() == file, e.what());
                ++detected;
            }
        }
        qInfo("damage detected in %d of 25 flipped copies", detected);
    }

    void createWhereItCannot() {
        const std::string file = path("missing-directory/sub/search.gruq");
        EXPECT_INPUT_ERROR(SearchArchive::create(file, kSettings, kFloatModel), file, "cannot create");
        QVERIFY(!fs::exists(path("missing-directory")));
    }

    // A 0555 directory: no new archive there, but an existing one can still be viewed (SQLite cannot
    // create its -wal/-shm files there) and a read-write open says why it cannot write.
    void readOnlyDirectory() {
        const std::string directory = path("locked");
        fs::create_directory(directory);
        const std::string existing = directory + "/existing.gruq";
        fs::copy_file(bigArchive_, existing);
        QCOMPARE(::chmod(directory.c_str(), 0555), 0);
        // Root ignores directory permissions (and CI runs as root): the checks below run with nobody's
        // file permissions, which needs the temporary folder to be traversable by nobody.
        QCOMPARE(::chmod(dir_.path().toLocal8Bit().constData(), 0755), 0);
        std::vector<std::string> failures;
        {
            test::UnprivilegedFiles asNobody;
            const std::string probe = directory + "/probe";
            if (std::FILE* probeFile = std::fopen(probe.c_str(), "w")) {
                std::fclose(probeFile);
                fs::remove(probe);
                failures.push_back("the 0555 directory took a new file: the fault under test is not there");
            }
            const std::string file = directory + "/search.gruq";
            failures.push_back(expectInputError([&] { SearchArchive::create(file, kSettings, kFloatModel); },
                                                file, "cannot create"));
            failures.push_back(expectInputError([&] { SearchArchive::open(existing); }, existing, "not writable"));
            try {
                const SearchArchive viewer = SearchArchive::open(existing, true);
                if (viewer.individualCount() != 1500) failures.push_back("viewer sees a wrong count");
            } catch (const std::exception& e) {
                failures.push_back(std::string("cannot view: ") + e.what());
            }
        }
        ::chmod(directory.c_str(), 0755);  // let QTemporaryDir clean up
        for (const std::string& failure : failures) QVERIFY2(failure.empty(), failure.c_str());
    }

    // ---- migration ----

    void readOnlyOpenDoesNotMigrateVersion1() {
        const std::string file = path("v1-readonly.gruq");
        rawExec(file, kVersion1Schema);
        const std::string bytesBefore = readBytes(file);
        {
            SearchArchive archive = SearchArchive::open(file, true);
            QCOMPARE(archive.schemaVersion(), 1);
            QCOMPARE(archive.settingsJson(), std::string(R"({"task":"kws"})"));
            const std::vector<ArchivedIndividual> individuals = archive.individuals();
            QCOMPARE(individuals.size(), size_t(2));
            QVERIFY(sameBits(individuals[1].fakeQuantTestAccuracy, -1));
            QVERIFY(sameBits(individuals[1].testAccuracy, 0.75));
            QVERIFY(sameBits(archive.findGenome("default17", "aaa")->fakeQuantTestAccuracy, -1));
            QVERIFY(!archive.state("status"));
            QVERIFY(!archive.model(1));  // no models table before schema 3: nothing stored, not an error
            QCOMPARE(archive.modelCount(), int64_t(0));
            QCOMPARE(archive.generations().size(), size_t(1));
        }
        QCOMPARE(rawPragma(file, "user_version"), int64_t(1));
        QVERIFY(readBytes(file) == bytesBefore);
    }

    void migratesVersion1() {
        const std::string file = path("v1.gruq");
        rawExec(file, kVersion1Schema);
        {
            SearchArchive archive = SearchArchive::open(file);
            QCOMPARE(archive.schemaVersion(), kArchiveSchemaVersion);  // 1 -> 2 -> 3 in one transaction
            QCOMPARE(archive.settingsJson(), std::string(R"({"task":"kws"})"));
            QCOMPARE(archive.floatModelJson(), std::string(R"({"hash":"old"})"));
            const std::vector<ArchivedIndividual> individuals = archive.individuals();
            QCOMPARE(individuals.size(), size_t(2));
            QCOMPARE(individuals[0].genome, std::string("aaa"));
            QCOMPARE(individuals[0].genes, (std::vector<int>{8, 8, 8}));
            QVERIFY(individuals[0].baseline);
            QCOMPARE(individuals[0].generation, -1);
            QCOMPARE(individuals[1].sizeBits, int64_t(600));
            QVERIFY(sameBits(individuals[1].validationAccuracy, 0.125));
            QVERIFY(sameBits(individuals[1].fakeQuantValidationAccuracy, 0.0625));
            QVERIFY(sameBits(individuals[1].testAccuracy, 0.75));
            for (const ArchivedIndividual& individual : individuals)
                QVERIFY(sameBits(individual.fakeQuantTestAccuracy, -1));
            QCOMPARE(archive.generations().at(0).front, (std::vector<int64_t>{2, 1}));
            QVERIFY(!archive.state("status"));
            archive.setState("status", "resumed");
            archive.setTestAccuracy(2, 0.5, 0.25);
            QCOMPARE(archive.addIndividual(sampleIndividual(5)), int64_t(3));
            QCOMPARE(archive.findGenome("default17", "aaa")->id, int64_t(1));
            ArchivedIndividual sameGenome = archive.individual(1).value();
            QCOMPARE(archive.addIndividual(sameGenome), int64_t(1));  // the rebuilt table keeps genomes unique
            // Schema 3: models of the old individuals are absent (rebuilt on demand), new ones are kept.
            QVERIFY(!archive.model(1));
            archive.addModel(3, {1, 2, 3});
            archive.addModel(3, {9});  // the first store stays
            QCOMPARE(archive.model(3).value(), (std::vector<uint8_t>{1, 2, 3}));
            QCOMPARE(archive.modelCount(), int64_t(1));
            // Schema 5: evaluations from before multi-fidelity were trained in full, with no rung.
            for (const ArchivedIndividual& individual : archive.individuals()) {
                if (individual.id == 3) continue;
                QCOMPARE(individual.fidelity, 1.0);
                QCOMPARE(individual.rungValidationAccuracy, -1.0);
            }
            QCOMPARE(archive.individual(3)->fidelity, sampleIndividual(5).fidelity);
            QCOMPARE(archive.integrityCheck(), std::string("ok"));
        }
        QCOMPARE(rawPragma(file, "user_version"), int64_t(kArchiveSchemaVersion));
        SearchArchive archive = SearchArchive::open(file, true);
        QCOMPARE(archive.schemaVersion(), kArchiveSchemaVersion);
        QCOMPARE(archive.model(3).value(), (std::vector<uint8_t>{1, 2, 3}));
        QCOMPARE(archive.state("status").value_or("?"), std::string("resumed"));
        QVERIFY(sameBits(archive.individual(2)->fakeQuantTestAccuracy, 0.25));
        QVERIFY(sameBits(archive.individual(1)->fakeQuantTestAccuracy, -1));
    }

    // A fidelity outside (0, 1] can only come from a damaged or hand-edited file.
    void damagedFidelityIsNamed() {
        const std::string file = path("fidelity.gruq");
        {
            SearchArchive archive = SearchArchive::create(file, kSettings, kFloatModel);
            archive.addIndividual(sampleIndividual(1));
        }
        rawExec(file, "UPDATE individuals SET fidelity=0");
        try {
            SearchArchive::open(file, true).individuals();
            QFAIL("a fidelity of 0 was accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("fidelity of individual 1") != std::string::npos, e.what());
        }
    }

    void integrityCheckOnGoodFile() {
        SearchArchive archive = SearchArchive::open(bigArchive_, true);
        QCOMPARE(archive.integrityCheck(), std::string("ok"));
        QCOMPARE(archive.individualCount(), int64_t(1500));
    }
};

QTEST_APPLESS_MAIN(TestArchive)
#include "test_archive.moc"
