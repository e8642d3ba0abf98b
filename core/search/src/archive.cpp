#include "gruq/search/archive.h"

#include "gruq/base/text.h"
#include "gruq/base/errors.h"
#include "gruq/base/process_identity.h"
#include "gruq/search/step_latency.h"

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>

namespace gruq {

namespace {

const char* const kAlreadyExists = "already exists (open it to resume instead)";
const int kBusyTimeoutMs = 5000;  // a reader and a writer in different processes wait, not fail
const int kQuickCheckMaxErrors = 5;

struct DatabaseCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DatabaseHandle = std::unique_ptr<sqlite3, DatabaseCloser>;

struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementHandle = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Every SQLite failure becomes an InputError naming the file. Corruption and "not a database" get
// their fixed wording wherever they surface (SQLite reads pages lazily, so they can appear late).
[[noreturn]] void throwSqliteError(const std::string& path, sqlite3* db, int resultCode, const std::string& action) {
    const int primaryCode = resultCode & 0xff;
    if (primaryCode == SQLITE_NOTADB) throw InputError(path, "not an SQLite database");
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(resultCode);
    // SQLite's words ("disk I/O error", "unable to open database file") hide the system's reason.
    const int systemError = db ? sqlite3_system_errno(db) : 0;
    if (systemError != 0 && primaryCode != SQLITE_CORRUPT) message += std::string(" (") + std::strerror(systemError) + ")";
    else if (primaryCode == SQLITE_IOERR) message += " (is the disk full, or did the file system refuse the write?)";
    if (primaryCode == SQLITE_CORRUPT) throw InputError(path, "damaged: " + message);
    throw InputError(path, action + ": " + message);
}

// One prepared statement; `action` ("read failed", "write failed", ...) prefixes its errors.
class Statement {
public:
    Statement(sqlite3* db, const std::string& path, const std::string& sql, std::string action)
        : db_(db), path_(path), action_(std::move(action)) {
        sqlite3_stmt* raw = nullptr;
        const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr);
        handle_.reset(raw);
        if (rc != SQLITE_OK) throwSqliteError(path_, db_, rc, action_);
    }

    Statement& bind(int index, int64_t value) { return check(sqlite3_bind_int64(handle_.get(), index, value)); }
    Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
    // SQLite stores NaN as NULL; columnDouble reads NULL back as NaN.
    Statement& bind(int index, double value) { return check(sqlite3_bind_double(handle_.get(), index, value)); }
    Statement& bind(int index, const std::string& value) {
        return check(sqlite3_bind_text(handle_.get(), index, value.data(), static_cast<int>(value.size()),
                                       SQLITE_TRANSIENT));
    }
    Statement& bind(int index, const std::vector<uint8_t>& blob) {
        return check(sqlite3_bind_blob(handle_.get(), index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT));
    }

    // True while a row is available; false once done.
    bool step() {
        const int rc = sqlite3_step(handle_.get());
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throwSqliteError(path_, db_, rc, action_);
    }

    int64_t columnInt64(int column) const { return sqlite3_column_int64(handle_.get(), column); }
    int columnInt(int column) const { return sqlite3_column_int(handle_.get(), column); }
    double columnDouble(int column) const {
        if (sqlite3_column_type(handle_.get(), column) == SQLITE_NULL) return std::numeric_limits<double>::quiet_NaN();
        return sqlite3_column_double(handle_.get(), column);
    }
    std::string columnText(int column) const {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(handle_.get(), column));
        const int bytes = sqlite3_column_bytes(handle_.get(), column);
        return text ? std::string(text, static_cast<size_t>(bytes)) : std::string();
    }
    std::vector<uint8_t> columnBlob(int column) const {
        const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(handle_.get(), column));
        const int bytes = sqlite3_column_bytes(handle_.get(), column);
        return data ? std::vector<uint8_t>(data, data + bytes) : std::vector<uint8_t>();
    }

private:
    Statement& check(int rc) {
        if (rc != SQLITE_OK) throwSqliteError(path_, db_, rc, action_);
        return *this;
    }

    sqlite3* db_;
    const std::string& path_;
    std::string action_;
    StatementHandle handle_;
};

void execute(sqlite3* db, const std::string& path, const char* sql, const std::string& action) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) throwSqliteError(path, db, rc, action);
}

// Runs a single-column query and returns its rows as text (PRAGMAs, sqlite_master).
std::vector<std::string> textRows(sqlite3* db, const std::string& path, const std::string& sql,
                                  const std::string& action) {
    Statement statement(db, path, sql, action);
    std::vector<std::string> rows;
    while (statement.step()) rows.push_back(statement.columnText(0));
    return rows;
}

