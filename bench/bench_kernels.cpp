// Kernel throughput (issue #7), in sequences/s, at the row-wise (B=128, T=28, F=28, H=128, C=10) and the
// pixel-wise (B=128, T=784, F=1, H=64, C=10) sequential-MNIST shapes, and at the 2-layer row-wise shape
// "row2" (the same with L=2 stacked layers, issue #18; training steps only: qat_step and float_gru_step):
//   qat_step/<shape>/<fused|unfused>/t<threads>   one QAT training step of gruq's QatGru (forward +
//                                                 cross-entropy + backward + Adam step), 6 bits everywhere
//   float_gru_step/<shape>/t<threads>             the same step for torch::nn::GRU + nn::Linear (float)
//   engine_b1/<shape>                             IntegerGruEngine::run, one sequence at a time, 1 thread
//   engine_b128/<shape>/t<threads>                IntegerGruEngine::logitsOf over 128 sequences (batched:
//                                                 16 per vectorised kernel call)
//   engine_seq_b128/<shape>/t<threads>            the same sequences through run() one at a time
//                                                 (logitsOneByOne: the path before the batched one)
//   engine_b128_<avx2|sse2|portable>/<shape>/t1   the batched path with that kernel instead of the best
//   float_fwd_b1/<shape>                          nn::GRU + Linear forward, NoGradGuard, batch 1, 1 thread
//   float_fwd_b128/<shape>                        the same at batch 128, 1 thread
// Prints figures, never asserts timings. Times are wall-clock (UseRealTime), since torch runs on several
// threads. Run through scripts/bench.sh, which adds repetitions, random interleaving and the summary.
// Extra flags (mixed with Google Benchmark's):
//   --shapes row,pixel,row2     which shapes to register (default all three)
//   --long-repetitions 3        repetitions of the pixel-wise unfused QAT step (one iteration each, 10-20 s:
//                               its per-step select() backward is O(T^2) at T=784); overrides
//                               --benchmark_repetitions for it only
//   --pixel-unfused-t2          also register the pixel-wise unfused step with 2 threads (off: too long)
//   --dump-peer-check FILE      write two small QAT steps, one layer and two stacked layers (weights, data,
//                               ranges, logits, loss, gradients of the reference and fused paths) as JSON
//                               for `peer_qat_step.py --check FILE`, exit
#include "gruq/quant/qat_gru.h"
#include "gruq/model/torch_convert.h"

#include "gruq/quant/integer_engine.h"
#include "gruq/quant/quantized_gru.h"
#include "gruq/data/split.h"

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Shape {
    const char* name;
    int64_t B, T, F, H, C;
    int64_t L = 1;  // stacked GRU layers
};
constexpr Shape kShapes[] = {
    {"row", 128, 28, 28, 128, 10, 1}, {"pixel", 128, 784, 1, 64, 10, 1}, {"row2", 128, 28, 28, 128, 10, 2}};
constexpr int kBits = 6;  // every quantization point

// Random float weights in the usual init ranges (like tests/model_test_support.h).
gruq::FloatGruWeights randomWeights(const Shape& s, uint64_t seed = 7) {
    gruq::StableRng rng(seed);
    gruq::FloatGruWeights w;
    w.shape = {s.F, s.H, s.C, s.L};
    auto fill = [&](std::vector<float>& v, int64_t n, double scale) {
        v.resize(size_t(n));
        for (float& x : v) x = float(rng.uniform(-scale, scale));
    };
    w.layers.resize(size_t(s.L));
    for (int64_t l = 0; l < s.L; ++l) {
        gruq::FloatGruLayer& layer = w.layers[size_t(l)];
        const int64_t in = w.shape.layerInputSize(l);
        fill(layer.wIh, 3 * s.H * in, 1.0 / std::sqrt(double(in)));
        fill(layer.wHh, 3 * s.H * s.H, 1.0 / std::sqrt(double(s.H)));
        fill(layer.bIh, 3 * s.H, 0.1);
        fill(layer.bHh, 3 * s.H, 0.1);
    }
    fill(w.wFc, s.C * s.H, 1.0 / std::sqrt(double(s.H)));
    fill(w.bFc, s.C, 0.1);
    return w;
}

