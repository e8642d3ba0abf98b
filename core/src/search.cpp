#include "gruq/search.h"

#include "gruq/errors.h"
#include "gruq/process_identity.h"
#include "gruq/genome.h"
#include "gruq/integer_engine.h"

#include <nlohmann/json.hpp>
#include <pagmo/algorithms/nsga2.hpp>
#include <pagmo/bfe.hpp>
#include <pagmo/population.hpp>
#include <pagmo/problem.hpp>
#include <pagmo/utils/hypervolume.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <thread>

namespace gruq {
namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// The evaluation service behind pagmo: archive-backed cache + a pool of worker threads.
class GenomeEvaluator {
public:
    GenomeEvaluator(const SearchSettings& settings, const TaskData& data, const FloatGruWeights& floatModel,
                    SearchArchive& archive, SearchObserver* observer, SearchControl* control,
                    EvaluationDispatcher* dispatcher)
        : settings_(settings), layout_(layoutByName(settings.layout)), data_(data), floatModel_(floatModel),
          archive_(archive), observer_(observer), control_(control), dispatcher_(dispatcher), start_(Clock::now()) {
        for (const ArchivedIndividual& a : archive_.individuals()) cache_[a.genome] = a;
        qat_ = settings.qat;
        qat_.threads = settings.threadsPerWorker();
    }

    const GenomeLayout& layout() const { return layout_; }
    void setStage(int generation, const std::string& stage) {
        std::lock_guard<std::mutex> lock(mutex_);
        generation_ = generation;
        stage_ = stage;
    }
    void setPlanned(int64_t planned) { planned_ = planned; }
    void addPlanned(int64_t more) { planned_ += more; }
    int64_t computed() const { return computed_; }
    int64_t reused() const { return reused_; }

    Genome genomeOf(const double* x) const {
        Genome g;
        g.layout = &layout_;
        for (int i = 0; i < layout_.geneCount(); ++i) g.bits.push_back(static_cast<int>(std::lround(x[i])));
        return g;
    }

    // Evaluates every genome (in parallel, each distinct one once) and returns their archive records.
    std::vector<ArchivedIndividual> evaluateAll(const std::vector<Genome>& genomes, bool baseline, bool withTest) {
        std::vector<std::string> keys;
        std::vector<const Genome*> todo;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            std::map<std::string, bool> queued;
            for (const Genome& g : genomes) {
                const std::string key = g.toText();
                keys.push_back(key);
                if (cache_.count(key)) {
                    ++reused_;
                    ++done_;
                    if (observer_) observer_->individualEvaluated(cache_[key], true);
                } else if (!queued[key]) {
                    queued[key] = true;
                    todo.push_back(&g);
                }
            }
        }
        reportProgress();
        runPool(todo, baseline, withTest);
        std::vector<ArchivedIndividual> out;
        std::lock_guard<std::mutex> lock(mutex_);
        for (const std::string& key : keys) out.push_back(cache_.at(key));
        return out;
    }

    // Archive records of genomes that were already evaluated (a lookup: nothing is counted or reported).
    std::vector<ArchivedIndividual> lookup(const std::vector<Genome>& genomes) const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<ArchivedIndividual> out;
        for (const Genome& g : genomes) out.push_back(cache_.at(g.toText()));
        return out;
    }

    // Test accuracy of a stored individual: from its in-memory model, else by evaluating it again
    // (evaluations are deterministic, so this reproduces the same model).
    void measureTest(ArchivedIndividual& a) {
        if (a.testAccuracy >= 0) return;
        std::unique_ptr<QuantizedGru> model;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            auto it = models_.find(a.genome);
            if (it != models_.end()) model = std::make_unique<QuantizedGru>(it->second);
        }
        if (model) {
            a.testAccuracy = IntegerGruEngine(*model).accuracy(data_.test, settings_.resolvedWorkers() * qat_.threads);
        } else if (dispatcher_) {
            dispatcher_->evaluate({parseGenomeText(a.genome, layout_)}, true,
                                  [&a](size_t, GenomeEvaluation&& e, double) {
                                      a.testAccuracy = e.testAccuracy;
                                      a.fakeQuantTestAccuracy = e.fakeQuantTestAccuracy;
                                  },
                                  control_);
        } else {
            EvaluateOptions o;
            o.withTest = true;
            o.cancel = control_ ? &control_->cancelFlag() : nullptr;
            const GenomeEvaluation e = evaluateGenome(data_, floatModel_, parseGenomeText(a.genome, layout_), qat_, o);
            a.testAccuracy = e.testAccuracy;
            a.fakeQuantTestAccuracy = e.fakeQuantTestAccuracy;
        }
        archive_.setTestAccuracy(a.id, a.testAccuracy, a.fakeQuantTestAccuracy);
        std::lock_guard<std::mutex> lock(mutex_);
        cache_[a.genome].testAccuracy = a.testAccuracy;
        cache_[a.genome].fakeQuantTestAccuracy = a.fakeQuantTestAccuracy;
    }

    std::vector<ArchivedIndividual> cached() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<ArchivedIndividual> all;
        for (const auto& [key, a] : cache_) all.push_back(a);
        std::sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
        return all;
    }

    void log(const std::string& line) {
        if (observer_) observer_->log(line);
    }

    void reportProgress() {
        if (!observer_) return;
        SearchProgress p;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            p.generation = generation_;
            p.stage = stage_;
        }
        p.generations = settings_.nsga2.generations;
        p.evaluationsDone = done_;
        p.evaluationsPlanned = std::max<int64_t>(planned_, done_);
        p.computed = computed_;
        p.reused = reused_;
        p.elapsedSeconds = std::chrono::duration<double>(Clock::now() - start_).count();
        if (computed_ > 0) {
            // Remaining evaluations at this run's computed-evaluation rate (reuse is nearly free).
            const int parallel = dispatcher_ ? dispatcher_->parallelism() : settings_.resolvedWorkers();
            p.etaSeconds = computeSeconds_ / double(computed_) * double(p.evaluationsPlanned - done_) /
                           double(std::max(1, parallel));
        }
        observer_->progress(p);
    }