int64_t integerPragma(sqlite3* db, const std::string& path, const std::string& pragma) {
    Statement statement(db, path, "PRAGMA " + pragma, "cannot open");
    return statement.step() ? statement.columnInt64(0) : 0;
}

// Current schema, created in one transaction by create().
const char* const kCreateSchemaSql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE individuals(
    id INTEGER PRIMARY KEY,
    layout TEXT NOT NULL,
    genome TEXT NOT NULL,
    genes TEXT NOT NULL,
    val_accuracy REAL,
    fq_val_accuracy REAL,
    test_accuracy REAL,
    fq_test_accuracy REAL DEFAULT -1,
    size_bits INTEGER NOT NULL,
    size_fraction REAL,
    seconds REAL,
    generation INTEGER NOT NULL,
    baseline INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    source_id INTEGER,
    fine_tune TEXT,
    fidelity REAL NOT NULL DEFAULT 1,
    rung_val_accuracy REAL NOT NULL DEFAULT -1);
CREATE UNIQUE INDEX searched_genomes ON individuals(layout, genome) WHERE source_id IS NULL;
CREATE TABLE generations(
    generation INTEGER PRIMARY KEY,
    population TEXT NOT NULL,
    front TEXT NOT NULL,
    hypervolume REAL,
    seconds REAL);
CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models(id INTEGER PRIMARY KEY, blob BLOB NOT NULL);
)sql";

// Upgrades of older archives, applied in order inside one transaction. A future schema version adds
// one step here (and to kCreateSchemaSql), never edits an existing one.
struct MigrationStep {
    int fromVersion;
    const char* sql;
};
const MigrationStep kMigrationSteps[] = {
    {1,
     "ALTER TABLE individuals ADD COLUMN fq_test_accuracy REAL DEFAULT -1;"
     "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);"},
    {2, "CREATE TABLE models(id INTEGER PRIMARY KEY, blob BLOB NOT NULL);"},
    // Fine-tuned copies share their source's genome: the table is rebuilt (SQLite cannot drop the old
    // UNIQUE constraint) with the uniqueness kept for the search's own individuals only.
    {3,
     "CREATE TABLE individuals_v4(id INTEGER PRIMARY KEY, layout TEXT NOT NULL, genome TEXT NOT NULL, genes TEXT NOT NULL,"
     " val_accuracy REAL, fq_val_accuracy REAL, test_accuracy REAL, fq_test_accuracy REAL DEFAULT -1,"
     " size_bits INTEGER NOT NULL, size_fraction REAL, seconds REAL, generation INTEGER NOT NULL,"
     " baseline INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, source_id INTEGER, fine_tune TEXT);"
     "INSERT INTO individuals_v4(id, layout, genome, genes, val_accuracy, fq_val_accuracy, test_accuracy,"
     " fq_test_accuracy, size_bits, size_fraction, seconds, generation, baseline, created_at)"
     " SELECT id, layout, genome, genes, val_accuracy, fq_val_accuracy, test_accuracy, fq_test_accuracy, size_bits,"
     " size_fraction, seconds, generation, baseline, created_at FROM individuals;"
     "DROP TABLE individuals;"
     "ALTER TABLE individuals_v4 RENAME TO individuals;"
     "CREATE UNIQUE INDEX searched_genomes ON individuals(layout, genome) WHERE source_id IS NULL;"},
    {4,
     "ALTER TABLE individuals ADD COLUMN fidelity REAL NOT NULL DEFAULT 1;"
     "ALTER TABLE individuals ADD COLUMN rung_val_accuracy REAL NOT NULL DEFAULT -1;"},
};
static_assert(sizeof(kMigrationSteps) / sizeof(kMigrationSteps[0]) == kArchiveSchemaVersion - 1,
              "every schema version needs a migration step from the one before");

std::string hex32(int64_t value) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "0x%08" PRIx32, static_cast<uint32_t>(value));
    return buffer;
}

// "file:<path>?immutable=1" with the path percent-encoded, for sqlite3_open_v2 with SQLITE_OPEN_URI.
std::string immutableUri(const std::string& path) {
    std::string uri = "file:";
    for (const unsigned char c : path) {
        if (std::isalnum(c) || std::strchr("/-._~", c)) {
            uri += static_cast<char>(c);
        } else {
            char escaped[4];
            std::snprintf(escaped, sizeof escaped, "%%%02X", c);
            uri += escaped;
        }
    }
    return uri + "?immutable=1";
}

std::string idListJson(const std::vector<int64_t>& ids) { return nlohmann::json(ids).dump(); }

}  // namespace

