// Evaluation throughput of the search's worker pool: 1 worker (all cores to torch), 1 worker limited to
// one torch thread, and N workers (one core each), on the same genomes, side by side in one run. Prints
// per-repeat times, medians and the speed-ups of N workers over both single-worker configurations. The default batch is one default population (24 genomes), as a search hands it to the
// pool. Usage: bench_search_workers [--task smnist-row] [--genomes 24] [--repeats 2] [--workers 2]
#include "gruq/search/search.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
    std::string task = "smnist-row";
    int genomes = 24, repeats = 2, workers = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--task")) task = argv[i + 1];
        else if (!std::strcmp(argv[i], "--genomes")) genomes = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    }
    const std::string dir = (std::filesystem::temp_directory_path() / "gruq-bench-workers").string();
    std::filesystem::create_directories(dir);

    gruq::SearchSettings s;
    s.task = task;
    s.nsga2.population = genomes;  // the initial population: `genomes` distinct random genomes
    s.nsga2.generations = 0;
    s.baselines = false;
    std::printf("task %s, %d genomes per run (default search QAT budget: %lld sequences), %u hardware threads\n",
                task.c_str(), genomes, static_cast<long long>(s.qat.samplesPerEpoch), std::thread::hardware_concurrency());

    std::vector<double> times[3];
    const int counts[3] = {1, 1, workers};
    const int threadLimits[3] = {0, 1, 0};  // 0 = the cores shared out among the workers
    for (int r = 0; r < repeats; ++r) {
        for (int k = 0; k < 3; ++k) {  // interleaved, so all see the same machine conditions
            s.workers = counts[k];
            s.threadsPerWorkerLimit = threadLimits[k];
            s.seed = static_cast<uint64_t>(r);
            const std::string path = dir + "/run-" + std::to_string(k) + "-" + std::to_string(r) + ".gruq";
            std::filesystem::remove(path);
            const gruq::SearchResult result = gruq::runSearch(s, path);
            times[k].push_back(result.seconds);
            std::printf("repeat %d  %d worker(s) x %d torch thread(s): %6.1f s  (%.1f evaluations/min)\n", r + 1,
                        counts[k], s.threadsPerWorker(), result.seconds, 60.0 * result.computed / result.seconds);
            std::filesystem::remove(path);
        }
    }
    const double one = median(times[0]), single = median(times[1]), many = median(times[2]);
    std::printf("median: 1 worker %.1f s, %d workers %.1f s -> speed-up %.2fx (%.1f vs %.1f evaluations/min)\n", one,
                workers, many, one / many, 60.0 * genomes / one, 60.0 * genomes / many);
    std::printf("median: 1 worker x 1 thread %.1f s, %d workers x 1 thread %.1f s -> worker scaling %.2fx\n", single,
                workers, many, single / many);
    return 0;
}
