#pragma once
// What a search is asked to do: task, float model, per-genome QAT budget, layout, bit range, NSGA-II
// parameters and parallelism. Stored in every archive as JSON (search_settings.cpp).
#include "gruq/data/task_registry.h"
#include "gruq/model/float_training.h"
#include "gruq/quant/evaluate.h"
#include "gruq/search/archive.h"
#include "gruq/search/objectives.h"

#include <cstdint>
#include <string>

namespace gruq {

struct Nsga2Settings {
    int population = 24;          // multiple of 4, >= 8 (pagmo's nsga2)
    int generations = 20;
    double crossoverProbability = 0.95;
    double crossoverDistributionIndex = 10.0;
    double mutationProbability = 0.1;
    double mutationDistributionIndex = 50.0;
};

// The per-genome QAT budget of a search: 4096 sequences of fine-tuning (a default search of 24 x 20
// genomes then takes about 4 minutes on 2 cores: docs/performance.md).
inline QatConfig defaultSearchQat() {
    QatConfig q;
    q.epochs = 1;
    q.samplesPerEpoch = 4096;
    return q;
}

// Multi-fidelity evaluation (promotion_rule.h): every genome is first trained for rungFraction of the QAT
// budget; it is trained to the end only if it could still enter the front. JSON "multi_fidelity";
// absent = off (archives written before it searched at full fidelity).
struct MultiFidelitySettings {
    bool enabled = true;
    double rungFraction = 0.25;   // of the QAT steps, strictly between 0 and 1
    double rungValidation = 0.25; // share of the validation split the rung is measured on, in (0, 1]
    int gainNeighbours = 16;      // optimism: the gains (end - rung) of the evaluations with the nearest
    double gainQuantile = 1.0;    // rung accuracies, and the quantile of them allowed (1 = their largest)
};

struct SearchSettings {
    std::string task = "smnist-row";
    TaskLoadOptions data;                 // path, split seed, caps
    FloatTrainConfig floatModel;          // hidden size, epochs, seed (cached)
    QatConfig qat = defaultSearchQat();   // per-genome budget
    std::string layout = "default17";     // a one-layer layout; stacked models use its L-layer form (searchLayout)
    int minBits = 2, maxBits = 8;
    std::string algorithm = "nsga2";      // "nsga2", or "random": the same budget of uniform random genomes
    Nsga2Settings nsga2;
    MultiFidelitySettings multiFidelity;
    SearchObjectives objectives;          // error + flash and / or latency; flash and latency budgets
    uint64_t seed = 0;                    // NSGA-II seed (QAT batch order uses qat.seed)
    int workers = 0;                      // parallel evaluations; 0 = all cores
    int threadsPerWorkerLimit = 0;        // torch threads per worker; 0 = cores / workers (the cores shared out)
    bool baselines = true;                // evaluate every homogeneous bit width too
    bool seedWithBaselines = true;        // put them into the initial population (warm start of the
                                          // high-accuracy end; the rest of the population is random)
    bool refineBaselines = true;          // after the last generation, evaluate the one-gene-lower
                                          // neighbours of every baseline no mixed solution dominates yet
                                          // (JSON "refine_baselines"; absent = off, as in older archives)

    // Resolved values: workers x threads per worker <= cores.
    int resolvedWorkers() const;
    int threadsPerWorker() const;

    std::string toJson() const;
    // InputError("search settings", ...) naming the field on malformed JSON or invalid values.
    static SearchSettings fromJson(const std::string& json);
    void validate() const;
};

// The genome layout of a search of a float model of this shape: settings.layout's form for its layers.
const GenomeLayout& searchLayout(const SearchSettings& settings, const GruShape& modelShape);

// The settings an archive was created with; InputError naming the archive when they are malformed.
SearchSettings settingsOfArchive(const SearchArchive& archive);

}  // namespace gruq
