#include "gruq/base/errors.h"
#include "gruq/quant/genome.h"
#include "gruq/search/search.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <type_traits>

namespace gruq {
namespace {

int cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

[[noreturn]] void bad(const std::string& field, const std::string& problem) {
    throw InputError("search settings", "'" + field + "' " + problem);
}

// Whether a JSON number holds a value of the integer field type T: an integer, or a whole float
// (2.0), inside T's range. nlohmann's get<T>() would wrap 2^40 into an int and convert 1e30 with an
// out-of-range cast, which is undefined behaviour.
template <typename T>
bool fitsInteger(const nlohmann::json& v) {
    using Limits = std::numeric_limits<T>;
    if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(Limits::max());
    if (v.is_number_integer()) {
        const int64_t x = v.get<int64_t>();
        return x >= static_cast<int64_t>(Limits::min()) &&
               (x < 0 || static_cast<uint64_t>(x) <= static_cast<uint64_t>(Limits::max()));
    }
    const double d = v.get<double>();
    // Limits::max() + 1 is a power of two, exact as a double (Limits::max() itself may round up).
    return std::trunc(d) == d && d >= static_cast<double>(Limits::min()) &&
           d < 2.0 * static_cast<double>(Limits::max() / 2 + 1);
}

// Reads json[key] into value when present; a wrong type or a number the field cannot hold is an
// error naming the field.
template <typename T>
void read(const nlohmann::json& j, const char* key, T& value, const std::string& prefix = "") {
    if (!j.contains(key)) return;
    const nlohmann::json& v = j.at(key);
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        if (v.is_number()) {
            if constexpr (std::is_integral_v<T>) {
                if (!fitsInteger<T>(v)) {
                    bad(prefix + key, "must be a whole number in " + std::to_string(std::numeric_limits<T>::min()) +
                                          ".." + std::to_string(std::numeric_limits<T>::max()));
                }
            }
            value = v.get<T>();  // doubles are always finite here: the parser rejects what overflows
            return;
        }
    }
    try {
        value = v.get<T>();
    } catch (const nlohmann::json::exception&) {
        bad(prefix + key, "has the wrong type (" + std::string(v.type_name()) + ")");
    }
}

const nlohmann::json& section(const nlohmann::json& j, const char* key, const nlohmann::json& empty) {
    if (!j.contains(key)) return empty;
    if (!j.at(key).is_object()) bad(key, "must be an object");
    return j.at(key);
}

}  // namespace

const GenomeLayout& searchLayout(const SearchSettings& settings, const GruShape& modelShape) {
    return stackedLayout(layoutByName(settings.layout), int(modelShape.numLayers));
}

int SearchSettings::resolvedWorkers() const { return workers > 0 ? workers : cores(); }

int SearchSettings::threadsPerWorker() const {
    const int shared = std::max(1, cores() / resolvedWorkers());
    return threadsPerWorkerLimit > 0 ? std::min(threadsPerWorkerLimit, shared) : shared;
}

