#pragma once
// Integer-only inference of a QuantizedGru, exactly as the firmware runs it: integer input codes in,
// integer logit codes out; no float and no allocation in the recurrent loop. A stacked model runs every
// layer at each step (layer l >= 1 takes layer l-1's new h codes as its input), as the C runtime does.
#include "gruq/data/dataset.h"
#include "gruq/quant/quantized_gru.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

class IntegerGruEngine {
public:
    explicit IntegerGruEngine(const QuantizedGru& model);

    const QuantizedGru& model() const { return model_; }

    // Float (already normalised) features -> input codes, with the model's x quantizer.
    void quantizeInput(const float* values, int64_t count, uint8_t* codes) const;

    // One sequence of steps x F input codes -> C logit codes (fc quantizer). Thread-safe.
    void run(const uint8_t* inputCodes, int64_t steps, int32_t* logits) const;

    // Argmax of the logit codes; ties go to the lowest class index (as in the C runtime).
    static int argmax(const int32_t* logits, int64_t count);

    // Logit codes of every sequence of the set ([count x C]; a padded sequence runs its valid steps only),
    // over `threads` threads (0 = all cores). Sequences run 16 at a time through vectorised kernels chosen
    // for this CPU at run time; the result equals run() on each sequence bit for bit.
    std::vector<int32_t> logitsOf(const SequenceSet& set, int threads = 0) const;
    // The same through run(), one sequence at a time: the reference the batched path is tested and
    // benchmarked against.
    std::vector<int32_t> logitsOneByOne(const SequenceSet& set, int threads = 0) const;
    // The instruction set of the batched kernels on this CPU: "avx512-vnni", "avx2", "sse2" or "portable".
    static const char* batchedKernelIsa();
    // Chooses the batched kernel by name ("avx512-vnni", "avx2", "sse2", "portable") for every engine of this
    // process; false when this CPU cannot run it. Tests and benchmarks use it to cover each path.
    static bool useBatchedKernel(const std::string& isa);
    std::vector<int32_t> predict(const SequenceSet& set, int threads = 0) const;
    double accuracy(const SequenceSet& set, int threads = 0) const;

    // counts[true][predicted] over the set.
    std::vector<std::vector<int64_t>> confusionMatrix(const SequenceSet& set, int threads = 0) const;

private:
    QuantizedGru model_;
    // Prepared once per layer (and for the head): weights widened to int16 (so the dot products compile to
    // pmaddwd-style SIMD) and biases with the input zero point folded in (b - Z_in * sum_k W[j,k]), so the
    // inner loops multiply raw codes. Integer addition is exact, so results equal the reference formula bit
    // for bit. The batched path's weights: each row's consecutive pairs packed into one int32 (pmaddwd operand).
    struct PreparedLayer {
        std::vector<int16_t> wIh16, wHh16;
        std::vector<int32_t> bIhFolded, bHhFolded;
        std::vector<int32_t> wIhPairs, wHhPairs;
    };
    std::vector<PreparedLayer> layers_;
    std::vector<int16_t> wFc16_;
    std::vector<int32_t> bFcFolded_, wFcPairs_;
};

}  // namespace gruq