struct SearchArchive::Impl {
    std::string path;
    bool readOnly = false;
    int schemaVersion = kArchiveSchemaVersion;
    std::string settingsJson;
    std::string floatModelJson;
    GruShape shape{0, 0, 0};  // of the float model: individuals' latency (step_latency.h)
    mutable std::mutex mutex;  // guards the connection: one statement at a time
    DatabaseHandle db;

    // ---- opening ----

    void openConnection(const std::string& filename, int flags, const std::string& action) {
        sqlite3* raw = nullptr;
        // NOMUTEX: our own mutex serialises every use of the connection.
        const int rc = sqlite3_open_v2(filename.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
        db.reset(raw);  // closed by RAII even when opening failed
        if (rc != SQLITE_OK) throwSqliteError(path, db.get(), rc, action);
        sqlite3_extended_result_codes(db.get(), 1);
        sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
        if (readOnly) {
            // A read-only follower must never checkpoint into the writer's file.
            sqlite3_db_config(db.get(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
        }
    }

    // Result code of the first page read (SQLite opens files lazily): SQLITE_OK or the failure.
    int probeFirstRead() {
        sqlite3_stmt* raw = nullptr;
        int rc = sqlite3_prepare_v2(db.get(), "PRAGMA application_id", -1, &raw, nullptr);
        const StatementHandle statement(raw);
        if (rc == SQLITE_OK) rc = sqlite3_step(raw);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }

    void setConnectionPragmas(const std::string& action) {
        execute(db.get(), path, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", action);
    }

    // Identity, version and health checks, cheapest first; nothing here writes.
    void validateExisting() {
        const int64_t applicationId = integerPragma(db.get(), path, "application_id");
        if (applicationId != kArchiveApplicationId)
            throw InputError(path, "not a gruq search archive (application id " + hex32(applicationId) + ")");
        const int64_t version = integerPragma(db.get(), path, "user_version");
        if (version > kArchiveSchemaVersion)
            throw InputError(path, "archive schema version " + std::to_string(version) +
                                       " is newer than this gruq understands (" +
                                       std::to_string(kArchiveSchemaVersion) + ")");
        if (version < 1)
            throw InputError(path, "not a gruq search archive (schema version " + std::to_string(version) + ")");
        schemaVersion = static_cast<int>(version);

        // quick_check, not integrity_check: it skips index cross-checks, so big archives open fast.
        const std::vector<std::string> problems =
            textRows(db.get(), path, "PRAGMA quick_check(" + std::to_string(kQuickCheckMaxErrors) + ")",
                     "cannot open");
        if (problems.size() != 1 || problems.front() != "ok") {
            throw InputError(path, "damaged: " + joined(problems, "; "));
        }

        const std::vector<std::string> tableRows =
            textRows(db.get(), path, "SELECT name FROM sqlite_master WHERE type='table'", "cannot open");
        const std::set<std::string> tables(tableRows.begin(), tableRows.end());
        std::vector<std::string> required = {"meta", "individuals", "generations"};
        if (schemaVersion >= 2) required.push_back("state");
        if (schemaVersion >= 3) required.push_back("models");
        for (const std::string& table : required) {
            if (!tables.count(table))
                throw InputError(path, "not a gruq search archive (no table '" + table + "')");
        }
    }

    void migrate() {
        execute(db.get(), path, "BEGIN IMMEDIATE", "cannot migrate");
        try {
            // Re-read inside the write lock: another process may have migrated meanwhile.
            int version = static_cast<int>(integerPragma(db.get(), path, "user_version"));
            for (const MigrationStep& step : kMigrationSteps) {
                if (step.fromVersion != version) continue;
                execute(db.get(), path, step.sql, "cannot migrate");
                version = step.fromVersion + 1;
            }
            execute(db.get(), path, ("PRAGMA user_version=" + std::to_string(version)).c_str(), "cannot migrate");
            execute(db.get(), path, "COMMIT", "cannot migrate");
            schemaVersion = version;
        } catch (...) {
            sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    std::string metaValue(const std::string& key) {
        Statement statement(db.get(), path, "SELECT value FROM meta WHERE key=?", "read failed");
        statement.bind(1, key);
        if (!statement.step()) throw InputError(path, "damaged: no '" + key + "' in table meta");
        return statement.columnText(0);
    }

    void loadMeta() {
        settingsJson = metaValue("settings");
        floatModelJson = metaValue("float_model");
        shape = shapeOfFloatModelJson(floatModelJson);
    }

    // ---- reading and writing ----

    void requireWritable() const {
        if (readOnly) throw InputError(path, "opened read-only, cannot write");
    }

    std::string individualColumns() const {
        // A v1 archive opened read-only has no fq_test_accuracy column: read it as "not measured".
        return std::string("id, layout, genome, genes, val_accuracy, fq_val_accuracy, test_accuracy, ") +
               (schemaVersion >= 2 ? "fq_test_accuracy" : "-1") +
               ", size_bits, size_fraction, seconds, generation, baseline, " +
               (schemaVersion >= 4 ? "source_id, fine_tune" : "NULL, NULL") + ", " +
               (schemaVersion >= 5 ? "fidelity, rung_val_accuracy" : "1, -1");
    }

    // Search individuals only (fine-tuned copies share their source's genome).
    std::string searchedOnly() const { return schemaVersion >= 4 ? " AND source_id IS NULL" : ""; }

    // Parameters 1..10 of an insert: layout, genome, genes, the four accuracies, size bits and fraction, seconds.
    static Statement& bindIndividual(Statement& insert, const ArchivedIndividual& individual) {
        return insert.bind(1, individual.layout)
            .bind(2, individual.genome)
            .bind(3, nlohmann::json(individual.genes).dump())
            .bind(4, individual.validationAccuracy)
            .bind(5, individual.fakeQuantValidationAccuracy)
            .bind(6, individual.testAccuracy)
            .bind(7, individual.fakeQuantTestAccuracy)
            .bind(8, individual.sizeBits)
            .bind(9, individual.sizeFraction)
            .bind(10, individual.seconds);
    }

    static std::string fineTuneJson(const FineTuneRecord& r) {
        return nlohmann::json{{"epochs_planned", r.epochsPlanned}, {"epochs_run", r.epochsRun}, {"best_epoch", r.bestEpoch},
                              {"patience", r.patience},          {"learning_rate", r.learningRate}, {"status", r.status}}
            .dump();
    }

    FineTuneRecord parseFineTune(const std::string& text, int64_t id) const {
        const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
        const std::string what = "damaged: fine-tune record of individual " + std::to_string(id);
        if (!j.is_object()) throw InputError(path, what + " is not a JSON object");
        FineTuneRecord r;
        try {
            r.epochsPlanned = j.at("epochs_planned").get<int>();
            r.epochsRun = j.at("epochs_run").get<int>();
            r.bestEpoch = j.at("best_epoch").get<int>();
            r.patience = j.at("patience").get<int>();
            r.learningRate = j.at("learning_rate").get<double>();
            r.status = j.at("status").get<std::string>();
        } catch (const nlohmann::json::exception&) {
            throw InputError(path, what + " lacks a field or holds a wrong type");
        }
        return r;
    }

    // Parses a JSON array of integers; bad text means the file was damaged or edited by hand.
    template <typename Integer>
    std::vector<Integer> parseIntegerArray(const std::string& text, const std::string& what) const {
        const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
        if (!parsed.is_array()) throw InputError(path, "damaged: " + what + " is not a JSON array");
        std::vector<Integer> values;
        values.reserve(parsed.size());
        for (const nlohmann::json& element : parsed) {
            if (!element.is_number_integer())
                throw InputError(path, "damaged: " + what + " holds a non-integer");
            const int64_t value = element.get<int64_t>();
            if (value < std::numeric_limits<Integer>::min() || value > std::numeric_limits<Integer>::max())
                throw InputError(path, "damaged: " + what + " holds an out-of-range value");
            values.push_back(static_cast<Integer>(value));
        }
        return values;
    }

    ArchivedIndividual readIndividual(const Statement& row) const {
        ArchivedIndividual individual;
        individual.id = row.columnInt64(0);
        individual.layout = row.columnText(1);
        individual.genome = row.columnText(2);
        individual.genes =
            parseIntegerArray<int>(row.columnText(3), "genes of individual " + std::to_string(individual.id));
        individual.validationAccuracy = row.columnDouble(4);
        individual.fakeQuantValidationAccuracy = row.columnDouble(5);
        individual.testAccuracy = row.columnDouble(6);
        individual.fakeQuantTestAccuracy = row.columnDouble(7);
        individual.sizeBits = row.columnInt64(8);
        individual.sizeFraction = row.columnDouble(9);
        individual.seconds = row.columnDouble(10);
        individual.generation = row.columnInt(11);
        individual.baseline = row.columnInt64(12) != 0;
        individual.sourceId = row.columnInt64(13);  // NULL reads as 0: a search individual
        if (individual.sourceId != 0) individual.fineTune = parseFineTune(row.columnText(14), individual.id);
        individual.fidelity = row.columnDouble(15);
        individual.rungValidationAccuracy = row.columnDouble(16);
        if (!(individual.fidelity > 0 && individual.fidelity <= 1))
            throw InputError(path, "damaged: fidelity of individual " + std::to_string(individual.id) + " is not in (0, 1]");
        setStepLatency(individual, shape);
        return individual;
    }

    std::vector<ArchivedIndividual> queryIndividuals(const std::string& whereClause,
                                                     std::optional<int64_t> parameter) const {
        Statement statement(db.get(), path,
                            "SELECT " + individualColumns() + " FROM individuals " + whereClause + " ORDER BY id",
                            "read failed");
        if (parameter) statement.bind(1, *parameter);
        std::vector<ArchivedIndividual> result;
        while (statement.step()) result.push_back(readIndividual(statement));
        return result;
    }

    ArchivedGeneration readGeneration(const Statement& row) const {
        ArchivedGeneration generation;
        generation.generation = row.columnInt(0);
        const std::string label = "generation " + std::to_string(generation.generation);
        generation.population = parseIntegerArray<int64_t>(row.columnText(1), "population of " + label);
        generation.front = parseIntegerArray<int64_t>(row.columnText(2), "front of " + label);
        generation.hypervolume = row.columnDouble(3);
        generation.seconds = row.columnDouble(4);
        return generation;
    }

    std::vector<ArchivedGeneration> queryGenerations(const std::string& suffix) const {
        Statement statement(db.get(), path,
                            "SELECT generation, population, front, hypervolume, seconds FROM generations " + suffix,
                            "read failed");
        std::vector<ArchivedGeneration> result;
        while (statement.step()) result.push_back(readGeneration(statement));
        return result;
    }
};

SearchArchive::SearchArchive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SearchArchive::SearchArchive(SearchArchive&&) noexcept = default;
SearchArchive& SearchArchive::operator=(SearchArchive&&) noexcept = default;
SearchArchive::~SearchArchive() = default;

void SearchArchive::checkCreatable(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code ignored;
    if (path.empty()) throw InputError("archive", "no file name given");
    if (fs::exists(fs::symlink_status(path, ignored))) throw InputError(path, kAlreadyExists);
    fs::path folder = fs::path(path).parent_path();
    if (folder.empty()) folder = ".";
    errno = 0;
    if (!fs::is_directory(folder, ignored)) {
        throw InputError(path, std::string("cannot create: ") +
                                   (fs::exists(folder, ignored) ? std::strerror(ENOTDIR) : "its folder does not exist"));
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) throw InputError(path, std::string("cannot create: ") + std::strerror(errno));
}

namespace {

// A staged archive and the files SQLite may keep beside it.
constexpr const char* kStagedSuffixes[] = {"", "-wal", "-shm", "-journal"};

void removeStagedFiles(const std::string& base) {
    std::error_code ignored;
    for (const char* suffix : kStagedSuffixes) std::filesystem::remove(base + suffix, ignored);
}

// Removes staged files ".NAME.creating-host:pid" (with their SQLite companions) left beside `target` by
// creators on this host that are gone. Others' files, live or unknowable, are left alone.
void removeDeadCreatorsLeftovers(const std::filesystem::path& target, const std::string& prefix) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path folder = target.parent_path().empty() ? fs::path(".") : target.parent_path();
    std::set<std::string> dead;
    for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        std::string identity = name.substr(prefix.size());
        for (const std::string suffix : kStagedSuffixes) {
            if (!suffix.empty() && identity.size() > suffix.size() &&
                identity.compare(identity.size() - suffix.size(), suffix.size(), suffix) == 0) {
                identity.resize(identity.size() - suffix.size());
                break;
            }
        }
        if (livenessOf(identity) == ProcessLiveness::Gone) dead.insert(identity);
    }
    for (const std::string& identity : dead) removeStagedFiles((target.parent_path() / (prefix + identity)).string());
}

}  // namespace

SearchArchive SearchArchive::create(const std::string& path, const std::string& settingsJson,
                                    const std::string& floatModelJson) {
    namespace fs = std::filesystem;
    std::error_code ignored;
    if (fs::exists(fs::symlink_status(path, ignored))) throw InputError(path, kAlreadyExists);

    // Built complete under a private name beside the target, then linked into place: a kill at any
    // moment leaves either no archive or a whole one, never a half-made file that would block both
    // --out (exists) and --resume (not an archive).
    // The private name carries the creating process ("host:pid"), so that leftovers of creators that
    // were killed mid-way can be told from another live process's work and removed.
    const fs::path target(path);
    const std::string stagingPrefix = "." + target.filename().string() + ".creating-";
    const std::string staging = (target.parent_path() / (stagingPrefix + thisProcessIdentity())).string();
    auto removeStaging = [&] { removeStagedFiles(staging); };
    removeStaging();  // a leftover of an earlier process with our pid
    removeDeadCreatorsLeftovers(target, stagingPrefix);
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->settingsJson = settingsJson;
    impl->floatModelJson = floatModelJson;
    impl->shape = shapeOfFloatModelJson(floatModelJson);
    const std::string action = "cannot create";
    try {
        errno = 0;
        std::FILE* claimed = std::fopen(staging.c_str(), "wbx");  // the system's reason, not SQLite's
        if (!claimed) throw InputError(path, std::string("cannot create: ") + std::strerror(errno));
        std::fclose(claimed);
        impl->openConnection(staging, SQLITE_OPEN_READWRITE, action);
        {
            sqlite3* db = impl->db.get();
            execute(db, path, "PRAGMA journal_mode=WAL", action);  // cannot change inside a transaction
            impl->setConnectionPragmas(action);
            execute(db, path, "BEGIN IMMEDIATE", action);
            execute(db, path, kCreateSchemaSql, action);
            execute(db, path, ("PRAGMA application_id=" + std::to_string(kArchiveApplicationId)).c_str(), action);
            execute(db, path, ("PRAGMA user_version=" + std::to_string(kArchiveSchemaVersion)).c_str(), action);
            const std::pair<const char*, const std::string*> metaRows[] = {
                {"settings", &settingsJson}, {"float_model", &floatModelJson}};
            for (const auto& [key, value] : metaRows) {
                Statement insert(db, path, "INSERT INTO meta(key, value) VALUES(?, ?)", action);
                insert.bind(1, std::string(key)).bind(2, *value).step();
            }
            Statement creator(db, path, "INSERT INTO meta(key, value) VALUES('created_by', 'gruq')", action);
            creator.step();
            execute(db, path, "COMMIT", action);
        }  // every statement finalised, so the close below really closes
        // Closing the only connection checkpoints the WAL into the file and removes -wal / -shm, so the
        // single file holds everything when it is linked.
        impl->db.reset();
        int fd = ::open(staging.c_str(), O_RDONLY);
        const bool synced = fd >= 0 && ::fsync(fd) == 0;
        if (fd >= 0) ::close(fd);
        if (!synced) throw InputError(path, std::string("cannot create: ") + std::strerror(errno));
        // link() claims the name atomically: an archive that appeared meanwhile stays untouched.
        if (::link(staging.c_str(), path.c_str()) != 0) {
            if (errno == EEXIST) throw InputError(path, kAlreadyExists);
            const bool noHardLinks = errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP || errno == EMLINK;
            // Filesystems without hard links (FAT, some network shares): check, then rename.
            if (!noHardLinks || fs::exists(fs::symlink_status(path, ignored))) {
                throw InputError(path, noHardLinks ? kAlreadyExists : std::string("cannot create: ") + std::strerror(errno));
            }
            if (std::rename(staging.c_str(), path.c_str()) != 0)
                throw InputError(path, std::string("cannot create: ") + std::strerror(errno));
        }
        removeStaging();
        impl->openConnection(path, SQLITE_OPEN_READWRITE, action);
        impl->setConnectionPragmas(action);
    } catch (...) {
        impl.reset();
        removeStaging();
        throw;
    }
    return SearchArchive(std::move(impl));
}

SearchArchive SearchArchive::open(const std::string& path, bool readOnly) {
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) throw InputError(path, "file not found");
    if (fs::is_directory(status)) throw InputError(path, "is a directory, not an archive file");

    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->readOnly = readOnly;
    impl->openConnection(path, readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, "cannot open");
    int firstRead = impl->probeFirstRead();
    const int firstReadPrimary = firstRead & 0xff;
    if (firstReadPrimary == SQLITE_READONLY || firstReadPrimary == SQLITE_CANTOPEN) {
        // WAL needs -wal and -shm files beside the archive, which a directory we cannot write to
        // refuses. No writer can be active there either (it would have made them), so a viewer
        // may read the file as immutable.
        if (!readOnly) throw InputError(path, "not writable (open it read-only to view it)");
        impl->openConnection(immutableUri(path), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, "cannot open");
        firstRead = impl->probeFirstRead();
    }
    if (firstRead != SQLITE_OK) throwSqliteError(path, impl->db.get(), firstRead, "cannot open");
    impl->validateExisting();
    if (!readOnly) {
        // SQLite silently falls back to read-only for a write-protected file; a search needs to write.
        if (sqlite3_db_readonly(impl->db.get(), "main") == 1)
            throw InputError(path, "not writable (open it read-only to view it)");
        execute(impl->db.get(), path, "PRAGMA journal_mode=WAL", "cannot open");
        if (impl->schemaVersion < kArchiveSchemaVersion) impl->migrate();
    }
    impl->setConnectionPragmas("cannot open");
    impl->loadMeta();
    return SearchArchive(std::move(impl));
}

const std::string& SearchArchive::path() const { return impl_->path; }

int SearchArchive::schemaVersion() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->schemaVersion;
}

std::string SearchArchive::settingsJson() const { return impl_->settingsJson; }
std::string SearchArchive::floatModelJson() const { return impl_->floatModelJson; }
GruShape SearchArchive::shape() const { return impl_->shape; }

int64_t SearchArchive::addIndividual(const ArchivedIndividual& individual) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->requireWritable();
    sqlite3* db = impl_->db.get();
    // One autocommit statement = one committed transaction before we return.
    Statement insert(db, impl_->path,
                     "INSERT INTO individuals(layout, genome, genes, val_accuracy, fq_val_accuracy, test_accuracy, "
                     "fq_test_accuracy, size_bits, size_fraction, seconds, generation, baseline, fidelity, rung_val_accuracy, "
                     "created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) "
                     "ON CONFLICT(layout, genome) WHERE source_id IS NULL DO NOTHING",
                     "write failed");
    Impl::bindIndividual(insert, individual)
        .bind(11, individual.generation)
        .bind(12, individual.baseline ? 1 : 0)
        .bind(13, individual.fidelity)
        .bind(14, individual.rungValidationAccuracy);
    insert.step();
    if (sqlite3_changes(db) == 1) return sqlite3_last_insert_rowid(db);

    Statement existing(db, impl_->path, "SELECT id FROM individuals WHERE layout=? AND genome=? AND source_id IS NULL",
                       "read failed");
    existing.bind(1, individual.layout).bind(2, individual.genome);
    if (!existing.step()) throw InputError(impl_->path, "write failed: individual neither inserted nor found");
    return existing.columnInt64(0);
}

std::optional<ArchivedIndividual> SearchArchive::findGenome(const std::string& layout,
                                                            const std::string& genome) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    Statement statement(impl_->db.get(), impl_->path,
                        "SELECT " + impl_->individualColumns() + " FROM individuals WHERE layout=? AND genome=?" +
                            impl_->searchedOnly(),
                        "read failed");
    statement.bind(1, layout).bind(2, genome);
    if (!statement.step()) return std::nullopt;
    return impl_->readIndividual(statement);
}