void SearchSettings::validate() const {
    taskInfo(task);  // InputError naming the unknown task
    if (layoutByName(layout).layers != 1) {
        bad("layout", "'" + layout + "' is a stacked form; give its one-layer layout (" + layoutByName(layout).baseName +
                          "): the layer count comes from the model");
    }
    if (algorithm != "nsga2" && algorithm != "random") bad("algorithm", "must be nsga2 or random");
    if (minBits < 2 || maxBits > 8 || minBits > maxBits) bad("bits", "range must lie within 2..8 with min <= max");
    // The upper bound keeps an absurd value from exhausting memory instead of failing with a message.
    if (nsga2.population < 8 || nsga2.population > 10000 || nsga2.population % 4 != 0)
        bad("nsga2.population", "must be a multiple of 4 in 8..10000");
    if (nsga2.generations < 0 || nsga2.generations > 100000) bad("nsga2.generations", "must be in 0..100000");
    auto probability = [](double p, const char* name) {
        if (!(p >= 0.0 && p <= 1.0)) bad(name, "must be in [0, 1]");
    };
    probability(nsga2.crossoverProbability, "nsga2.crossover_probability");
    probability(nsga2.mutationProbability, "nsga2.mutation_probability");
    auto index = [](double v, const char* name) {
        if (!(v >= 1.0 && v < 100.0)) bad(name, "must be in [1, 100)");
    };
    index(nsga2.crossoverDistributionIndex, "nsga2.crossover_distribution_index");
    index(nsga2.mutationDistributionIndex, "nsga2.mutation_distribution_index");
    if (multiFidelity.enabled) {
        if (!(multiFidelity.rungFraction > 0.0 && multiFidelity.rungFraction < 1.0))
            bad("multi_fidelity.rung", "must lie strictly between 0 and 1 (a fraction of the QAT budget)");
        if (!(multiFidelity.rungValidation > 0.0 && multiFidelity.rungValidation <= 1.0))
            bad("multi_fidelity.rung_validation", "must be in (0, 1] (a share of the validation split)");
        if (multiFidelity.gainNeighbours < 1 || multiFidelity.gainNeighbours > 100000)
            bad("multi_fidelity.gain_neighbours", "must be in 1..100000");
        if (!(multiFidelity.gainQuantile >= 0.5 && multiFidelity.gainQuantile <= 1.0))
            bad("multi_fidelity.gain_quantile", "must be in [0.5, 1]");
    }
    if (!objectives.flash && !objectives.latency) bad("objectives", "need flash or latency besides the error");
    // Upper bounds: beyond them a value is a typo (a microcontroller with a terabyte of flash), not a budget.
    if (objectives.maxFlashBytes < 0 || objectives.maxFlashBytes > (int64_t(1) << 32))
        bad("budget.max_flash_bytes", "must be in 0..4294967296 (0: no budget)");
    if (!(objectives.maxLatencyUs >= 0 && objectives.maxLatencyUs <= 1e9))
        bad("budget.max_latency_us", "must be in 0..1e9 (0: no budget)");
    if (objectives.maxLatencyUs > 0 && !(objectives.cpuMhz > 0 && objectives.cpuMhz <= 10000))
        bad("budget.cpu_mhz", "must be in (0, 10000] with a latency budget (the clock the budget is at)");
    if (!(objectives.cpuMhz >= 0 && objectives.cpuMhz <= 10000)) bad("budget.cpu_mhz", "must be in [0, 10000]");
    if (workers < 0 || workers > 256) bad("workers", "must be in 0..256");
    if (threadsPerWorkerLimit < 0 || threadsPerWorkerLimit > 256) bad("threads_per_worker", "must be in 0..256");
    if (qat.epochs < 0 || qat.batchSize < 1 || qat.calibrationBatches < 1 || qat.samplesPerEpoch < 0) {
        bad("qat", "needs epochs >= 0, batch_size >= 1, calibration_batches >= 1, samples_per_epoch >= 0");
    }
    if (!(qat.learningRate > 0.0)) bad("qat.learning_rate", "must be > 0");
    if (!(qat.freezeRangesAfter >= 0.0 && qat.freezeRangesAfter <= 1.0)) bad("qat.freeze_ranges_after", "must be in 0..1");
    if (!(qat.emaMomentum >= 0.0 && qat.emaMomentum < 1.0)) bad("qat.ema_momentum", "must be in [0, 1)");
    if (floatModel.hiddenSize < 1 || floatModel.hiddenSize > kMaxHiddenSize) {
        bad("model.hidden_size", "must be in 1.." + std::to_string(kMaxHiddenSize));
    }
    if (floatModel.numLayers < 1 || floatModel.numLayers > kMaxGruLayers) {
        bad("model.layers", "must be in 1.." + std::to_string(kMaxGruLayers) + " (stacked GRU layers)");
    }
    if (floatModel.epochs < 1) bad("model.epochs", "must be >= 1");
    if (floatModel.imports()) {
        if (task != "npz") bad("model.import_path", "an imported model needs your own data (task npz, --data FILE)");
        if (data.normalize) {
            bad("data.normalize", "must be off with an imported model: it was trained on the features as the file holds them");
        }
    }
    for (const std::string* path : {&data.path, &data.validationPath, &data.testPath, &floatModel.importModel.path}) {
        try {
            (void)nlohmann::json(*path).dump();  // archives keep the settings as JSON, which must be UTF-8
        } catch (const nlohmann::json::type_error&) {
            throw InputError(*path, "file or folder name is not valid UTF-8, so a search archive cannot record it; "
                                    "rename the folder or reach it through a link with a UTF-8 name");
        }
    }
}

