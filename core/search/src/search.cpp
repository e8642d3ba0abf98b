#include "gruq/search/search.h"

#include "evaluation_pool.h"
#include "genome_evaluator.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"
#include "gruq/base/process_identity.h"
#include "gruq/export/latency_model.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/size_metric.h"

#include <nlohmann/json.hpp>
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/bfe.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/utils/hypervolume.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace gruq {
namespace {

using Clock = std::chrono::steady_clock;

// pagmo user-defined problem: minimise the chosen objectives (objectives.h: 1 - validation accuracy, size
// and / or latency fraction, budgets as constraint-dominance) over integer genes.
struct GenomeProblem {
    std::shared_ptr<GenomeEvaluator> evaluator;
    int genes = 17, minBits = 2, maxBits = 8;
    SearchObjectives objectives;

    pagmo::vector_double fitness(const pagmo::vector_double& x) const {
        const auto r = evaluator->evaluateAll({evaluator->genomeOf(x.data())}, false, false);
        return objectives.values(r[0]);
    }
    std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
        return {pagmo::vector_double(size_t(genes), minBits), pagmo::vector_double(size_t(genes), maxBits)};
    }
    pagmo::vector_double::size_type get_nobj() const { return size_t(objectives.count()); }
    pagmo::vector_double::size_type get_nix() const { return size_t(genes); }
    std::string get_name() const { return "gruq genome"; }
};

// pagmo batch fitness evaluator: the whole batch goes to the worker pool at once.
struct GenomeBatchEvaluator {
    std::shared_ptr<GenomeEvaluator> evaluator;
    SearchObjectives objectives;

    pagmo::vector_double operator()(const pagmo::problem& p, const pagmo::vector_double& dvs) const {
        const size_t n = p.get_nx();
        std::vector<Genome> genomes;
        for (size_t i = 0; i < dvs.size() / n; ++i) genomes.push_back(evaluator->genomeOf(dvs.data() + i * n));
        const auto results = evaluator->evaluateAll(genomes, false, false);
        pagmo::vector_double f;
        for (const auto& r : results) {
            const std::vector<double> v = objectives.values(r);
            f.insert(f.end(), v.begin(), v.end());
        }
        return f;
    }
    std::string get_name() const { return "gruq worker pool"; }
};

// The one-gene-lower neighbours of every homogeneous baseline that no mixed solution dominates yet:
// the designs an engineer would try next to beat a uniform bit width. Deterministic (it depends only
// on stored results), so a resumed search replays it from the cache.
void refineUndominatedBaselines(GenomeEvaluator& evaluator, const SearchSettings& settings) {
    const std::vector<ArchivedIndividual> all = evaluator.cached();
    std::vector<Genome> neighbours;
    for (const ArchivedIndividual& b : all) {
        if (!b.baseline) continue;
        const bool dominated = std::any_of(all.begin(), all.end(), [&](const ArchivedIndividual& m) {
            return !m.baseline && !m.isPartial() && settings.objectives.dominates(m, b);
        });
        if (dominated) continue;
        for (size_t i = 0; i < b.genes.size(); ++i) {
            if (b.genes[i] <= settings.minBits) continue;
            Genome g;
            g.layout = &evaluator.layout();
            g.bits = b.genes;
            --g.bits[i];
            neighbours.push_back(g);
        }
    }
    if (neighbours.empty()) return;
    evaluator.log("refining " + std::to_string(neighbours.size()) + " neighbours of undominated baselines");
    evaluator.progress().addPlanned(int64_t(neighbours.size()));
    evaluator.evaluateAll(neighbours, false, false);
}

std::string floatModelJson(const FloatTrainReport& r, const FloatTrainConfig& config, const TaskData& data) {
    return nlohmann::json{{"shape", r.weights.shape.key()},
                          {"cache_key", config.cacheKey(data)},
                          {"validation_accuracy", r.validationAccuracy},
                          {"test_accuracy", r.testAccuracy},
                          {"parameters", r.weights.parameterCount()},
                          {"imported_format", r.importedFormat},
                          {"imported_from", config.importModel.path}}
        .dump();
}

SearchResult execute(const SearchSettings& settings, SearchArchive& archive, SearchObserver* observer,
                     SearchControl* control, EvaluationDispatcher* dispatcher, const TaskData& data,
                     const FloatTrainReport& baseline) {
    const auto start = Clock::now();
    // Without an outside dispatcher (MPI), genomes are evaluated on this process's worker threads.
    QatConfig qat = settings.qat;
    qat.threads = settings.threadsPerWorker();
    LocalEvaluationPool localPool(settings.resolvedWorkers(), qat);
    EvaluationDispatcher& evaluations = dispatcher ? *dispatcher : localPool;
    evaluations.prepare(settings, data, baseline.weights);
    auto evaluator =
        std::make_shared<GenomeEvaluator>(settings, baseline.weights.shape, data, archive, evaluations, observer, control);
    SearchProgressTracker& progress = evaluator->progress();
    const GenomeLayout& layout = evaluator->layout();
    const int pop = settings.nsga2.population, gens = settings.nsga2.generations;
    const int baselineCount = settings.baselines ? settings.maxBits - settings.minBits + 1 : 0;
    progress.setPlanned(int64_t(baselineCount) + int64_t(pop) * (gens + 1));
    // Who writes it, so that a reader on this host can tell a dead search from a running one.
    archive.setState("writer", thisProcessIdentity());
    archive.setState("status", "running");

    SearchResult result;
    result.objectives = settings.objectives;
    try {
        if (settings.baselines) {
            progress.setStage(-1, "baselines");
            std::vector<Genome> uniform;
            for (int b = settings.minBits; b <= settings.maxBits; ++b) uniform.push_back(uniformGenome(layout, b));
            result.baselines = evaluator->evaluateAll(uniform, true, true);
            evaluator->log("homogeneous baselines evaluated");
        }

        const auto seed32 = static_cast<unsigned>(settings.seed & 0xffffffffu);
        pagmo::problem problem{GenomeProblem{evaluator, layout.geneCount(), settings.minBits, settings.maxBits, settings.objectives}};
        pagmo::bfe bfe{GenomeBatchEvaluator{evaluator, settings.objectives}};
        pagmo::nsga2 algorithm(1u, settings.nsga2.crossoverProbability, settings.nsga2.crossoverDistributionIndex,
                               settings.nsga2.mutationProbability, settings.nsga2.mutationDistributionIndex, seed32);
        algorithm.set_bfe(bfe);

        auto recordGeneration = [&](int g, const pagmo::population& population) {
            ArchivedGeneration record;
            record.generation = g;
            const auto& xs = population.get_x();
            std::vector<Genome> genomes;
            for (const auto& x : xs) genomes.push_back(evaluator->genomeOf(x.data()));
            for (const auto& a : evaluator->lookup(genomes)) record.population.push_back(a.id);
            const auto front = paretoFront(evaluator->cached(), settings.objectives);
            for (const auto& a : front) record.front.push_back(a.id);
            record.hypervolume = hypervolumeOf(front, settings.objectives);
            record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
            archive.addGeneration(record);
            if (observer) observer->generationFinished(record);
            evaluator->log("generation " + std::to_string(g) + ": front of " + std::to_string(front.size()) +
                           ", hypervolume " + std::to_string(record.hypervolume));
        };

        progress.setStage(0, "generation 0/" + std::to_string(gens));
        std::vector<pagmo::vector_double> seeds;
        if (settings.baselines && settings.seedWithBaselines) {
            for (const auto& b : result.baselines) seeds.emplace_back(b.genes.begin(), b.genes.end());
            if (seeds.size() * 2 > size_t(pop)) seeds.resize(size_t(pop) / 2);  // keep at least half random
        }
        pagmo::population population(problem, bfe, static_cast<pagmo::population::size_type>(pop) - seeds.size(), seed32);
        for (const auto& x : seeds) population.push_back(x);  // already evaluated: answered from the cache
        recordGeneration(0, population);
        const bool random = settings.algorithm == "random";
        for (int g = 1; g <= gens; ++g) {
            progress.setStage(g, "generation " + std::to_string(g) + "/" + std::to_string(gens));
            // Random search, the baseline NSGA-II must beat: the same budget of fresh uniform genomes per
            // generation (same archive, baselines and generation records), nothing learnt from the last.
            // Each generation's seed is a hash of (seed, generation): seed + g would make seed s's generation
            // g + 1 the same genomes as seed s + 1's generation g, and runs of nearby seeds nearly identical.
            const auto generationSeed = static_cast<unsigned>(
                fnv1a64("random search " + std::to_string(settings.seed) + " generation " + std::to_string(g)));
            population = random ? pagmo::population(problem, bfe, static_cast<pagmo::population::size_type>(pop),
                                                    generationSeed)
                                : algorithm.evolve(population);
            recordGeneration(g, population);
        }

        if (settings.baselines && settings.refineBaselines) {
            progress.setStage(gens, "refining baselines");
            refineUndominatedBaselines(*evaluator, settings);
        }

        progress.setStage(gens, "test split");
        evaluator->reportProgress();
        result.front = paretoFront(evaluator->cached(), settings.objectives);
        for (ArchivedIndividual& a : result.front) evaluator->measureTest(a);
        archive.setState("status", "finished");
        progress.setStage(gens, "done");
        evaluator->reportProgress();
    } catch (const Cancelled&) {
        archive.setState("status", "cancelled");
        result.cancelled = true;
        result.front = paretoFront(evaluator->cached(), settings.objectives);
        evaluator->log("search cancelled; every finished evaluation is in the archive");
    }
    result.hypervolume = hypervolumeOf(result.front, settings.objectives);
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.computed = progress.computed();
    result.reused = progress.reused();
    return result;
}

struct Prepared {
    TaskData data;
    FloatTrainReport baseline;
};

Prepared prepare(const SearchSettings& settings, SearchObserver* observer, SearchControl* control) {
    const CancelFlag* cancel = control ? &control->cancelFlag() : nullptr;
    auto report = [&](const Progress& p) {
        if (!observer) return;
        SearchProgress sp;
        sp.stage = p.stage;
        sp.elapsedSeconds = p.elapsedSeconds;
        sp.generations = settings.nsga2.generations;
        observer->progress(sp);
    };
    Prepared out;
    out.data = loadTask(settings.task, settings.data, report, cancel);
    FloatTrainConfig floatConfig = settings.floatModel;
    floatConfig.threads = 0;
    TrainObserver trainObserver;
    trainObserver.cancel = cancel;
    trainObserver.progress = [&](const Progress& p) { report({"float model: " + p.stage, p.done, p.total, p.elapsedSeconds, p.detail}); };
    out.baseline = trainFloatBaseline(out.data, floatConfig, trainObserver);
    if (observer) {
        observer->prepared(out.data, out.baseline);
        observer->log("float model " + out.baseline.weights.shape.key() + ": validation " +
                      std::to_string(out.baseline.validationAccuracy) + ", test " + std::to_string(out.baseline.testAccuracy) +
                      (out.baseline.fromCache ? " (cached)" : ""));
    }
    return out;
}

}  // namespace