std::optional<ArchivedIndividual> SearchArchive::individual(int64_t id) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    std::vector<ArchivedIndividual> found = impl_->queryIndividuals("WHERE id=?", id);
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
}

std::vector<ArchivedIndividual> SearchArchive::individuals() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->queryIndividuals("", std::nullopt);
}

int64_t SearchArchive::individualCount() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    Statement statement(impl_->db.get(), impl_->path, "SELECT COUNT(*) FROM individuals", "read failed");
    return statement.step() ? statement.columnInt64(0) : 0;
}

std::vector<ArchivedIndividual> SearchArchive::individualsAfter(int64_t id) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->queryIndividuals("WHERE id>?", id);
}

void SearchArchive::setTestAccuracy(int64_t id, double testAccuracy, double fakeQuantTestAccuracy) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->requireWritable();
    Statement update(impl_->db.get(), impl_->path,
                     "UPDATE individuals SET test_accuracy=?, fq_test_accuracy=? WHERE id=?", "write failed");
    update.bind(1, testAccuracy).bind(2, fakeQuantTestAccuracy).bind(3, id);
    update.step();
    if (sqlite3_changes(impl_->db.get()) == 0)
        throw InputError(impl_->path, "no individual with id " + std::to_string(id));
}

int64_t SearchArchive::storeFineTune(const ArchivedIndividual& individual, const std::vector<uint8_t>& blob) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->requireWritable();
    if (individual.sourceId <= 0) throw std::logic_error("storeFineTune needs the source individual's id");
    sqlite3* db = impl_->db.get();
    execute(db, impl_->path, "BEGIN IMMEDIATE", "write failed");
    try {
        int64_t id = individual.id;
        if (id == 0) {
            Statement insert(db, impl_->path,
                             "INSERT INTO individuals(layout, genome, genes, val_accuracy, fq_val_accuracy, test_accuracy, "
                             "fq_test_accuracy, size_bits, size_fraction, seconds, generation, baseline, created_at, "
                             "source_id, fine_tune) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, -1, 0, "
                             "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?)",
                             "write failed");
            Impl::bindIndividual(insert, individual).bind(11, individual.sourceId).bind(12, Impl::fineTuneJson(individual.fineTune));
            insert.step();
            id = sqlite3_last_insert_rowid(db);
        } else {
            Statement update(db, impl_->path,
                             "UPDATE individuals SET val_accuracy=?, fq_val_accuracy=?, test_accuracy=?, fq_test_accuracy=?, "
                             "seconds=?, fine_tune=? WHERE id=? AND source_id=?",
                             "write failed");
            update.bind(1, individual.validationAccuracy)
                .bind(2, individual.fakeQuantValidationAccuracy)
                .bind(3, individual.testAccuracy)
                .bind(4, individual.fakeQuantTestAccuracy)
                .bind(5, individual.seconds)
                .bind(6, Impl::fineTuneJson(individual.fineTune))
                .bind(7, id)
                .bind(8, individual.sourceId);
            update.step();
            if (sqlite3_changes(db) != 1) throw InputError(impl_->path, "no fine-tuned individual #" + std::to_string(id));
        }
        if (!blob.empty()) {
            Statement store(db, impl_->path, "INSERT OR REPLACE INTO models(id, blob) VALUES(?, ?)", "write failed");
            store.bind(1, id).bind(2, blob);
            store.step();
        }
        execute(db, impl_->path, "COMMIT", "write failed");
        return id;
    } catch (...) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