std::string SearchSettings::toJson() const {
    nlohmann::json j;
    j["format"] = "gruq-search-settings-1";
    j["task"] = task;
    j["data"] = {{"path", data.path},        {"seed", data.seed},       {"validation_fraction", data.validationFraction},
                 {"max_train", data.maxTrain}, {"max_test", data.maxTest}, {"kws_unknown", data.kwsUnknown},
                 {"kws_silence", data.kwsSilence}, {"test_fraction", data.testFraction},
                 {"validation_path", data.validationPath}, {"test_path", data.testPath}, {"normalize", data.normalize}};
    j["model"] = {{"hidden_size", floatModel.hiddenSize}, {"layers", floatModel.numLayers}, {"epochs", floatModel.epochs},
                  {"batch_size", floatModel.batchSize},   {"learning_rate", floatModel.learningRate},
                  {"seed", floatModel.seed},
                  {"import_path", floatModel.importModel.path}, {"import_gru", floatModel.importModel.gruName},
                  {"import_head", floatModel.importModel.headName}};
    j["qat"] = {{"epochs", qat.epochs},
                {"samples_per_epoch", qat.samplesPerEpoch},
                {"batch_size", qat.batchSize},
                {"learning_rate", qat.learningRate},
                {"calibration_batches", qat.calibrationBatches},
                {"ema_momentum", qat.emaMomentum},
                {"freeze_ranges_after", qat.freezeRangesAfter},
                {"grad_clip_norm", qat.gradClipNorm},
                {"seed", qat.seed}};
    j["algorithm"] = algorithm;
    j["layout"] = layout;
    j["min_bits"] = minBits;
    j["max_bits"] = maxBits;
    j["nsga2"] = {{"population", nsga2.population},
                  {"generations", nsga2.generations},
                  {"crossover_probability", nsga2.crossoverProbability},
                  {"crossover_distribution_index", nsga2.crossoverDistributionIndex},
                  {"mutation_probability", nsga2.mutationProbability},
                  {"mutation_distribution_index", nsga2.mutationDistributionIndex}};
    j["multi_fidelity"] = {{"enabled", multiFidelity.enabled},
                           {"rung", multiFidelity.rungFraction},
                           {"rung_validation", multiFidelity.rungValidation},
                           {"gain_neighbours", multiFidelity.gainNeighbours},
                           {"gain_quantile", multiFidelity.gainQuantile}};
    j["objectives"] = objectives.names();
    j["budget"] = {{"max_flash_bytes", objectives.maxFlashBytes},
                   {"max_latency_us", objectives.maxLatencyUs},
                   {"cpu_mhz", objectives.cpuMhz}};
    j["seed"] = seed;
    j["workers"] = workers;
    j["threads_per_worker"] = threadsPerWorkerLimit;
    j["baselines"] = baselines;
    j["seed_with_baselines"] = seedWithBaselines;
    j["refine_baselines"] = refineBaselines;
    return j.dump(2);
}