SearchSettings settingsOfArchive(const SearchArchive& archive) {
    try {
        return SearchSettings::fromJson(archive.settingsJson());
    } catch (const InputError& e) {
        throw InputError(archive.path(), "stored settings: " + e.problem());
    }
}

std::vector<ArchivedIndividual> paretoFront(const std::vector<ArchivedIndividual>& individuals,
                                            const SearchObjectives& objectives) {
    // The search's front: fine-tuned copies had a larger training budget than the search gives anyone,
    // evaluations stopped at the rung (multi-fidelity) a smaller one; individuals over a budget never enter.
    std::vector<ArchivedIndividual> sorted;
    for (const auto& a : individuals) {
        if (!a.isFineTune() && !a.isPartial() && objectives.feasible(a)) sorted.push_back(a);
    }
    // By size, then by accuracy (best first), then id.
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        if (a.sizeFraction != b.sizeFraction) return a.sizeFraction < b.sizeFraction;
        if (a.validationAccuracy != b.validationAccuracy) return a.validationAccuracy > b.validationAccuracy;
        return a.id < b.id;
    });
    std::vector<ArchivedIndividual> front;
    if (objectives.flash && !objectives.latency) {  // two objectives: a sweep keeps every strictly better accuracy
        double best = -1.0;
        for (const auto& a : sorted) {
            if (a.validationAccuracy > best) {
                front.push_back(a);
                best = a.validationAccuracy;
            }
        }
        return front;
    }
    // Otherwise: the individuals no other dominates; of equal objective values the first (by size, id).
    for (size_t i = 0; i < sorted.size(); ++i) {
        bool keep = true;
        for (size_t j = 0; j < sorted.size() && keep; ++j) {
            keep = !(objectives.dominates(sorted[j], sorted[i]) ||
                     (j < i && objectives.values(sorted[j]) == objectives.values(sorted[i])));
        }
        if (keep) front.push_back(sorted[i]);
    }
    return front;
}