// Every point of every layer of the shape at b bits.
gruq::LayerBits uniformBits(const Shape& s, int b) {
    gruq::BitAssignment bits;
    bits.fill(b);
    return gruq::LayerBits(size_t(s.L), bits);
}

// Normalised-feature-like inputs and labels, fixed seed.
gruq::SequenceSet randomSequences(const Shape& s, int64_t count, uint64_t seed = 11) {
    gruq::StableRng rng(seed);
    gruq::SequenceSet set;
    set.count = count;
    set.steps = s.T;
    set.features = s.F;
    set.x.resize(size_t(count * s.T * s.F));
    for (float& v : set.x) v = float(rng.normal());
    for (int64_t i = 0; i < count; ++i) set.y.push_back(int32_t(i % s.C));
    return set;
}

torch::Tensor inputsOf(const gruq::SequenceSet& set) {
    return torch::from_blob(const_cast<float*>(set.x.data()), {set.count, set.steps, set.features}, torch::kFloat32)
        .clone();
}
torch::Tensor labelsOf(const gruq::SequenceSet& set) {
    return torch::from_blob(const_cast<int32_t*>(set.y.data()), {set.count}, torch::kInt32).to(torch::kInt64);
}

// One untimed step before timing (first-touch allocations, thread start-up), per repetition; skipped
// once this benchmark's warm-up took over a second, where those effects are negligible.
template <typename Step>
void warmUp(const std::string& key, Step&& step) {
    static std::map<std::string, double> seconds;
    if (auto it = seconds.find(key); it != seconds.end() && it->second > 1.0) return;
    const auto start = std::chrono::steady_clock::now();
    step();
    seconds[key] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void setSequenceRate(benchmark::State& state, int64_t sequencesPerIteration) {
    state.counters["seq/s"] =
        benchmark::Counter(double(sequencesPerIteration), benchmark::Counter::kIsIterationInvariantRate);
}

// ---- training steps -----------------------------------------------------------------------------

void qatStep(benchmark::State& state, std::string key, Shape s, bool fused, int threads, bool warm) {
    gruq::configureTorchThreads(threads);  // OpenBLAS single-threaded + torch intra-op threads, as gruq does
    const gruq::SequenceSet data = randomSequences(s, s.B);
    const torch::Tensor x = inputsOf(data), y = labelsOf(data);
    gruq::QatGru model(randomWeights(s), uniformBits(s, kBits));
    model->setFusedSequence(fused);
    {
        torch::NoGradGuard noGrad;  // one calibration forward so that every point has a range
        model->setMode(gruq::QatMode::Calibrate);
        model->forward(x);
    }
    model->setMode(gruq::QatMode::Train);
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(5e-4));
    auto step = [&] {
        optimizer.zero_grad();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
        loss.backward();
        optimizer.step();
    };
    if (warm) warmUp(key, step);
    for (auto _ : state) step();
    setSequenceRate(state, s.B);
}

struct FloatGruNetImpl : torch::nn::Module {
    FloatGruNetImpl(const Shape& s)
        : gru(register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(s.F, s.H).num_layers(s.L).batch_first(true)))),
          fc(register_module("fc", torch::nn::Linear(s.H, s.C))) {}
    torch::Tensor forward(const torch::Tensor& x) {
        const torch::Tensor hN = std::get<1>(gru->forward(x));
        const torch::Tensor hLast = hN[hN.size(0) - 1];  // the last layer's h_T: [B, H]
        return fc->forward(hLast);
    }
    torch::nn::GRU gru;
    torch::nn::Linear fc;
};
TORCH_MODULE(FloatGruNet);

