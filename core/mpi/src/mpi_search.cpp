#include "gruq/mpi/mpi_search.h"

#include "gruq/export/blob.h"
#include "gruq/base/errors.h"
#include "gruq/quant/evaluate.h"
#include "gruq/quant/size_metric.h"
#include "gruq/data/task_registry.h"

#include <mpi.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <stdexcept>
#include <thread>

namespace gruq::mpi {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Message tags. Every message body is CBOR (empty for Stop and Bye).
enum Tag : int {
    kSetup = 1,   // 0 -> worker: settings, float model, data identity
    kReady = 2,   // worker -> 0: data loaded and identical (or why not)
    kJob = 3,     // 0 -> worker: one genome
    kResult = 4,  // worker -> 0: its evaluation, model included
    kFailed = 5,  // worker -> 0: the evaluation threw
    kStop = 6,    // 0 -> worker: finish (abandon the running evaluation)
    kBye = 7,     // worker -> 0: stopped; nothing more will come from this rank
};

// How long an idle rank sleeps between polls: cheap next to an evaluation (seconds), and it keeps the
// waiting rank from spinning on a core the evaluations need.
constexpr auto kPollInterval = std::chrono::milliseconds(2);

struct Message {
    int source = -1;
    int tag = 0;
    std::vector<uint8_t> body;
};

void send(int destination, Tag tag, const std::vector<uint8_t>& body = {}) {
    MPI_Send(body.data(), static_cast<int>(body.size()), MPI_BYTE, destination, tag, MPI_COMM_WORLD);
}

void send(int destination, Tag tag, const json& body) { send(destination, tag, json::to_cbor(body)); }

// A waiting message matching (source, tag), if one has arrived.
std::optional<Message> poll(int source, int tag) {
    int arrived = 0;
    MPI_Status status;
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &arrived, &status);
    if (!arrived) return std::nullopt;
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    Message m;
    m.source = status.MPI_SOURCE;
    m.tag = status.MPI_TAG;
    m.body.resize(size_t(count));
    MPI_Recv(m.body.data(), count, MPI_BYTE, m.source, m.tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    return m;
}

// Waits for a message matching (source, tag), sleeping between polls.
Message waitFor(int source, int tag) {
    for (;;) {
        if (std::optional<Message> m = poll(source, tag)) return std::move(*m);
        std::this_thread::sleep_for(kPollInterval);
    }
}

json bodyOf(const Message& m) { return m.body.empty() ? json::object() : json::from_cbor(m.body); }

json floatsToBinary(const std::vector<float>& v) {
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
    return json::binary(std::move(bytes));
}

std::vector<float> floatsFromBinary(const json& j) {
    const auto& bytes = j.get_binary();
    std::vector<float> v(bytes.size() / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
    return v;
}

json weightsToJson(const FloatGruWeights& w) {
    json layers = json::array();
    for (const FloatGruLayer& l : w.layers) {
        layers.push_back({{"w_ih", floatsToBinary(l.wIh)}, {"w_hh", floatsToBinary(l.wHh)},
                          {"b_ih", floatsToBinary(l.bIh)}, {"b_hh", floatsToBinary(l.bHh)}});
    }
    return {{"features", w.shape.inputSize}, {"hidden", w.shape.hiddenSize}, {"classes", w.shape.numClasses},
            {"layers", layers}, {"w_fc", floatsToBinary(w.wFc)}, {"b_fc", floatsToBinary(w.bFc)}};
}

FloatGruWeights weightsFromJson(const json& j) {
    FloatGruWeights w;
    w.shape.inputSize = j.at("features").get<int64_t>();
    w.shape.hiddenSize = j.at("hidden").get<int64_t>();
    w.shape.numClasses = j.at("classes").get<int64_t>();
    for (const json& l : j.at("layers")) {
        w.layers.push_back({floatsFromBinary(l.at("w_ih")), floatsFromBinary(l.at("w_hh")), floatsFromBinary(l.at("b_ih")),
                            floatsFromBinary(l.at("b_hh"))});
    }
    w.shape.numLayers = static_cast<int64_t>(w.layers.size());
    w.wFc = floatsFromBinary(j.at("w_fc"));
    w.bFc = floatsFromBinary(j.at("b_fc"));
    w.validate("float model from rank 0");
    return w;
}

// ---------------------------------------------------------------------------------------------
// Worker rank.

struct WorkerContext {
    SearchSettings settings;
    TaskData data;
    FloatGruWeights floatModel;
    QatConfig qat;
};

WorkerContext setUp(const json& setup, const Session& session, int threadsOverride) {
    WorkerContext c;
    c.settings = SearchSettings::fromJson(setup.at("settings").get<std::string>());
    c.floatModel = weightsFromJson(setup.at("float_model"));
    c.data = loadTask(c.settings.task, c.settings.data);
    const std::string identity = c.settings.floatModel.cacheKey(c.data);
    if (identity != setup.at("data_identity").get<std::string>()) {
        throw InputError(c.data.source, "the task data on " + session.hostName() + " (rank " +
                                            std::to_string(session.rank()) + ") differs from rank 0's");
    }
    c.qat = c.settings.qat;
    if (threadsOverride > 0) c.qat.threads = threadsOverride;
    else if (c.settings.threadsPerWorkerLimit > 0) c.qat.threads = c.settings.threadsPerWorkerLimit;
    else c.qat.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / session.workersOnThisNode());
    return c;
}

json evaluateJob(const WorkerContext& c, const json& job, const CancelFlag* interrupt) {
    const Genome genome = parseGenomeText(job.at("genome").get<std::string>(), layoutByName(job.at("layout").get<std::string>()));
    EvaluateOptions options;
    options.withTest = job.at("with_test").get<bool>();
    const PromotionRule promotion = PromotionRule::fromJson(job.at("promotion").get<std::string>());
    promotion.configure(options, genome);
    options.cancel = interrupt;
    // Rank 0 may give up on this evaluation (cancelled search, a failure elsewhere): look between steps.
    options.progress = [](const Progress&) {
        int stop = 0;
        MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &stop, MPI_STATUS_IGNORE);
        if (stop) throw Cancelled();
    };
    const auto start = Clock::now();
    const GenomeEvaluation e = evaluateGenome(c.data, c.floatModel, genome, c.qat, options);
    json r = {{"index", job.at("index")},
              {"validation", e.validationAccuracy},
              {"fq_validation", e.fakeQuantValidationAccuracy},
              {"test", e.testAccuracy},
              {"fq_test", e.fakeQuantTestAccuracy},
              {"agreement", e.agreement},
              {"fidelity", e.fidelity},
              {"rung_validation", e.rungValidationAccuracy},
              {"calibrate_seconds", e.calibrateSeconds},
              {"train_seconds", e.trainSeconds},
              {"evaluate_seconds", e.evaluateSeconds},
              {"seconds", std::chrono::duration<double>(Clock::now() - start).count()}};
    try {
        r["model"] = json::binary(writeBlob(e.model, genome, c.data.task));  // exact: rebuilds the same model
    } catch (const InputError&) {
        // A shape beyond the blob format: rank 0 re-evaluates if it ever needs this model.
    }
    return r;
}