double hypervolumeOf(const std::vector<ArchivedIndividual>& front, const SearchObjectives& objectives) {
    // Reference point: error 1, size 1.05 and latency 2.0 of the all-8-bit model (the slowest schemes,
    // 3-bit weights, take about 1.6 times its instructions); points beyond it do not count.
    std::vector<double> reference{1.0};
    if (objectives.flash) reference.push_back(1.05);
    if (objectives.latency) reference.push_back(2.0);
    std::vector<pagmo::vector_double> points;
    for (const auto& a : front) {
        const std::vector<double> v = objectives.values(a);
        bool inside = true;
        for (size_t i = 0; i < v.size(); ++i) inside = inside && v[i] < reference[i];
        if (inside) points.push_back(v);
    }
    if (points.empty()) return 0.0;
    return pagmo::hypervolume(points, true).compute(reference);
}

void checkBudgetsCanBeMet(const SearchSettings& settings, const GruShape& shape) {
    const SearchObjectives& o = settings.objectives;
    const GenomeLayout& layout = searchLayout(settings, shape);
    if (o.maxFlashBytes > 0) {
        const int64_t smallest = modelSize(shape, uniformGenome(layout, settings.minBits).resolve()).totalBytes();
        if (o.maxFlashBytes < smallest) {
            throw InputError("budget.max_flash_bytes (--max-flash)", "no scheme fits " + std::to_string(o.maxFlashBytes) + " bytes: the smallest, every point at " +
                                                std::to_string(settings.minBits) + " bits, takes " + std::to_string(smallest) +
                                                " bytes for " + shape.key());
        }
    }
    if (o.maxLatencyUs > 0) {
        double fastest = -1;
        for (int b = settings.minBits; b <= settings.maxBits; ++b) {
            const double step = LatencyModel::cortexM4().estimate(shape, uniformGenome(layout, b).resolve()).instructionsPerStep;
            if (fastest < 0 || step < fastest) fastest = step;
        }
        if (o.maxStepInstructions() < fastest) {
            char text[256];
            std::snprintf(text, sizeof text,
                          "no scheme meets %.6g us per step at %.6g MHz: the fastest homogeneous one takes %.0f "
                          "instructions (%.6g us) per step for %s on the Cortex-M4",
                          o.maxLatencyUs, o.cpuMhz, fastest, fastest / o.cpuMhz, shape.key().c_str());
            throw InputError("budget.max_latency_us (--max-latency-us)", text);
        }
    }
}