void floatGruStep(benchmark::State& state, std::string key, Shape s, int threads) {
    gruq::configureTorchThreads(threads);
    torch::manual_seed(3);
    const gruq::SequenceSet data = randomSequences(s, s.B);
    const torch::Tensor x = inputsOf(data), y = labelsOf(data);
    FloatGruNet net(s);
    torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(5e-4));
    auto step = [&] {
        optimizer.zero_grad();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        optimizer.step();
    };
    warmUp(key, step);
    for (auto _ : state) step();
    setSequenceRate(state, s.B);
}

// ---- inference ----------------------------------------------------------------------------------

// The integer model of random weights with ranges calibrated on random inputs (a float forward of the
// QAT model in Calibrate mode), built by buildQuantizedGru as the search builds every candidate.
gruq::QuantizedGru quantizedModel(const Shape& s, const gruq::SequenceSet& data) {
    gruq::configureTorchThreads(1);
    const gruq::FloatGruWeights w = randomWeights(s);
    gruq::QatGru model(w, uniformBits(s, kBits));
    torch::NoGradGuard noGrad;
    model->setMode(gruq::QatMode::Calibrate);
    model->forward(inputsOf(data));
    return gruq::buildQuantizedGru(w, uniformBits(s, kBits), model->ranges());
}

void engineBatch1(benchmark::State& state, Shape s) {
    const gruq::SequenceSet data = randomSequences(s, s.B);
    const gruq::IntegerGruEngine engine(quantizedModel(s, data));
    std::vector<uint8_t> codes(data.x.size());
    engine.quantizeInput(data.x.data(), int64_t(data.x.size()), codes.data());
    std::vector<int32_t> logits(size_t(s.C));
    const int64_t stride = s.T * s.F;
    int64_t i = 0;
    for (auto _ : state) {
        engine.run(codes.data() + (i % s.B) * stride, s.T, logits.data());
        benchmark::DoNotOptimize(logits.data());
        benchmark::ClobberMemory();
        ++i;
    }
    setSequenceRate(state, 1);
}

// isa: the batched kernel to use ("" = the best this CPU runs).
void engineBatch(benchmark::State& state, Shape s, int threads, bool batched, std::string isa) {
    const gruq::SequenceSet data = randomSequences(s, s.B);
    const gruq::IntegerGruEngine engine(quantizedModel(s, data));
    const std::string best = gruq::IntegerGruEngine::batchedKernelIsa();
    if (!isa.empty() && !gruq::IntegerGruEngine::useBatchedKernel(isa)) {
        state.SkipWithError(("this CPU cannot run the " + isa + " kernel").c_str());
        return;
    }
    for (auto _ : state) {
        std::vector<int32_t> logits = batched ? engine.logitsOf(data, threads) : engine.logitsOneByOne(data, threads);
        benchmark::DoNotOptimize(logits.data());
    }
    gruq::IntegerGruEngine::useBatchedKernel(best);
    setSequenceRate(state, s.B);
}

void floatForward(benchmark::State& state, Shape s, int64_t batch) {
    gruq::configureTorchThreads(1);
    torch::manual_seed(3);
    const gruq::SequenceSet data = randomSequences(s, s.B);
    const torch::Tensor x = inputsOf(data);
    FloatGruNet net(s);
    net->eval();
    torch::NoGradGuard noGrad;
    int64_t i = 0;
    net->forward(x.narrow(0, 0, batch));  // warm-up
    for (auto _ : state) {
        const int64_t start = batch == 1 ? i % s.B : 0;
        torch::Tensor logits = net->forward(x.narrow(0, start, batch));
        benchmark::DoNotOptimize(logits.data_ptr<float>());
        ++i;
    }
    setSequenceRate(state, batch);
}

bool wanted(const std::string& list, const char* name) {
    if (list.empty()) return true;
    const std::string padded = "," + list + ",";
    return padded.find("," + std::string(name) + ",") != std::string::npos;
}