json failureOf(const std::exception& e, const Session& session) {
    const auto* input = dynamic_cast<const InputError*>(&e);
    return {{"input", input != nullptr},
            {"path", input ? input->path() : std::string()},
            {"problem", input ? input->problem() : std::string(e.what())},
            {"where", "rank " + std::to_string(session.rank()) + " on " + session.hostName()}};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Session::Session(int* argc, char*** argv) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);  // every MPI call is on the main thread
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(name, &length);
    host_.assign(name, size_t(std::max(0, length)));

    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nodeSize = 1, lowestRank = 0;
    MPI_Comm_size(node, &nodeSize);
    MPI_Allreduce(&rank_, &lowestRank, 1, MPI_INT, MPI_MIN, node);
    workersOnNode_ = std::max(1, nodeSize - (lowestRank == 0 ? 1 : 0));
    MPI_Comm_free(&node);
}

Session::~Session() { MPI_Finalize(); }

struct Dispatcher::Worker {
    int rank = 0;
    long job = -1;  // index of the genome it is evaluating, -1 when idle
};

Dispatcher::Dispatcher(const Session& session) : session_(session) {
    for (int r = 1; r < session.size(); ++r) workers_.push_back({r, -1});
}

Dispatcher::~Dispatcher() {
    try {
        stop();
    } catch (...) {
        // Shutting down after an error: the job ends anyway.
    }
}

int Dispatcher::parallelism() const { return std::max<int>(1, static_cast<int>(workers_.size())); }

void Dispatcher::prepare(const SearchSettings& settings, const TaskData& data, const FloatGruWeights& floatModel) {
    if (workers_.empty()) throw InputError("mpirun", "--mpi needs at least 2 ranks (rank 0 searches, the others evaluate)");
    shape_ = floatModel.shape;
    const auto t0 = Clock::now();
    const json setup = {{"settings", settings.toJson()},
                        {"float_model", weightsToJson(floatModel)},
                        {"data_identity", settings.floatModel.cacheKey(data)}};
    const std::vector<uint8_t> body = json::to_cbor(setup);
    for (const Worker& w : workers_) send(w.rank, kSetup, body);
    commSeconds_ += std::chrono::duration<double>(Clock::now() - t0).count();

    std::vector<std::string> problems;
    size_t ready = 0;
    while (ready < workers_.size()) {
        const json r = bodyOf(waitFor(MPI_ANY_SOURCE, kReady));
        ++ready;
        if (!r.value("ok", false)) {
            problems.push_back(r.value("where", std::string()) + ": " + r.value("path", std::string()) + ": " +
                               r.value("problem", std::string()));
        }
    }
    if (!problems.empty()) throw InputError("worker ranks", problems.front());
}