SearchSettings SearchSettings::fromJson(const std::string& text) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for numbers like 1e400
        throw InputError("search settings", std::string("malformed JSON: ") + e.what());
    }
    if (!j.is_object()) throw InputError("search settings", "must be a JSON object");
    const nlohmann::json empty = nlohmann::json::object();
    SearchSettings s;
    read(j, "task", s.task);
    const auto& d = section(j, "data", empty);
    read(d, "path", s.data.path, "data.");
    read(d, "seed", s.data.seed, "data.");
    read(d, "validation_fraction", s.data.validationFraction, "data.");
    read(d, "max_train", s.data.maxTrain, "data.");
    read(d, "max_test", s.data.maxTest, "data.");
    read(d, "kws_unknown", s.data.kwsUnknown, "data.");
    read(d, "kws_silence", s.data.kwsSilence, "data.");
    read(d, "test_fraction", s.data.testFraction, "data.");
    read(d, "validation_path", s.data.validationPath, "data.");
    read(d, "test_path", s.data.testPath, "data.");
    read(d, "normalize", s.data.normalize, "data.");
    const auto& m = section(j, "model", empty);
    read(m, "hidden_size", s.floatModel.hiddenSize, "model.");
    read(m, "layers", s.floatModel.numLayers, "model.");
    read(m, "epochs", s.floatModel.epochs, "model.");
    read(m, "batch_size", s.floatModel.batchSize, "model.");
    read(m, "learning_rate", s.floatModel.learningRate, "model.");
    read(m, "seed", s.floatModel.seed, "model.");
    read(m, "import_path", s.floatModel.importModel.path, "model.");
    read(m, "import_gru", s.floatModel.importModel.gruName, "model.");
    read(m, "import_head", s.floatModel.importModel.headName, "model.");
    const auto& q = section(j, "qat", empty);
    read(q, "epochs", s.qat.epochs, "qat.");
    read(q, "samples_per_epoch", s.qat.samplesPerEpoch, "qat.");
    read(q, "batch_size", s.qat.batchSize, "qat.");
    read(q, "learning_rate", s.qat.learningRate, "qat.");
    read(q, "calibration_batches", s.qat.calibrationBatches, "qat.");
    read(q, "ema_momentum", s.qat.emaMomentum, "qat.");
    read(q, "freeze_ranges_after", s.qat.freezeRangesAfter, "qat.");
    read(q, "grad_clip_norm", s.qat.gradClipNorm, "qat.");
    read(q, "seed", s.qat.seed, "qat.");
    read(j, "algorithm", s.algorithm);  // absent in older archives: nsga2
    read(j, "layout", s.layout);
    read(j, "min_bits", s.minBits);
    read(j, "max_bits", s.maxBits);
    const auto& n = section(j, "nsga2", empty);
    read(n, "population", s.nsga2.population, "nsga2.");
    read(n, "generations", s.nsga2.generations, "nsga2.");
    read(n, "crossover_probability", s.nsga2.crossoverProbability, "nsga2.");
    read(n, "crossover_distribution_index", s.nsga2.crossoverDistributionIndex, "nsga2.");
    read(n, "mutation_probability", s.nsga2.mutationProbability, "nsga2.");
    read(n, "mutation_distribution_index", s.nsga2.mutationDistributionIndex, "nsga2.");
    s.multiFidelity.enabled = false;  // settings written before it existed searched at full fidelity
    if (j.contains("multi_fidelity")) {
        const auto& f = section(j, "multi_fidelity", empty);
        s.multiFidelity.enabled = true;
        read(f, "enabled", s.multiFidelity.enabled, "multi_fidelity.");
        read(f, "rung", s.multiFidelity.rungFraction, "multi_fidelity.");
        read(f, "rung_validation", s.multiFidelity.rungValidation, "multi_fidelity.");
        read(f, "gain_neighbours", s.multiFidelity.gainNeighbours, "multi_fidelity.");
        read(f, "gain_quantile", s.multiFidelity.gainQuantile, "multi_fidelity.");
    }
    if (j.contains("objectives")) {  // absent in older archives: error and flash
        const auto& o = j.at("objectives");
        if (!o.is_array()) bad("objectives", "must be an array of names (error, flash, latency)");
        std::string list;
        for (const auto& name : o) {
            if (!name.is_string()) bad("objectives", "must be an array of names (error, flash, latency)");
            list += (list.empty() ? "" : ",") + name.get<std::string>();
        }
        try {
            s.objectives = parseObjectiveNames(list, s.objectives);
        } catch (const InputError& e) {
            bad("objectives", e.problem());
        }
    }
    const auto& budget = section(j, "budget", empty);
    read(budget, "max_flash_bytes", s.objectives.maxFlashBytes, "budget.");
    read(budget, "max_latency_us", s.objectives.maxLatencyUs, "budget.");
    read(budget, "cpu_mhz", s.objectives.cpuMhz, "budget.");
    read(j, "seed", s.seed);
    read(j, "workers", s.workers);
    read(j, "threads_per_worker", s.threadsPerWorkerLimit);
    read(j, "baselines", s.baselines);
    read(j, "seed_with_baselines", s.seedWithBaselines);
    s.refineBaselines = false;  // settings written before this option existed searched without it
    read(j, "refine_baselines", s.refineBaselines);
    s.validate();
    return s;
}

}  // namespace gruq
