// The search engine in-process: reproducible fronts, archive contents, observer events, settings
// JSON, cancel then resume without re-running anything, and the Pareto helpers.
#include "gruq/base/errors.h"
#include "gruq/export/blob.h"
#include "gruq/base/process_identity.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/quant/size_metric.h"
#include "gruq/search/archive_model.h"
#include "gruq/search/fine_tune.h"
#include "gruq/search/promotion_rule.h"
#include "gruq/data/split.h"
#include "gruq/search/search.h"
#include "search_test_support.h"
#include "test_support.h"

#include <QtTest>

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

using namespace gruq;

namespace {

struct CountingObserver : SearchObserver {
    std::atomic<int> computed{0}, reused{0}, generations{0}, progressCalls{0};
    std::function<void()> onComputed;
    void individualEvaluated(const ArchivedIndividual&, bool wasReused) override {
        (wasReused ? reused : computed)++;
        if (!wasReused && onComputed) onComputed();
    }
    void generationFinished(const ArchivedGeneration&) override { generations++; }
    void progress(const SearchProgress&) override { progressCalls++; }
};

std::vector<std::string> genomesOf(const std::vector<ArchivedIndividual>& v) {
    std::vector<std::string> out;
    for (const auto& a : v) out.push_back(a.genome + " " + std::to_string(a.validationAccuracy));
    return out;
}

ArchivedIndividual point(int64_t id, double accuracy, double size, double latency = 1.0) {
    ArchivedIndividual a;
    a.id = id;
    a.validationAccuracy = accuracy;
    a.sizeFraction = size;
    a.sizeBits = int64_t(size * 80000);  // 10,000 bytes at size 1
    a.latencyFraction = latency;
    a.stepInstructions = latency * 100000;  // 100,000 instructions at latency 1
    return a;
}

std::vector<int64_t> idsOf(const std::vector<ArchivedIndividual>& v) {
    std::vector<int64_t> ids;
    for (const auto& a : v) ids.push_back(a.id);
    return ids;
}

}  // namespace

class TestSearch : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string data_, cache_;
    std::string path(const char* name) const { return dir_.path().toStdString() + "/" + name; }