// ---- peer cross-check --------------------------------------------------------------------------

// Writes small cases as JSON for `peer_qat_step.py --check FILE`, {"cases": [one layer, two layers]}: per
// case the weights of every layer, inputs, labels, the ranges of every layer after one Calibrate forward,
// then the Train-mode logits, loss and the gradients of every layer's weights and of the head, of gruq's
// reference (unfused) and fused paths, so the peer is shown to compute the same step. Layer l >= 1's keys
// carry the parameter names' suffix (w_ih_l1, ranges_l1, grad_w_ih_l1, ...).
void dumpPeerCheckCase(std::FILE* f, const Shape& s, uint64_t weightSeed, uint64_t dataSeed) {
    const gruq::FloatGruWeights w = randomWeights(s, weightSeed);
    const gruq::SequenceSet data = randomSequences(s, s.B, dataSeed);
    const torch::Tensor x = inputsOf(data), y = labelsOf(data);
    auto arr = [&](const std::string& key, const std::vector<float>& v) {
        std::fprintf(f, "\"%s\": [", key.c_str());
        for (size_t i = 0; i < v.size(); ++i) std::fprintf(f, "%s%.9g", i ? ", " : "", double(v[i]));
        std::fprintf(f, "],\n");
    };
    auto suffix = [](size_t l) { return l == 0 ? std::string() : "_l" + std::to_string(l); };
    std::fprintf(f, "{\"name\": \"%s\", \"B\": %lld, \"T\": %lld, \"F\": %lld, \"H\": %lld, \"C\": %lld, "
                    "\"L\": %lld, \"bits\": %d,\n",
                 s.name, (long long)s.B, (long long)s.T, (long long)s.F, (long long)s.H, (long long)s.C,
                 (long long)s.L, kBits);
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const gruq::FloatGruLayer& layer = w.layers[l];
        arr("w_ih" + suffix(l), layer.wIh);
        arr("w_hh" + suffix(l), layer.wHh);
        arr("b_ih" + suffix(l), layer.bIh);
        arr("b_hh" + suffix(l), layer.bHh);
    }
    arr("w_fc", w.wFc);
    arr("b_fc", w.bFc);
    arr("x", data.x);
    std::vector<float> labels(data.y.begin(), data.y.end());
    arr("y", labels);
    for (bool fused : {false, true}) {
        gruq::QatGru model(w, uniformBits(s, kBits));
        model->setFusedSequence(fused);
        {
            torch::NoGradGuard noGrad;
            model->setMode(gruq::QatMode::Calibrate);
            model->forward(x);
        }
        const std::string tag = fused ? "fused_" : "reference_";
        for (size_t l = 0; l < model->ranges().size(); ++l) {
            std::vector<float> ranges;
            for (const gruq::ValueRange& r : model->ranges()[l]) ranges.insert(ranges.end(), {float(r.min), float(r.max)});
            arr(tag + "ranges" + suffix(l), ranges);
        }
        model->setMode(gruq::QatMode::Train);
        const torch::Tensor logits = model->forward(x);
        const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
        loss.backward();
        arr(tag + "logits", gruq::tensorToVector(logits));
        arr(tag + "loss", {loss.item<float>()});
        for (size_t l = 0; l < model->layers().size(); ++l) {
            const gruq::QatGruImpl::LayerParameters& p = model->layers()[l];
            arr(tag + "grad_w_ih" + suffix(l), gruq::tensorToVector(p.wIh.grad()));
            arr(tag + "grad_w_hh" + suffix(l), gruq::tensorToVector(p.wHh.grad()));
            arr(tag + "grad_b_ih" + suffix(l), gruq::tensorToVector(p.bIh.grad()));
            arr(tag + "grad_b_hh" + suffix(l), gruq::tensorToVector(p.bHh.grad()));
        }
        arr(tag + "grad_w_fc", gruq::tensorToVector(model->wFc.grad()));
        arr(tag + "grad_b_fc", gruq::tensorToVector(model->bFc.grad()));
    }
    std::fprintf(f, "\"end\": 0}");
}

