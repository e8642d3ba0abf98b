#include "gruq/model/torch_convert.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstring>

#include <mutex>
#include <thread>

namespace gruq {

torch::Tensor sequencesToTensor(const SequenceSet& set) {
    return torch::from_blob(const_cast<float*>(set.x.data()), {set.count, set.steps, set.features}, torch::kFloat32)
        .clone();
}

torch::Tensor labelsToTensor(const SequenceSet& set) {
    return torch::from_blob(const_cast<int32_t*>(set.y.data()), {set.count}, torch::kInt32).to(torch::kInt64);
}

torch::Tensor gatherSequences(const SequenceSet& set, const int64_t* indices, int64_t count) {
    torch::Tensor out = torch::empty({count, set.steps, set.features}, torch::kFloat32);
    float* dst = out.data_ptr<float>();
    const int64_t rowSize = set.sequenceSize();
    for (int64_t i = 0; i < count; ++i) {
        std::memcpy(dst + i * rowSize, set.sequence(indices[i]), size_t(rowSize) * sizeof(float));
    }
    return out;
}

torch::Tensor lengthsToTensor(const SequenceSet& set) {
    if (!set.padded()) return {};
    return torch::from_blob(const_cast<int32_t*>(set.lengths.data()), {set.count}, torch::kInt32).clone();
}

torch::Tensor gatherLengths(const SequenceSet& set, const int64_t* indices, int64_t count) {
    if (!set.padded()) return {};
    torch::Tensor out = torch::empty({count}, torch::kInt32);
    int32_t* dst = out.data_ptr<int32_t>();
    for (int64_t i = 0; i < count; ++i) dst[i] = set.lengths[size_t(indices[i])];
    return out;
}

torch::Tensor gatherLabels(const SequenceSet& set, const int64_t* indices, int64_t count) {
    torch::Tensor out = torch::empty({count}, torch::kInt64);
    int64_t* dst = out.data_ptr<int64_t>();
    for (int64_t i = 0; i < count; ++i) dst[i] = set.y[size_t(indices[i])];
    return out;
}

std::vector<float> tensorToVector(const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

torch::Tensor vectorToTensor(const std::vector<float>& v, torch::IntArrayRef shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

namespace {

// Torch already parallelises over its own OpenMP threads; OpenBLAS's pthread pool inside each of them
// oversubscribes the cores and spins in the kernel (measured: 4x slower GRU training on 2 cores).
// Found at run time because libblas.so.3 may be another BLAS without this symbol.
void makeBlasSingleThreaded() {
    static std::once_flag once;
    std::call_once(once, [] {
        using SetThreads = void (*)(int);
        if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
    });
}

// Training allocates the same few-MB tensors every step; above glibc's mmap threshold each one is a
// fresh mmap that is page-faulted and zeroed again (measured: ~25% of a QAT step's forward). Serving
// them from the heap instead keeps at most these thresholds of freed memory around.
void keepTrainingBuffersOnTheHeap() {
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
        mallopt(M_TRIM_THRESHOLD, 256 << 20);
    });
}

}  // namespace

void configureTorchThreads(int threads) {
    makeBlasSingleThreaded();
    keepTrainingBuffersOnTheHeap();
    const int wanted = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (torch::get_num_threads() != wanted) torch::set_num_threads(wanted);
}

}  // namespace gruq