private slots:
    void initTestCase() {
        const test::TinySearchFolders folders(dir_.path().toStdString());
        data_ = folders.data;
        cache_ = folders.cache;
    }

    void paretoFrontAndHypervolume() {
        const std::vector<ArchivedIndividual> all = {point(1, 0.9, 1.0), point(2, 0.8, 0.5), point(3, 0.85, 0.5),
                                                     point(4, 0.7, 0.6), point(5, 0.95, 1.0), point(6, 0.5, 0.3)};
        const auto front = paretoFront(all);
        std::vector<int64_t> ids;
        for (const auto& a : front) ids.push_back(a.id);
        QCOMPARE(ids, (std::vector<int64_t>{6, 3, 5}));  // by size; 2, 4 and 1 are dominated
        // Hypervolume against (error 1, size 1.05) by hand: 0.5*(0.5-0.3) + 0.85*(1.0-0.5) + 0.95*(1.05-1.0).
        QVERIFY(std::abs(hypervolumeOf(front) - (0.5 * 0.2 + 0.85 * 0.5 + 0.95 * 0.05)) < 1e-12);
        QCOMPARE(hypervolumeOf({}), 0.0);
    }

    // Latency as a third objective keeps points the two-objective front drops (slower but smaller, faster
    // but bigger); budgets keep every point over them out of the front, and NSGA-II's values rank any
    // point within them ahead of every point over them.
    void objectivesAndBudgetsDecideTheFront() {
        const std::vector<ArchivedIndividual> all = {point(1, 0.90, 1.00, 1.20), point(2, 0.85, 0.50, 1.60),
                                                     point(3, 0.85, 0.55, 1.05), point(4, 0.60, 0.30, 1.10),
                                                     point(5, 0.80, 0.60, 1.05), point(6, 0.90, 1.00, 1.20)};
        QCOMPARE(idsOf(paretoFront(all)), (std::vector<int64_t>{4, 2, 1}));  // 3 and 5: bigger, no better
        SearchObjectives three;
        three.latency = true;
        // 3 is faster than 2 at the same accuracy; 3 dominates 5; 6 equals 1 (the first is kept).
        QCOMPARE(idsOf(paretoFront(all, three)), (std::vector<int64_t>{4, 2, 3, 1}));
        SearchObjectives latencyOnly;
        latencyOnly.flash = false;
        latencyOnly.latency = true;
        QCOMPARE(idsOf(paretoFront(all, latencyOnly)), (std::vector<int64_t>{3, 1}));  // 2, 4, 5: slower or worse than 3
        SearchObjectives budget;
        budget.maxFlashBytes = 5400;  // 54% of 10,000 bytes: 2 (5,000 bytes) and 4 fit
        QCOMPARE(idsOf(paretoFront(all, budget)), (std::vector<int64_t>{4, 2}));
        budget.maxLatencyUs = 1200;  // at 100 MHz: 120,000 instructions, so 2 (160,000) is out
        budget.cpuMhz = 100;
        QCOMPARE(idsOf(paretoFront(all, budget)), (std::vector<int64_t>{4}));
        QCOMPARE(budget.violation(all[1]), 160000.0 / 120000.0 - 1);
        QCOMPARE(budget.violation(all[0]), (10000.0 - 5400) / 5400);  // flash only: 120,000 instructions are within
        // NSGA-II's values: within the budgets the objectives, over them 10 + the violation everywhere.
        QCOMPARE(budget.values(all[3]), (std::vector<double>{1 - 0.60, 0.30}));
        const std::vector<double> over = budget.values(all[1]);
        QCOMPARE(over, (std::vector<double>(2, 10 + budget.violation(all[1]))));
        QVERIFY(budget.dominates(all[3], all[0]) && budget.dominates(all[1], all[0]));  // less over the budget wins
        // Hypervolume of one point in three objectives against (1, 1.05, 2.0).
        QVERIFY(std::abs(hypervolumeOf({all[0]}, three) - 0.90 * 0.05 * 0.8) < 1e-12);
        QCOMPARE(three.describe(), std::string("error, flash and latency"));
        QCOMPARE(budget.describe(), std::string("error and flash; flash <= 5400 bytes; latency <= 1200 us per step at 100 MHz"));
    }

    void objectiveSettingsAndTheirErrors() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        QCOMPARE(SearchSettings::fromJson("{}").objectives.names(), (std::vector<std::string>{"error", "flash"}));
        s.objectives = parseObjectiveNames("latency,error,flash", s.objectives);
        s.objectives.maxFlashBytes = 12000;
        s.objectives.maxLatencyUs = 900;
        s.objectives.cpuMhz = 168;
        const SearchSettings back = SearchSettings::fromJson(s.toJson());
        QCOMPARE(back.toJson(), s.toJson());
        QVERIFY(back.objectives.latency && back.objectives.flash && back.objectives.maxFlashBytes == 12000);
        QCOMPARE(back.objectives.maxStepInstructions(), 900.0 * 168);
        auto refused = [](const char* json, const char* field) {
            try {
                SearchSettings::fromJson(json);
                return std::string("accepted: ") + json;
            } catch (const InputError& e) {
                return std::string(e.what()).find(field) != std::string::npos ? std::string() : std::string(e.what());
            }
        };
        QCOMPARE(refused(R"({"objectives": ["error", "speed"]})", "objectives"), std::string());
        QCOMPARE(refused(R"({"objectives": ["error"]})", "objectives"), std::string());
        QCOMPARE(refused(R"({"objectives": "error,flash"})", "objectives"), std::string());
        QCOMPARE(refused(R"({"budget": {"max_flash_bytes": -1}})", "budget.max_flash_bytes"), std::string());
        QCOMPARE(refused(R"({"budget": {"max_latency_us": 500}})", "budget.cpu_mhz"), std::string());
        QCOMPARE(refused(R"({"budget": {"max_latency_us": -3, "cpu_mhz": 80}})", "budget.max_latency_us"), std::string());
        QCOMPARE(refused(R"({"budget": {"max_latency_us": 5, "cpu_mhz": 1e9}})", "budget.cpu_mhz"), std::string());
        QVERIFY_THROWS_EXCEPTION(InputError, parseObjectiveNames("error,flash,flash", {}));
        // A budget nothing can meet is refused before the search, naming the option and the smallest scheme.
        SearchSettings tight = test::tinySearchSettings(data_, cache_);
        tight.objectives.maxFlashBytes = 50;
        try {
            checkBudgetsCanBeMet(tight, GruShape{28, 8, 10});
            QFAIL("a 50-byte flash budget was accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("budget.max_flash_bytes (--max-flash)") != std::string::npos, e.what());
        }
        tight.objectives.maxFlashBytes = 0;
        tight.objectives.maxLatencyUs = 1;
        tight.objectives.cpuMhz = 80;
        QVERIFY_THROWS_EXCEPTION(InputError, checkBudgetsCanBeMet(tight, GruShape{28, 8, 10}));
        tight.objectives.maxLatencyUs = 1e6;
        checkBudgetsCanBeMet(tight, GruShape{28, 8, 10});
    }

    // A search under a flash budget (the median size of the budget-free front, so that the budget bites):
    // its front holds only points within it, the archive keeps the budget, and with multi-fidelity a genome
    // over it never trains past the rung once the rule judges.
    void flashBudgetSearchKeepsOnlyFeasiblePoints() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        const SearchResult plain = runSearch(s, path("budget-free.gruq"));
        QVERIFY(plain.front.size() >= 3);
        s.objectives.maxFlashBytes = (plain.front[plain.front.size() / 2].sizeBits + 7) / 8;
        s.multiFidelity.gainNeighbours = 4;  // the tiny search judges from its fifth evaluation on
        const SearchResult r = runSearch(s, path("budget.gruq"));
        QVERIFY(!r.front.empty());
        for (const auto& a : r.front) QVERIFY2((a.sizeBits + 7) / 8 <= s.objectives.maxFlashBytes, a.genome.c_str());
        bool plainHadOver = false;
        for (const auto& a : plain.front) plainHadOver = plainHadOver || (a.sizeBits + 7) / 8 > s.objectives.maxFlashBytes;
        QVERIFY(plainHadOver);  // the budget changed the front
        const SearchArchive archive = SearchArchive::open(path("budget.gruq"), true);
        QCOMPARE(settingsOfArchive(archive).objectives.maxFlashBytes, s.objectives.maxFlashBytes);
        int stoppedOver = 0, fullOver = 0;
        for (const auto& a : archive.individuals()) {
            if (a.baseline || a.generation < 1 || s.objectives.feasible(a)) continue;
            (a.isPartial() ? stoppedOver : fullOver)++;
        }
        QVERIFY(stoppedOver > 0);
        qInfo("flash budget %lld bytes: front of %zu, %d genomes over it stopped at the rung, %d trained in full "
              "(before the rule had its gains)", static_cast<long long>(s.objectives.maxFlashBytes), r.front.size(),
              stoppedOver, fullOver);
    }

    void settingsJsonRoundTripAndErrors() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        s.nsga2.mutationProbability = 0.2;
        const SearchSettings back = SearchSettings::fromJson(s.toJson());
        QCOMPARE(back.toJson(), s.toJson());
        QVERIFY_THROWS_EXCEPTION(InputError, SearchSettings::fromJson("{not json"));
        try {
            SearchSettings::fromJson(R"({"nsga2": {"population": 10}})");
            QFAIL("population 10 accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("nsga2.population") != std::string::npos, e.what());
        }
        try {
            SearchSettings::fromJson(R"({"qat": {"epochs": "many"}})");
            QFAIL("string epochs accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("qat.epochs") != std::string::npos, e.what());
        }
        QVERIFY_THROWS_EXCEPTION(InputError, SearchSettings::fromJson(R"({"task": "cifar"})"));
        QVERIFY_THROWS_EXCEPTION(InputError, SearchSettings::fromJson(R"({"layout": "per-neuron"})"));
        QVERIFY_THROWS_EXCEPTION(InputError, SearchSettings::fromJson(R"({"min_bits": 1})"));
    }

    void sameSeedOneWorkerGivesIdenticalFronts() {
        const SearchSettings s = test::tinySearchSettings(data_, cache_);
        CountingObserver observer;
        const SearchResult a = runSearch(s, path("a.gruq"), &observer);
        const SearchResult b = runSearch(s, path("b.gruq"));
        QVERIFY(!a.cancelled);
        QCOMPARE(genomesOf(a.front), genomesOf(b.front));
        QCOMPARE(a.hypervolume, b.hypervolume);
        QCOMPARE(observer.generations.load(), s.nsga2.generations + 1);
        QVERIFY(observer.progressCalls > 0);
        for (const auto& f : a.front) QVERIFY(f.testAccuracy >= 0.0);  // the final front has test accuracy
        QCOMPARE(int(a.baselines.size()), 7);                            // 2..8 bits
        for (const auto& bl : a.baselines) QVERIFY(bl.baseline && bl.testAccuracy >= 0.0);

        // The archive holds every evaluation once, each generation, and the settings.
        const SearchArchive archive = SearchArchive::open(path("a.gruq"), true);
        QCOMPARE(archive.individualCount(), a.computed);
        QCOMPARE(int(archive.generations().size()), s.nsga2.generations + 1);
        QCOMPARE(SearchSettings::fromJson(archive.settingsJson()).toJson(), s.toJson());
        QCOMPARE(archive.state("status").value_or(""), std::string("finished"));
        std::set<std::string> genomes;
        for (const auto& i : archive.individuals()) QVERIFY(genomes.insert(i.genome).second);
    }

    // Every committed evaluation keeps its model: export / inspection read it back, train nothing and
    // get the very model the search evaluated. Without it (older archives) the rebuild re-runs QAT.
    void storedModelsNeedNoRebuild() {
        const SearchSettings s = test::tinySearchSettings(data_, cache_);
        const SearchResult a = runSearch(s, path("stored.gruq"));
        const SearchArchive archive = SearchArchive::open(path("stored.gruq"), true);
        QCOMPARE(archive.modelCount(), archive.individualCount());
        const ArchivedIndividual pick = a.front.back();
        const std::vector<uint8_t> stored = archive.model(pick.id).value();
        const int64_t before = qatStepsRun();
        const RebuiltIndividual r = rebuildArchivedIndividual(path("stored.gruq"), pick.id);
        QCOMPARE(qatStepsRun(), before);  // no QAT step
        QVERIFY(r.fromStoredModel && r.reproduced);
        QVERIFY(writeBlob(r.evaluation.model, r.evaluation.genome, "") == stored);
        QCOMPARE(r.evaluation.testAccuracy, pick.testAccuracy);

        // The same archive without its models table rows: the rebuild path, with QAT, still exact here.
        std::filesystem::copy_file(path("stored.gruq"), path("no-models.gruq"));
        {
            sqlite3* db = nullptr;
            QCOMPARE(sqlite3_open(path("no-models.gruq").c_str(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db, "DELETE FROM models", nullptr, nullptr, nullptr), SQLITE_OK);
            sqlite3_close(db);
        }
        const RebuiltIndividual rebuilt = rebuildArchivedIndividual(path("no-models.gruq"), pick.id);
        QVERIFY(qatStepsRun() > before);
        QVERIFY(!rebuilt.fromStoredModel && rebuilt.reproduced);
        QVERIFY(writeBlob(rebuilt.evaluation.model, rebuilt.evaluation.genome, "") == stored);
    }

    // A 2-layer model: the search runs on the 31-gene default17-L2 genomes, stores every integer model (blob
    // v3, both layers) and reads them back exactly; sizes, latency and the front use both layers.
    void stackedSearchRunsEndToEnd() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        s.floatModel.numLayers = 2;
        s.nsga2.generations = 2;
        const SearchResult r = runSearch(s, path("stacked.gruq"));
        QVERIFY(!r.front.empty());
        const SearchArchive archive = SearchArchive::open(path("stacked.gruq"), true);
        QCOMPARE(archive.shape().numLayers, int64_t(2));
        const GenomeLayout& layout = stackedLayout(defaultLayout(), 2);
        for (const ArchivedIndividual& a : archive.individuals()) {
            QCOMPARE(a.layout, layout.name);
            QCOMPARE(int(a.genes.size()), 31);
            QVERIFY(a.stepInstructions > 0 && a.latencyFraction > 0);
            const Genome g{&layout, a.genes};
            QCOMPARE(a.sizeBits, modelSize(archive.shape(), g.resolve()).totalBits());
        }
        // Homogeneous 8 bits is the size reference of the 2-layer shape.
        const auto eight = std::find_if(r.baselines.begin(), r.baselines.end(), [](const ArchivedIndividual& a) {
            return a.genes == std::vector<int>(31, 8);
        });
        QVERIFY(eight != r.baselines.end());
        QCOMPARE(eight->sizeFraction, 1.0);
        const ArchivedIndividual pick = r.front.front();
        const std::vector<uint8_t> stored = archive.model(pick.id).value();
        const RebuiltIndividual rebuilt = rebuildArchivedIndividual(path("stacked.gruq"), pick.id);
        QVERIFY(rebuilt.fromStoredModel && rebuilt.reproduced);
        QCOMPARE(int(rebuilt.evaluation.model.layers.size()), 2);
        QVERIFY(writeBlob(rebuilt.evaluation.model, rebuilt.evaluation.genome, "") == stored);
        QCOMPARE(readBlob(stored, "stored").formatVersion, 3);
    }

    // Random search: the same budget, archive and baselines; every generation is fresh random genomes,
    // reproducible from the seed; NSGA-II's later generations are bred from the earlier ones instead.
    void randomSearchHasTheSameBudgetAndRecords() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        s.algorithm = "random";
        const SearchResult a = runSearch(s, path("random-a.gruq"));
        const SearchResult b = runSearch(s, path("random-b.gruq"));
        QCOMPARE(genomesOf(a.front), genomesOf(b.front));
        const SearchArchive archive = SearchArchive::open(path("random-a.gruq"), true);
        QCOMPARE(int(archive.generations().size()), s.nsga2.generations + 1);
        QCOMPARE(SearchSettings::fromJson(archive.settingsJson()).algorithm, std::string("random"));
        for (const auto& g : archive.generations()) QCOMPARE(int(g.population.size()), s.nsga2.population);
        QCOMPARE(int(a.baselines.size()), 7);
        // Nearby seeds explore independently (with seed + generation as the generation's seed, seed 8's
        // generation 1 was seed 7's generation 2).
        s.seed = 8;
        runSearch(s, path("random-seed8.gruq"));
        const auto genomesOfGeneration = [&](const char* file, int g) {
            const SearchArchive archive = SearchArchive::open(path(file), true);
            std::set<std::string> genomes;
            const std::vector<ArchivedGeneration> generations = archive.generations();
            for (int64_t id : generations.at(size_t(g)).population) genomes.insert(archive.individual(id)->genome);
            return genomes;
        };
        for (int g = 1; g + 1 <= s.nsga2.generations; ++g) {
            QVERIFY(genomesOfGeneration("random-seed8.gruq", g) != genomesOfGeneration("random-a.gruq", g + 1));
        }
        QVERIFY(genomesOfGeneration("random-seed8.gruq", 1) != genomesOfGeneration("random-a.gruq", 1));
        s.seed = 7;
        s.algorithm = "nsga2";
        const SearchResult n = runSearch(s, path("random-nsga2.gruq"));
        const auto last = [&](const char* file) { return SearchArchive::open(path(file), true).lastGeneration()->population; };
        QVERIFY(last("random-a.gruq") != last("random-nsga2.gruq"));
        s.algorithm = "annealing";
        QVERIFY_THROWS_EXCEPTION(InputError, s.validate());
    }

    void differentSeedExploresDifferently() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        s.seed = 99;
        s.baselines = false;
        const SearchResult c = runSearch(s, path("c.gruq"));
        const SearchArchive a = SearchArchive::open(path("a.gruq"), true);
        const SearchArchive other = SearchArchive::open(path("c.gruq"), true);
        QVERIFY(a.generations().front().population != other.generations().front().population ||
                a.individuals().front().genome != other.individuals().front().genome);
    }

    void cancelThenResumeReusesEverything() {
        const SearchSettings s = test::tinySearchSettings(data_, cache_);
        SearchControl control;
        CountingObserver observer;
        observer.onComputed = [&] {
            if (observer.computed == 12) control.cancel();  // mid generation 0/1
        };
        const SearchResult partial = runSearch(s, path("r.gruq"), &observer, &control);
        QVERIFY(partial.cancelled);
        const int64_t stored = SearchArchive::open(path("r.gruq"), true).individualCount();
        QVERIFY(stored >= 12);
        QCOMPARE(SearchArchive::open(path("r.gruq"), true).state("status").value_or(""), std::string("cancelled"));

        CountingObserver resumedObserver;
        const SearchResult resumed = resumeSearch(path("r.gruq"), &resumedObserver);
        QVERIFY(!resumed.cancelled);
        const SearchArchive archive = SearchArchive::open(path("r.gruq"), true);
        // Nothing stored was computed again; everything new was computed once.
        QCOMPARE(archive.individualCount(), stored + resumed.computed);
        QVERIFY(resumed.reused >= stored);
        // And the outcome is the uninterrupted run's.
        const SearchResult reference = runSearch(s, path("r-ref.gruq"));
        QCOMPARE(genomesOf(resumed.front), genomesOf(reference.front));
        QCOMPARE(archive.individualCount(), SearchArchive::open(path("r-ref.gruq"), true).individualCount());
    }

    void pauseBlocksAndResumeContinues() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        s.nsga2.generations = 1;
        s.baselines = false;
        SearchControl control;
        CountingObserver observer;
        observer.onComputed = [&] {
            if (observer.computed == 2) control.pause();
        };
        int finishedWhilePaused = -1;
        std::thread resumer([&] {
            while (!control.isPaused()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            finishedWhilePaused = observer.computed.load() - 2;
            control.resume();
        });
        const SearchResult r = runSearch(s, path("p.gruq"), &observer, &control);
        resumer.join();
        QCOMPARE(finishedWhilePaused, 0);  // the worker waited at its next training step
        QVERIFY(!r.cancelled);
        QVERIFY(observer.computed > 2);
    }

    // Fine-tune: full epochs (every training sequence, every epoch), the best epoch's model stored as a
    // copy linked to its source, better than the search's small budget got; the stored model is the one
    // measured. Cancelling keeps the best epoch so far; a live search's archive and bad ids are refused.
    void fineTuneTrainsTheChosenSchemeFurther() {
        // More data than the other tests: 200 validation sequences measure a gain, 40 would not.
        const std::string dataDir = path("fine-tune-data");
        QDir().mkpath(QString::fromStdString(dataDir));
        test::writeTinyMnist(dataDir, 2000, 400, true);
        SearchSettings s = test::tinySearchSettings(dataDir, cache_);
        s.nsga2.generations = 1;
        const std::string file = path("fine-tune.gruq");
        const SearchResult searched = runSearch(s, file);
        // The 4-bit scheme: the search's 2 QAT steps leave it far from what it can reach.
        const auto fourBit = std::find_if(searched.baselines.begin(), searched.baselines.end(),
                                          [](const ArchivedIndividual& a) { return a.genes.front() == 4; });
        QVERIFY(fourBit != searched.baselines.end());
        const ArchivedIndividual pick = *fourBit;
        const SearchArchive searchedArchive = SearchArchive::open(file, true);
        const int64_t trainCount = archiveTaskData(searchedArchive, settingsOfArchive(searchedArchive))->train.count;

        FineTuneSettings settings;
        settings.epochs = 20;
        settings.patience = 5;
        std::vector<ArchivedIndividual> stored;
        const int64_t stepsBefore = qatStepsRun();
        const FineTuneResult r = fineTuneArchivedIndividual(file, pick.id, settings, {}, nullptr,
                                                            [&](const ArchivedIndividual& a) { stored.push_back(a); });
        QVERIFY(!r.cancelled);
        QCOMPARE(r.source.id, pick.id);
        QCOMPARE(r.tuned.sourceId, pick.id);
        QCOMPARE(r.tuned.genome, pick.genome);
        QCOMPARE(r.tuned.sizeBits, pick.sizeBits);
        const FineTuneRecord& f = r.tuned.fineTune;
        qInfo("fine-tune of #%lld: validation %.4f -> %.4f, test %.4f -> %.4f, %d of %d epochs, best %d (%s)",
              static_cast<long long>(pick.id), pick.validationAccuracy, r.tuned.validationAccuracy, pick.testAccuracy,
              r.tuned.testAccuracy, f.epochsRun, f.epochsPlanned, f.bestEpoch, f.status.c_str());
        // Every epoch saw the whole training split (the search saw 64 sequences).
        QCOMPARE(qatStepsRun() - stepsBefore, int64_t(f.epochsRun) * ((trainCount + s.qat.batchSize - 1) / s.qat.batchSize));
        // The stopping rule: all epochs, or `patience` epochs after the best without a better one.
        if (f.status == "stopped early") {
            QVERIFY(f.epochsRun < settings.epochs);
            QCOMPARE(f.epochsRun - f.bestEpoch, settings.patience);
        } else {
            QCOMPARE(f.status, std::string("finished"));
            QCOMPARE(f.epochsRun, settings.epochs);
        }
        // Each stored epoch was better than the one before; the last stored one is the result.
        QVERIFY(stored.size() >= 2);
        for (size_t i = 1; i + 1 < stored.size(); ++i) {
            QVERIFY(stored[i].validationAccuracy > stored[i - 1].validationAccuracy);
            QVERIFY(stored[i].fineTune.bestEpoch > stored[i - 1].fineTune.bestEpoch);
        }
        QCOMPARE(stored.back().fineTune.status, f.status);
        QCOMPARE(stored.back().fineTune.bestEpoch, f.bestEpoch);
        // The numbers the feature exists for (measured: validation 61.5% -> 78.5%, test 62.0% -> 75.5%).
        QVERIFY(r.tuned.validationAccuracy >= pick.validationAccuracy + 0.08);
        QVERIFY(r.tuned.testAccuracy >= pick.testAccuracy + 0.05);

        const SearchArchive archive = SearchArchive::open(file, true);
        const ArchivedIndividual back = archive.individual(r.tuned.id).value();
        QCOMPARE(back.sourceId, pick.id);
        QCOMPARE(back.validationAccuracy, r.tuned.validationAccuracy);
        // The final record carries the fake-quant figure of the stored epoch: it tracks the integer model.
        QVERIFY2(std::fabs(back.fakeQuantValidationAccuracy - back.validationAccuracy) <= 0.03,
                 qPrintable(QString::number(back.fakeQuantValidationAccuracy)));
        const BlobContents model = readBlob(archive.model(r.tuned.id).value(), "stored fine-tuned model");
        const std::shared_ptr<const TaskData> data = archiveTaskData(archive, settingsOfArchive(archive));
        QCOMPARE(IntegerGruEngine(model.model).accuracy(data->validation), back.validationAccuracy);
        QCOMPARE(IntegerGruEngine(model.model).accuracy(data->test), back.testAccuracy);
        for (const ArchivedIndividual& a : paretoFront(archive.individuals())) QVERIFY(a.id != r.tuned.id);
        // Exporting it reads that model: no QAT.
        const int64_t beforeExport = qatStepsRun();
        QVERIFY(rebuildArchivedIndividual(file, r.tuned.id).fromStoredModel);
        QCOMPARE(qatStepsRun(), beforeExport);

        // Cancelled after the first better epoch: that epoch stays, marked cancelled.
        CancelFlag cancel;
        settings.epochs = 4;
        const FineTuneResult c = fineTuneArchivedIndividual(file, r.tuned.id, settings, {}, &cancel,
                                                            [&](const ArchivedIndividual&) { cancel.request(); });
        QVERIFY(c.cancelled);
        QCOMPARE(c.source.id, pick.id);  // a fine-tuned copy stands for its source
        const ArchivedIndividual kept = SearchArchive::open(file, true).individual(c.tuned.id).value();
        QCOMPARE(kept.sourceId, pick.id);
        QCOMPARE(kept.fineTune.status, std::string("cancelled"));
        QCOMPARE(kept.fineTune.bestEpoch, 1);
        const BlobContents keptModel = readBlob(SearchArchive::open(file, true).model(kept.id).value(), "kept model");
        QCOMPARE(IntegerGruEngine(keptModel.model).accuracy(data->validation), kept.validationAccuracy);

        // Refused: unknown id, bad settings, an archive a live search is writing.
        QVERIFY_THROWS_EXCEPTION(InputError, fineTuneArchivedIndividual(file, 9999, settings));
        FineTuneSettings noEpochs;
        noEpochs.epochs = 0;
        QVERIFY_THROWS_EXCEPTION(InputError, fineTuneArchivedIndividual(file, pick.id, noEpochs));
        {
            SearchArchive writer = SearchArchive::open(file);
            writer.setState("writer", thisProcessIdentity());
            writer.setState("status", "running");
        }
        const int64_t count = SearchArchive::open(file, true).individualCount();
        try {
            fineTuneArchivedIndividual(file, pick.id, settings);
            QFAIL("a fine-tune beside a running search was accepted");
        } catch (const InputError& e) {
            QVERIFY2(std::string(e.what()).find("a search is still writing this archive") != std::string::npos, e.what());
        }
        QCOMPARE(SearchArchive::open(file, true).individualCount(), count);
    }

    // The promotion test: dominated by more than the gain the nearest rung accuracies allowed -> stopped.
    void promotionRuleJudgesAgainstTheFront() {
        PromotionRule rule;
        rule.rungFraction = 0.25;
        rule.neighbours = 2;
        rule.quantile = 1.0;
        rule.front = {{0.3, 0.62}, {0.6, 0.90}};
        rule.gains = {{0.20, 0.15}, {0.30, 0.10}, {0.80, 0.02}, {0.85, 0.01}};
        QCOMPARE(rule.marginFor(0.25), 0.15);  // neighbours 0.20 and 0.30: the larger gain
        QCOMPARE(rule.marginFor(0.56), 0.10);  // 0.80 (0.24 away), then 0.30 (0.26 away)
        QCOMPARE(rule.marginFor(0.84), 0.02);  // 0.85 and 0.80
        QCOMPARE(rule.marginFor(0.99), 0.02);  // the top two
        QVERIFY(rule.promote(0.2, 0, true, 0.10));      // smaller than the whole front: nothing dominates it
        QVERIFY(rule.promote(0.35, 0, true, 0.50));     // 0.50 + 0.15 > 0.62: the margin keeps it
        QVERIFY(!rule.promote(0.35, 0, true, 0.45));    // 0.45 + 0.15 < 0.62
        QVERIFY(!rule.promote(0.7, 0, true, 0.87));     // 0.87 + 0.02 < 0.90
        QVERIFY(rule.promote(0.7, 0, true, 0.89));      // 0.89 + 0.02 > 0.90
        rule.quantile = 0.5;                   // the smaller of the two nearest gains
        QCOMPARE(rule.marginFor(0.84), 0.01);
        const PromotionRule back = PromotionRule::fromJson(rule.toJson());
        QCOMPARE(back.toJson(), rule.toJson());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, PromotionRule::fromJson("{\"rung\": 0.25}"));
        rule.promoteAll = true;
        QVERIFY(rule.promote(0.7, 0, true, 0.0));
        QVERIFY(PromotionRule{}.promote(0.7, 0, true, 0.0));  // no rung: everyone trains in full

        // Built from the archive: earlier generations only, full-fidelity only, no fine-tuned copies.
        auto evaluated = [](int64_t id, int generation, double size, double accuracy, double rung, double fidelity) {
            ArchivedIndividual a = point(id, accuracy, size);
            a.generation = generation;
            a.rungValidationAccuracy = rung;
            a.fidelity = fidelity;
            return a;
        };
        std::vector<ArchivedIndividual> all = {evaluated(1, -1, 0.5, 0.80, 0.75, 1), evaluated(2, 0, 0.4, 0.85, 0.70, 1),
                                               evaluated(3, 0, 0.2, 0.95, 0.95, 0.25), evaluated(4, 1, 0.3, 0.90, 0.60, 1)};
        ArchivedIndividual copy = evaluated(5, -1, 0.1, 0.99, -1, 1);
        copy.sourceId = 2;
        all.push_back(copy);
        MultiFidelitySettings settings;
        settings.gainNeighbours = 2;
        const PromotionRule built = promotionRuleFor(settings, all, 1);
        QVERIFY(!built.promoteAll);
        QCOMPARE(int(built.gains.size()), 2);   // #1 and #2 (#3 stopped, #4 of generation 1, #5 a copy)
        QCOMPARE(int(built.front.size()), 1);   // #2 (0.4, 0.85) dominates #1 (0.5, 0.80)
        QCOMPARE(built.front[0].sizeFraction, 0.4);
        QCOMPARE(built.marginFor(0.7), 0.15);   // gains 0.05 (#1) and 0.15 (#2)
        settings.gainNeighbours = 3;            // more neighbours asked for than gains seen: nobody is judged yet
        QVERIFY(promotionRuleFor(settings, all, 1).promoteAll);
        settings.enabled = false;
        QCOMPARE(promotionRuleFor(settings, all, 1).rungFraction, 0.0);
    }

    // Multi-fidelity search: genomes that cannot reach the front stop at the rung, the decisions follow the
    // rule of their generation and do not depend on the worker count, the front is full fidelity only, a
    // promoted genome's result equals the full-fidelity search's, and resume replays the decisions.
    void multiFidelityStopsGenomesThatCannotReachTheFront() {
        SearchSettings s = test::tinySearchSettings(data_, cache_);
        s.multiFidelity.gainNeighbours = 4;
        s.qat.samplesPerEpoch = 128;  // 4 steps: the rung after 1
        s.nsga2.generations = 4;
        const SearchResult one = runSearch(s, path("mf-1.gruq"));
        s.workers = 2;
        const SearchResult two = runSearch(s, path("mf-2.gruq"));
        s.workers = 1;
        QCOMPARE(genomesOf(two.front), genomesOf(one.front));
        const SearchArchive archive = SearchArchive::open(path("mf-1.gruq"), true);
        const std::vector<ArchivedIndividual> all = archive.individuals();
        auto fidelities = [](const std::vector<ArchivedIndividual>& v) {
            std::map<std::string, double> m;
            for (const auto& a : v) m[a.genome] = a.fidelity;
            return m;
        };
        QVERIFY(fidelities(all) == fidelities(SearchArchive::open(path("mf-2.gruq"), true).individuals()));

        int stopped = 0, promoted = 0;
        const TaskData data = loadTask(s.task, s.data);
        for (const ArchivedIndividual& a : all) {
            QVERIFY(a.rungValidationAccuracy >= 0);  // every evaluation measured its rung
            if (a.baseline) {
                QCOMPARE(a.fidelity, 1.0);  // baselines anchor the front: always trained in full
                continue;
            }
            const PromotionRule rule = promotionRuleFor(s.multiFidelity, all, a.generation);
            QCOMPARE(rule.promote(a.sizeFraction, a.latencyFraction, true, a.rungValidationAccuracy), !a.isPartial());
            if (!a.isPartial()) {
                promoted += rule.promoteAll ? 0 : 1;
                continue;
            }
            ++stopped;
            QCOMPARE(a.fidelity, 0.25);
            QCOMPARE(a.validationAccuracy, a.rungValidationAccuracy);
            // Its stored model is the rung's: it reproduces the accuracy on the leading quarter of validation.
            std::vector<int64_t> rows(size_t(std::llround(0.25 * double(data.validation.count))));
            for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
            const QuantizedGru model = readBlob(archive.model(a.id).value(), "stored").model;
            QCOMPARE(IntegerGruEngine(model).accuracy(subset(data.validation, rows)), a.validationAccuracy);
        }
        qInfo("multi-fidelity: %d stopped at the rung, %d judged and promoted, %zu evaluations", stopped, promoted, all.size());
        QVERIFY(stopped >= 3);
        QVERIFY(promoted >= 1);
        for (const auto& f : one.front) QVERIFY(!f.isPartial());
        for (const ArchivedGeneration& g : archive.generations()) {
            for (int64_t id : g.front) QVERIFY(!archive.individual(id)->isPartial());
        }

        // Promoted genomes got exactly the full-fidelity evaluation.
        SearchSettings full = s;
        full.multiFidelity.enabled = false;
        runSearch(full, path("mf-full.gruq"));
        std::map<std::string, ArchivedIndividual> reference;
        for (const auto& a : SearchArchive::open(path("mf-full.gruq"), true).individuals()) reference[a.genome] = a;
        int compared = 0;
        for (const ArchivedIndividual& a : all) {
            const auto it = reference.find(a.genome);
            if (a.isPartial() || it == reference.end()) continue;
            QCOMPARE(a.validationAccuracy, it->second.validationAccuracy);
            QCOMPARE(it->second.rungValidationAccuracy, -1.0);  // no rung at full fidelity
            ++compared;
        }
        QVERIFY(compared >= 7);

        // A stopped individual without its stored model is rebuilt the way it was evaluated.
        const auto partial = std::find_if(all.begin(), all.end(), [](const auto& a) { return a.isPartial(); });
        std::filesystem::copy_file(path("mf-1.gruq"), path("mf-no-models.gruq"));
        {
            sqlite3* db = nullptr;
            QCOMPARE(sqlite3_open(path("mf-no-models.gruq").c_str(), &db), SQLITE_OK);
            QCOMPARE(sqlite3_exec(db, "DELETE FROM models", nullptr, nullptr, nullptr), SQLITE_OK);
            sqlite3_close(db);
        }
        const RebuiltIndividual rebuilt = rebuildArchivedIndividual(path("mf-no-models.gruq"), partial->id);
        QVERIFY(!rebuilt.fromStoredModel && rebuilt.reproduced);
        QCOMPARE(rebuilt.evaluation.fidelity, 0.25);

        // Cancelled mid-search and resumed: the same decisions, the same front.
        SearchControl control;
        CountingObserver observer;
        observer.onComputed = [&] {
            if (observer.computed == 20) control.cancel();
        };
        QVERIFY(runSearch(s, path("mf-resumed.gruq"), &observer, &control).cancelled);
        const SearchResult resumed = resumeSearch(path("mf-resumed.gruq"));
        QCOMPARE(genomesOf(resumed.front), genomesOf(one.front));
        QVERIFY(fidelities(SearchArchive::open(path("mf-resumed.gruq"), true).individuals()) == fidelities(all));
    }

    void existingArchiveIsNotOverwritten() {
        const SearchSettings s = test::tinySearchSettings(data_, cache_);
        QVERIFY_THROWS_EXCEPTION(InputError, runSearch(s, path("a.gruq")));
        QVERIFY(SearchArchive::open(path("a.gruq"), true).individualCount() > 0);
    }
};

QTEST_GUILESS_MAIN(TestSearch)
#include "test_search.moc"