void dumpPeerCheck(const std::string& path) {
    gruq::configureTorchThreads(1);
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    std::fprintf(f, "{\"cases\": [\n");
    dumpPeerCheckCase(f, {"check", 8, 12, 5, 16, 10, 1}, 21, 22);
    std::fprintf(f, ",\n");
    // Two stacked layers: layer 2 reads layer 1's fake-quantized h sequence (its X point is layer 1's H).
    dumpPeerCheckCase(f, {"check2", 8, 12, 5, 16, 10, 2}, 23, 24);
    std::fprintf(f, "\n]}\n");
    if (std::fclose(f) != 0) throw std::runtime_error("cannot write " + path);
}

struct Options {
    std::string shapes;
    int longRepetitions = 3;
    bool pixelUnfusedT2 = false;
};

void registerAll(const Options& o) {
    auto reg = [](const std::string& name, auto fn, auto... args) {
        return benchmark::RegisterBenchmark(name.c_str(), fn, args...)->UseRealTime()->Unit(benchmark::kMillisecond);
    };
    for (const Shape& s : kShapes) {
        if (!wanted(o.shapes, s.name)) continue;
        const std::string n = s.name;
        const bool longShape = s.T > 100;
        for (int threads : {1, 2}) {
            const std::string t = "/t" + std::to_string(threads);
            for (bool fused : {true, false}) {
                const std::string name = "qat_step/" + n + (fused ? "/fused" : "/unfused") + t;
                if (!fused && longShape) {
                    if (threads > 1 && !o.pixelUnfusedT2) continue;
                    // No warm-up: first-step effects are negligible next to ~20 s.
                    reg(name, qatStep, name, s, fused, threads, false)->Iterations(1)->Repetitions(o.longRepetitions);
                } else {
                    reg(name, qatStep, name, s, fused, threads, true);
                }
            }
            const std::string name = "float_gru_step/" + n + t;
            reg(name, floatGruStep, name, s, threads);
        }
        // The stacked shape (issue #18) measures the training steps only: the inference figures of the
        // one-layer shapes already compare the engine with the float forward, and would add ~10 s per round.
        if (s.L > 1) continue;
        reg("engine_b1/" + n, engineBatch1, s);
        for (int threads : {1, 2}) {
            reg("engine_b128/" + n + "/t" + std::to_string(threads), engineBatch, s, threads, true, std::string());
            reg("engine_seq_b128/" + n + "/t" + std::to_string(threads), engineBatch, s, threads, false, std::string());
        }
        // The other kernels of the batched path, for machines that lack the best one here.
        for (const char* isa : {"avx2", "sse2", "portable"}) {
            reg(std::string("engine_b128_") + isa + "/" + n + "/t1", engineBatch, s, 1, true, std::string(isa));
        }
        reg("float_fwd_b1/" + n, floatForward, s, int64_t(1));
        reg("float_fwd_b128/" + n, floatForward, s, s.B);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](const char* flag, std::string* out) {
            const std::string f = flag;
            if (a == f && i + 1 < argc) return *out = argv[++i], true;
            if (a.rfind(f + "=", 0) == 0) return *out = a.substr(f.size() + 1), true;
            return false;
        };
        std::string v;
        if (value("--shapes", &o.shapes)) continue;
        if (value("--dump-peer-check", &v)) return dumpPeerCheck(v), 0;
        if (value("--long-repetitions", &v)) o.longRepetitions = std::max(1, std::atoi(v.c_str()));
        else if (a == "--pixel-unfused-t2") o.pixelUnfusedT2 = true;
        else rest.push_back(argv[i]);
    }
    int n = int(rest.size());
    benchmark::Initialize(&n, rest.data());
    if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
    registerAll(o);
    benchmark::AddCustomContext("qat_bits", std::to_string(kBits));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