private:
    void runPool(const std::vector<const Genome*>& todo, bool baseline, bool withTest) {
        if (todo.empty()) return;
        if (dispatcher_) {
            std::vector<Genome> genomes;
            for (const Genome* g : todo) genomes.push_back(*g);
            dispatcher_->evaluate(genomes, withTest,
                                  [&](size_t i, GenomeEvaluation&& e, double seconds) { commit(*todo[i], baseline, e, seconds); },
                                  control_);
            return;
        }
        std::atomic<size_t> next{0};
        std::atomic<bool> failed{false};
        std::exception_ptr error;
        std::mutex errorMutex;
        auto work = [&] {
            for (;;) {
                const size_t i = next++;
                if (i >= todo.size() || failed) return;
                try {
                    evaluateOne(*todo[i], baseline, withTest, failed);
                } catch (...) {
                    std::lock_guard<std::mutex> lock(errorMutex);
                    if (!error) error = std::current_exception();
                    failed = true;
                    return;
                }
            }
        };
        const int workers = std::min<int>(settings_.resolvedWorkers(), static_cast<int>(todo.size()));
        std::vector<std::thread> pool;
        for (int w = 1; w < workers; ++w) pool.emplace_back(work);
        work();
        for (auto& t : pool) t.join();
        if (error) std::rethrow_exception(error);
    }

    void evaluateOne(const Genome& genome, bool baseline, bool withTest, const std::atomic<bool>& failed) {
        EvaluateOptions options;
        options.withTest = withTest;
        options.cancel = control_ ? &control_->cancelFlag() : nullptr;
        options.progress = [this, &failed](const Progress&) {
            if (control_) control_->checkpoint();  // pause blocks here, cancel throws
            if (failed) throw Cancelled();         // a sibling worker failed: stop early
        };
        const auto t0 = Clock::now();
        const GenomeEvaluation e = evaluateGenome(data_, floatModel_, genome, qat_, options);
        commit(genome, baseline, e, std::chrono::duration<double>(Clock::now() - t0).count());
    }

    // Stores a finished evaluation (committed to the archive before anyone is told about it).
    void commit(const Genome& genome, bool baseline, const GenomeEvaluation& e, double seconds) {
        ArchivedIndividual a;
        a.layout = layout_.name;
        a.genome = genome.toText();
        a.genes = genome.bits;
        a.validationAccuracy = e.validationAccuracy;
        a.fakeQuantValidationAccuracy = e.fakeQuantValidationAccuracy;
        a.testAccuracy = e.testAccuracy;
        a.fakeQuantTestAccuracy = e.fakeQuantTestAccuracy;
        a.sizeBits = e.size.totalBits();
        a.sizeFraction = e.size.fractionOf8Bit;
        a.seconds = seconds;
        a.baseline = baseline;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            a.generation = baseline ? -1 : generation_;
        }
        a.id = archive_.addIndividual(a);  // committed before anyone is told
        {
            std::lock_guard<std::mutex> lock(mutex_);
            cache_[a.genome] = a;
            if (!e.model.wIh.empty()) models_[a.genome] = e.model;  // remote results may come without it
            ++computed_;
            ++done_;
            computeSeconds_ += seconds;
        }
        if (observer_) observer_->individualEvaluated(a, false);
        reportProgress();
    }

    const SearchSettings& settings_;
    const GenomeLayout& layout_;
    const TaskData& data_;
    const FloatGruWeights& floatModel_;
    SearchArchive& archive_;
    SearchObserver* observer_;
    SearchControl* control_;
    EvaluationDispatcher* dispatcher_;
    QatConfig qat_;
    Clock::time_point start_;

    mutable std::mutex mutex_;
    std::map<std::string, ArchivedIndividual> cache_;  // by genome text
    std::map<std::string, QuantizedGru> models_;       // computed in this run
    int generation_ = 0;
    std::string stage_;
    std::atomic<int64_t> computed_{0}, reused_{0}, done_{0}, planned_{0};
    double computeSeconds_ = 0;
};