void Dispatcher::evaluate(const std::vector<Genome>& genomes, bool withTest, const PromotionRule& promotion,
                          const Finished& finished, SearchControl* control) {
    const std::string rule = promotion.toJson();
    std::deque<size_t> queue;
    for (size_t i = 0; i < genomes.size(); ++i) queue.push_back(i);
    size_t outstanding = genomes.size();
    while (outstanding > 0) {
        for (Worker& w : workers_) {
            if (w.job >= 0 || queue.empty()) continue;
            const size_t i = queue.front();
            queue.pop_front();
            const auto t0 = Clock::now();
            send(w.rank, kJob,
                 json{{"index", i}, {"genome", genomes[i].toText()}, {"layout", genomes[i].layout->name}, {"with_test", withTest},
                      {"promotion", rule}});
            commSeconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
            w.job = static_cast<long>(i);
        }
        const auto t0 = Clock::now();
        std::optional<Message> m = poll(MPI_ANY_SOURCE, MPI_ANY_TAG);
        if (!m) {
            if (control) control->checkpoint();  // blocks while paused, throws Cancelled
            std::this_thread::sleep_for(kPollInterval);
            continue;
        }
        auto worker = std::find_if(workers_.begin(), workers_.end(), [&](const Worker& w) { return w.rank == m->source; });
        if (worker == workers_.end() || worker->job < 0) throw std::runtime_error("MPI: unexpected message from rank " + std::to_string(m->source));
        const size_t index = size_t(worker->job);
        worker->job = -1;
        const json body = bodyOf(*m);
        if (m->tag == kFailed) {
            const std::string where = body.value("where", std::string());
            if (body.value("input", false)) throw InputError(body.value("path", std::string()), body.value("problem", std::string()) + " (" + where + ")");
            throw std::runtime_error(where + ": " + body.value("problem", std::string()));
        }
        if (m->tag != kResult || body.at("index").get<size_t>() != index) {
            throw std::runtime_error("MPI: out-of-order message from rank " + std::to_string(m->source));
        }
        GenomeEvaluation e;
        e.genome = genomes[index];
        e.bits = e.genome.resolve();
        e.validationAccuracy = body.at("validation").get<double>();
        e.fakeQuantValidationAccuracy = body.at("fq_validation").get<double>();
        e.testAccuracy = body.at("test").get<double>();
        e.fakeQuantTestAccuracy = body.at("fq_test").get<double>();
        e.agreement = body.at("agreement").get<double>();
        e.fidelity = body.at("fidelity").get<double>();
        e.rungValidationAccuracy = body.at("rung_validation").get<double>();
        e.calibrateSeconds = body.at("calibrate_seconds").get<double>();
        e.trainSeconds = body.at("train_seconds").get<double>();
        e.evaluateSeconds = body.at("evaluate_seconds").get<double>();
        e.totalSeconds = body.at("seconds").get<double>();
        e.size = modelSize(shape_, e.bits);
        if (body.contains("model")) {
            e.model = readBlob(body.at("model").get_binary(), "model from rank " + std::to_string(m->source)).model;
        }
        commSeconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
        --outstanding;
        const double seconds = e.totalSeconds;
        finished(index, std::move(e), seconds);
    }
}

void Dispatcher::stop() {
    if (stopped_) return;
    stopped_ = true;
    for (const Worker& w : workers_) send(w.rank, kStop);
    // Busy workers may still deliver a result (or a failure) before their goodbye: drain and discard.
    size_t gone = 0;
    while (gone < workers_.size()) {
        if (waitFor(MPI_ANY_SOURCE, MPI_ANY_TAG).tag == kBye) ++gone;
    }
}

int serveEvaluations(const Session& session, const CancelFlag* interrupt, int threadsOverride) {
    std::optional<WorkerContext> context;
    std::fprintf(stderr, "gruq-cli: rank %d of %d on %s (pid %ld) evaluates genomes\n", session.rank(), session.size(),
                 session.hostName().c_str(), static_cast<long>(getpid()));
    for (;;) {
        const std::optional<Message> m = poll(0, MPI_ANY_TAG);
        if (!m) {
            if (interrupt && interrupt->isRequested()) return 130;
            std::this_thread::sleep_for(kPollInterval);
            continue;
        }
        switch (m->tag) {
        case kStop:
            send(0, kBye);
            return 0;
        case kSetup:
            try {
                context = setUp(bodyOf(*m), session, threadsOverride);
                send(0, kReady, json{{"ok", true}});
            } catch (const std::exception& e) {
                json failure = failureOf(e, session);
                failure["ok"] = false;
                send(0, kReady, failure);
            }
            break;
        case kJob:
            try {
                if (!context) throw std::runtime_error("genome before setup");
                send(0, kResult, evaluateJob(*context, bodyOf(*m), interrupt));
            } catch (const Cancelled&) {
                if (interrupt && interrupt->isRequested()) return 130;
                // Otherwise rank 0 sent Stop: the next poll answers it.
            } catch (const std::exception& e) {
                send(0, kFailed, failureOf(e, session));
            }
            break;
        default:
            std::fprintf(stderr, "gruq-cli: rank %d: ignoring unexpected message tag %d\n", session.rank(), m->tag);
        }
    }
}

}  // namespace gruq::mpi