void SearchArchive::addModel(int64_t id, const std::vector<uint8_t>& blob) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->requireWritable();
    Statement insert(impl_->db.get(), impl_->path, "INSERT OR IGNORE INTO models(id, blob) VALUES(?, ?)", "write failed");
    insert.bind(1, id).bind(2, blob);
    insert.step();
}

std::optional<std::vector<uint8_t>> SearchArchive::model(int64_t id) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->schemaVersion < 3) return std::nullopt;  // older (read-only, unmigrated) archives keep no models
    Statement statement(impl_->db.get(), impl_->path, "SELECT blob FROM models WHERE id=?", "read failed");
    statement.bind(1, id);
    if (!statement.step()) return std::nullopt;
    return statement.columnBlob(0);
}

int64_t SearchArchive::modelCount() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->schemaVersion < 3) return 0;
    Statement statement(impl_->db.get(), impl_->path, "SELECT COUNT(*) FROM models", "read failed");
    return statement.step() ? statement.columnInt64(0) : 0;
}

void SearchArchive::addGeneration(const ArchivedGeneration& generation) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->requireWritable();
    Statement upsert(impl_->db.get(), impl_->path,
                     "INSERT OR REPLACE INTO generations(generation, population, front, hypervolume, seconds) "
                     "VALUES(?, ?, ?, ?, ?)",
                     "write failed");
    upsert.bind(1, generation.generation)
        .bind(2, idListJson(generation.population))
        .bind(3, idListJson(generation.front))
        .bind(4, generation.hypervolume)
        .bind(5, generation.seconds);
    upsert.step();
}

