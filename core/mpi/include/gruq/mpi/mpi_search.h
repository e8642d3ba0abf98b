#pragma once
// Searches spread over MPI ranks (gruq-cli search --mpi, started by mpirun / srun). Rank 0 runs NSGA-II
// and owns the archive; every other rank evaluates genomes handed out one at a time (a rank that
// finishes gets the next genome, so slow and fast candidates balance). The float model is trained (or
// loaded) once on rank 0 and shipped to the workers; each worker reads the task data itself (shared
// filesystem) and proves it is the same data by its identity hash.
//
// Open MPI ends the whole job when a rank dies; every evaluation finished before that is already
// committed on rank 0, and `--resume` continues the search without recomputing them.
#include "gruq/base/progress.h"
#include "gruq/search/search.h"

#include <memory>
#include <string>
#include <vector>

namespace gruq::mpi {

// MPI_Init_thread .. MPI_Finalize for the lifetime of the object (one per process).
class Session {
public:
    Session(int* argc, char*** argv);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    // Worker ranks sharing this node, rank 0 not counted (it mostly waits for results).
    int workersOnThisNode() const { return workersOnNode_; }
    std::string hostName() const { return host_; }

private:
    int rank_ = 0, size_ = 1, workersOnNode_ = 1;
    std::string host_;
};

// Rank 0's side: hands genomes to the worker ranks. stop() (also run by the destructor) tells every
// worker to finish, waits for their goodbye, and discards results nobody asked for any more.
class Dispatcher : public EvaluationDispatcher {
public:
    explicit Dispatcher(const Session& session);
    ~Dispatcher() override;

    void prepare(const SearchSettings& settings, const TaskData& data, const FloatGruWeights& floatModel) override;
    void evaluate(const std::vector<Genome>& genomes, bool withTest, const PromotionRule& promotion, const Finished& finished,
                  SearchControl* control) override;
    int parallelism() const override;
    void stop();

    // Rank-0 seconds spent sending, receiving and (de)serialising, for the scaling benchmark.
    double communicationSeconds() const { return commSeconds_; }

private:
    struct Worker;
    const Session& session_;
    std::vector<Worker> workers_;
    GruShape shape_;
    bool stopped_ = false;
    double commSeconds_ = 0;
};

// A worker rank's whole life: waits for the search's setup, then evaluates genomes until rank 0 says
// stop. threadsOverride > 0 fixes the torch threads per rank (else the search settings' limit, else
// this node's cores shared among its worker ranks). Returns the process exit code.
int serveEvaluations(const Session& session, const CancelFlag* interrupt, int threadsOverride = 0);

}  // namespace gruq::mpi