SearchResult runSearch(const SearchSettings& settings, const std::string& archivePath, SearchObserver* observer,
                       SearchControl* control, EvaluationDispatcher* dispatcher) {
    settings.validate();
    SearchArchive::checkCreatable(archivePath);  // now, not after the float model is trained
    Prepared prepared = prepare(settings, observer, control);
    checkBudgetsCanBeMet(settings, prepared.baseline.weights.shape);
    SearchArchive archive =
        SearchArchive::create(archivePath, settings.toJson(), floatModelJson(prepared.baseline, settings.floatModel, prepared.data));
    return execute(settings, archive, observer, control, dispatcher, prepared.data, prepared.baseline);
}

SearchResult resumeSearch(const std::string& archivePath, SearchObserver* observer, SearchControl* control,
                          int workersOverride, EvaluationDispatcher* dispatcher) {
    SearchArchive archive = SearchArchive::open(archivePath);
    SearchSettings settings = settingsOfArchive(archive);
    if (workersOverride > 0) settings.workers = workersOverride;
    Prepared prepared = prepare(settings, observer, control);
    const auto stored = nlohmann::json::parse(archive.floatModelJson(), nullptr, false);
    if (stored.is_object() && stored.value("cache_key", "") != settings.floatModel.cacheKey(prepared.data)) {
        throw InputError(archivePath, "the task data or the imported model file changed since this search started (float model identity differs)");
    }
    if (observer) observer->log("resuming: " + std::to_string(archive.individualCount()) + " stored evaluations will be reused");
    return execute(settings, archive, observer, control, dispatcher, prepared.data, prepared.baseline);
}

}  // namespace gruq