// pagmo user-defined problem: minimise (1 - validation accuracy, size fraction) over integer genes.
struct GenomeProblem {
    std::shared_ptr<GenomeEvaluator> evaluator;
    int genes = 17, minBits = 2, maxBits = 8;

    pagmo::vector_double fitness(const pagmo::vector_double& x) const {
        const auto r = evaluator->evaluateAll({evaluator->genomeOf(x.data())}, false, false);
        return {1.0 - r[0].validationAccuracy, r[0].sizeFraction};
    }
    std::pair<pagmo::vector_double, pagmo::vector_double> get_bounds() const {
        return {pagmo::vector_double(size_t(genes), minBits), pagmo::vector_double(size_t(genes), maxBits)};
    }
    pagmo::vector_double::size_type get_nobj() const { return 2; }
    pagmo::vector_double::size_type get_nix() const { return size_t(genes); }
    std::string get_name() const { return "gruq genome"; }
};

// pagmo batch fitness evaluator: the whole batch goes to the worker pool at once.
struct GenomeBatchEvaluator {
    std::shared_ptr<GenomeEvaluator> evaluator;

    pagmo::vector_double operator()(const pagmo::problem& p, const pagmo::vector_double& dvs) const {
        const size_t n = p.get_nx();
        std::vector<Genome> genomes;
        for (size_t i = 0; i < dvs.size() / n; ++i) genomes.push_back(evaluator->genomeOf(dvs.data() + i * n));
        const auto results = evaluator->evaluateAll(genomes, false, false);
        pagmo::vector_double f;
        for (const auto& r : results) {
            f.push_back(1.0 - r.validationAccuracy);
            f.push_back(r.sizeFraction);
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
            return !m.baseline && m.validationAccuracy >= b.validationAccuracy && m.sizeFraction < b.sizeFraction;
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
    evaluator.addPlanned(int64_t(neighbours.size()));
    evaluator.evaluateAll(neighbours, false, false);
}

std::string floatModelJson(const FloatTrainReport& r, const FloatTrainConfig& config, const TaskData& data) {
    return nlohmann::json{{"shape", r.weights.shape.key()},
                          {"cache_key", config.cacheKey(data)},
                          {"validation_accuracy", r.validationAccuracy},
                          {"test_accuracy", r.testAccuracy},
                          {"parameters", r.weights.parameterCount()}}
        .dump();
}

SearchResult execute(const SearchSettings& settings, SearchArchive& archive, SearchObserver* observer,
                     SearchControl* control, EvaluationDispatcher* dispatcher, const TaskData& data,
                     const FloatTrainReport& baseline) {
    const auto start = Clock::now();
    if (dispatcher) dispatcher->prepare(settings, data, baseline.weights);
    auto evaluator =
        std::make_shared<GenomeEvaluator>(settings, data, baseline.weights, archive, observer, control, dispatcher);
    const GenomeLayout& layout = evaluator->layout();
    const int pop = settings.nsga2.population, gens = settings.nsga2.generations;
    const int baselineCount = settings.baselines ? settings.maxBits - settings.minBits + 1 : 0;
    evaluator->setPlanned(int64_t(baselineCount) + int64_t(pop) * (gens + 1));
    // Who writes it, so that a reader on this host can tell a dead search from a running one.
    archive.setState("writer", thisProcessIdentity());
    archive.setState("status", "running");

    SearchResult result;
    try {
        if (settings.baselines) {
            evaluator->setStage(-1, "baselines");
            std::vector<Genome> uniform;
            for (int b = settings.minBits; b <= settings.maxBits; ++b) uniform.push_back(uniformGenome(layout, b));
            result.baselines = evaluator->evaluateAll(uniform, true, true);
            evaluator->log("homogeneous baselines evaluated");
        }

        const auto seed32 = static_cast<unsigned>(settings.seed & 0xffffffffu);
        pagmo::problem problem{GenomeProblem{evaluator, layout.geneCount(), settings.minBits, settings.maxBits}};
        pagmo::bfe bfe{GenomeBatchEvaluator{evaluator}};
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
            const auto front = paretoFront(evaluator->cached());
            for (const auto& a : front) record.front.push_back(a.id);
            record.hypervolume = hypervolumeOf(front);
            record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
            archive.addGeneration(record);
            if (observer) observer->generationFinished(record);
            evaluator->log("generation " + std::to_string(g) + ": front of " + std::to_string(front.size()) +
                           ", hypervolume " + std::to_string(record.hypervolume));
        };

        evaluator->setStage(0, "generation 0/" + std::to_string(gens));
        std::vector<pagmo::vector_double> seeds;
        if (settings.baselines && settings.seedWithBaselines) {
            for (const auto& b : result.baselines) seeds.emplace_back(b.genes.begin(), b.genes.end());
            if (seeds.size() * 2 > size_t(pop)) seeds.resize(size_t(pop) / 2);  // keep at least half random
        }
        pagmo::population population(problem, bfe, static_cast<pagmo::population::size_type>(pop) - seeds.size(), seed32);
        for (const auto& x : seeds) population.push_back(x);  // already evaluated: answered from the cache
        recordGeneration(0, population);
        for (int g = 1; g <= gens; ++g) {
            evaluator->setStage(g, "generation " + std::to_string(g) + "/" + std::to_string(gens));
            population = algorithm.evolve(population);
            recordGeneration(g, population);
        }

        if (settings.baselines && settings.refineBaselines) {
            evaluator->setStage(gens, "refining baselines");
            refineUndominatedBaselines(*evaluator, settings);
        }

        evaluator->setStage(gens, "test split");
        evaluator->reportProgress();
        result.front = paretoFront(evaluator->cached());
        for (ArchivedIndividual& a : result.front) evaluator->measureTest(a);
        archive.setState("status", "finished");
        evaluator->setStage(gens, "done");
        evaluator->reportProgress();
    } catch (const Cancelled&) {
        archive.setState("status", "cancelled");
        result.cancelled = true;
        result.front = paretoFront(evaluator->cached());
        evaluator->log("search cancelled; every finished evaluation is in the archive");
    }
    result.hypervolume = hypervolumeOf(result.front);
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    result.computed = evaluator->computed();
    result.reused = evaluator->reused();
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

void SearchControl::pause() { paused_ = true; }

void SearchControl::resume() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        paused_ = false;
    }
    resumed_.notify_all();
}