std::vector<ArchivedGeneration> SearchArchive::generations() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->queryGenerations("ORDER BY generation");
}

std::optional<ArchivedGeneration> SearchArchive::lastGeneration() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    std::vector<ArchivedGeneration> last = impl_->queryGenerations("ORDER BY generation DESC LIMIT 1");
    if (last.empty()) return std::nullopt;
    return std::move(last.front());
}

void SearchArchive::setState(const std::string& key, const std::string& value) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->requireWritable();
    Statement upsert(impl_->db.get(), impl_->path, "INSERT OR REPLACE INTO state(key, value) VALUES(?, ?)",
                     "write failed");
    upsert.bind(1, key).bind(2, value);
    upsert.step();
}

std::optional<std::string> SearchArchive::state(const std::string& key) const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->schemaVersion < 2) return std::nullopt;  // v1 (read-only, unmigrated) has no state table
    Statement statement(impl_->db.get(), impl_->path, "SELECT value FROM state WHERE key=?", "read failed");
    statement.bind(1, key);
    if (!statement.step()) return std::nullopt;
    return statement.columnText(0);
}

std::string SearchArchive::integrityCheck() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    try {
        const std::vector<std::string> rows =
            textRows(impl_->db.get(), impl_->path, "PRAGMA integrity_check", "integrity check failed");
        return joined(rows, "\n");
    } catch (const InputError& error) {
        return error.problem();  // damage bad enough to stop the check is still its answer
    }
}

}  // namespace gruq
