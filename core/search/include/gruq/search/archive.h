#pragma once
// The search archive: one SQLite file per search (WAL journal) holding the settings, the float
// model's identity, every evaluated individual (committed the moment it finishes, so a crash or kill
// loses at most the evaluations in flight), and each generation's population and front.
#include "gruq/model/float_model.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gruq {

// How a fine-tuned individual (a copy of a search individual trained further, fine_tune.h) came about.
struct FineTuneRecord {
    int epochsPlanned = 0;
    int epochsRun = 0;          // epochs finished when the record was last written
    int bestEpoch = 0;          // the epoch whose model is stored (best validation accuracy)
    int patience = 0;           // early stopping: epochs without improvement before stopping
    double learningRate = 0;
    std::string status;         // "running", "finished", "stopped early", "cancelled"
};

struct ArchivedIndividual {
    int64_t id = 0;                       // assigned by the archive (1, 2, ...)
    std::string layout;                   // genome layout name, e.g. "default17"
    std::string genome;                   // canonical genome text
    std::vector<int> genes;               // bits per gene, layout order
    double validationAccuracy = 0;        // integer engine (the fitness)
    double fakeQuantValidationAccuracy = -1;
    double testAccuracy = -1;             // -1 until measured (final front, baselines)
    double fakeQuantTestAccuracy = -1;
    int64_t sizeBits = 0;
    double sizeFraction = 0;              // of the all-8-bit model
    double seconds = 0;                   // evaluation wall time
    int generation = 0;                   // generation that first asked for it; -1 for baselines
    bool baseline = false;                // homogeneous baseline
    int64_t sourceId = 0;                 // fine-tuned copies: the search individual they were trained from
    FineTuneRecord fineTune;              // fine-tuned copies only
    // Multi-fidelity (promotion_rule.h): the fraction of the QAT budget this evaluation trained (< 1 when
    // it was stopped at the rung because it could not reach the front) and the rung's validation accuracy
    // (-1: no rung was measured).
    double fidelity = 1;
    double rungValidationAccuracy = -1;
    // Instructions per GRU step of its exported runtime on a Cortex-M4 (step_latency.h), and as a fraction
    // of the all-8-bit model's; -1 unknown. Computed from the archive's shape and the genome, never stored.
    double stepInstructions = -1;
    double latencyFraction = -1;
    bool isFineTune() const { return sourceId != 0; }
    bool isPartial() const { return fidelity < 1; }
};

struct ArchivedGeneration {
    int generation = 0;
    std::vector<int64_t> population;      // individual ids, in population order
    std::vector<int64_t> front;           // ids of the non-dominated individuals, by size
    double hypervolume = 0;
    double seconds = 0;                   // wall time since the search started
};

// Schema history: 1 = first release; 2 = adds individuals.fq_test_accuracy and the state table;
// 3 = adds the models table (each evaluation's integer model as a firmware blob); 4 = fine-tuned copies
// (individuals.source_id, fine_tune; a genome is unique among the search's own individuals only);
// 5 = multi-fidelity (individuals.fidelity, rung_val_accuracy).
constexpr int kArchiveSchemaVersion = 5;
// PRAGMA application_id of every gruq archive ("GRUQ").
constexpr int32_t kArchiveApplicationId = 0x47525551;

class SearchArchive {
public:
    // Creates a new archive. InputError naming the path if it already exists or cannot be created.
    static SearchArchive create(const std::string& path, const std::string& settingsJson,
                                const std::string& floatModelJson);
    // The checks of create() that need no data, for callers to run before long work (a search trains
    // its float model first): InputError naming the path if it exists or its folder cannot be written.
    static void checkCreatable(const std::string& path);
    // Opens an existing archive. InputError naming the path and the problem when the file is missing,
    // not an SQLite database, damaged (integrity check fails), a foreign SQLite file (application id),
    // or of a newer schema version than this build; an older schema is migrated in place (not when
    // readOnly). readOnly opens never write and tolerate a concurrent writer.
    static SearchArchive open(const std::string& path, bool readOnly = false);

    SearchArchive(SearchArchive&&) noexcept;
    SearchArchive& operator=(SearchArchive&&) noexcept;
    ~SearchArchive();

    const std::string& path() const;
    int schemaVersion() const;
    std::string settingsJson() const;
    std::string floatModelJson() const;
    GruShape shape() const;  // of the float model (all zero when the stored JSON has none)

    // All methods are thread-safe (one internal mutex). Writes commit before returning.
    // Stores a new search individual and returns its id; if (layout, genome) is already stored among
    // the search's individuals, returns the existing id without changing anything.
    int64_t addIndividual(const ArchivedIndividual& individual);
    // The search's individual of that genome (never a fine-tuned copy).
    std::optional<ArchivedIndividual> findGenome(const std::string& layout, const std::string& genome) const;
    std::optional<ArchivedIndividual> individual(int64_t id) const;
    std::vector<ArchivedIndividual> individuals() const;          // by id, fine-tuned copies included
    int64_t individualCount() const;
    std::vector<ArchivedIndividual> individualsAfter(int64_t id) const;  // id > given (for followers)
    void setTestAccuracy(int64_t id, double testAccuracy, double fakeQuantTestAccuracy);

    // The integer model of an individual, as the firmware blob of its evaluation (blob.h, no
    // normalisation section): stored when the evaluation is committed, so export and inspection need no
    // rebuild. A second store for the same id keeps the first. model() is empty for individuals
    // evaluated elsewhere without their model, and for archives older than schema 3.
    void addModel(int64_t id, const std::vector<uint8_t>& blob);
    // A fine-tuned copy (sourceId set) with its model, in one transaction: inserted when id is 0 (the new
    // id is returned), else its figures, seconds, record and model are replaced (a better epoch).
    int64_t storeFineTune(const ArchivedIndividual& individual, const std::vector<uint8_t>& blob);
    std::optional<std::vector<uint8_t>> model(int64_t id) const;
    int64_t modelCount() const;

    void addGeneration(const ArchivedGeneration& generation);     // replaces a stored one of the same number
    std::vector<ArchivedGeneration> generations() const;          // by number
    std::optional<ArchivedGeneration> lastGeneration() const;

    // Free-form state, e.g. "status" = running / finished / cancelled.
    void setState(const std::string& key, const std::string& value);
    std::optional<std::string> state(const std::string& key) const;

    // "ok" or SQLite's integrity_check message.
    std::string integrityCheck() const;

private:
    struct Impl;
    explicit SearchArchive(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace gruq