void SearchControl::cancel() {
    cancel_.request();
    resumed_.notify_all();
}

void SearchControl::checkpoint() const {
    if (paused_) {
        std::unique_lock<std::mutex> lock(mutex_);
        resumed_.wait(lock, [this] { return !paused_ || cancel_.isRequested(); });
    }
    if (cancel_.isRequested()) throw Cancelled();
}

SearchSettings settingsOfArchive(const SearchArchive& archive) {
    try {
        return SearchSettings::fromJson(archive.settingsJson());
    } catch (const InputError& e) {
        throw InputError(archive.path(), "stored settings: " + e.problem());
    }
}

std::vector<ArchivedIndividual> paretoFront(const std::vector<ArchivedIndividual>& individuals) {
    std::vector<ArchivedIndividual> sorted = individuals;
    // By size, then by accuracy (best first), then id: a sweep keeps every strictly better accuracy.
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        if (a.sizeFraction != b.sizeFraction) return a.sizeFraction < b.sizeFraction;
        if (a.validationAccuracy != b.validationAccuracy) return a.validationAccuracy > b.validationAccuracy;
        return a.id < b.id;
    });
    std::vector<ArchivedIndividual> front;
    double best = -1.0;
    for (const auto& a : sorted) {
        if (a.validationAccuracy > best) {
            front.push_back(a);
            best = a.validationAccuracy;
        }
    }
    return front;
}

double hypervolumeOf(const std::vector<ArchivedIndividual>& front) {
    std::vector<pagmo::vector_double> points;
    for (const auto& a : front) {
        if (a.sizeFraction < 1.05) points.push_back({1.0 - a.validationAccuracy, a.sizeFraction});
    }
    if (points.empty()) return 0.0;
    return pagmo::hypervolume(points, true).compute({1.0, 1.05});
}

SearchResult runSearch(const SearchSettings& settings, const std::string& archivePath, SearchObserver* observer,
                       SearchControl* control, EvaluationDispatcher* dispatcher) {
    settings.validate();
    SearchArchive::checkCreatable(archivePath);  // now, not after the float model is trained
    Prepared prepared = prepare(settings, observer, control);
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
        throw InputError(archivePath, "the task data changed since this search started (float model identity differs)");
    }
    if (observer) observer->log("resuming: " + std::to_string(archive.individualCount()) + " stored evaluations will be reused");
    return execute(settings, archive, observer, control, dispatcher, prepared.data, prepared.baseline);
}

}  // namespace gruq
