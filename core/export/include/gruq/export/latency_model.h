#pragma once
// Latency of the exported C runtime on a microcontroller, predicted in microseconds of host time from
// per-operator costs measured on an emulator (docs/latency.md). The Cortex-M4 model is fitted by
// scripts/latency_calibrate.py to QEMU mps2-an386 runs in instruction-counting mode and compiled in from
// resources/latency/cortex-m4.json. Counts are instructions; a time assumes one instruction per cycle,
// which the M4 reaches for most of the kernels' instructions (loads take two), so it is a lower bound.
#include "gruq/model/float_model.h"
#include "gruq/quant/genome.h"

#include <array>
#include <cstdint>
#include <string>

namespace gruq {

struct LatencyEstimate {
    double instructionsPerStep = 0;  // one gruq_step
    double headInstructions = 0;     // one gruq_logits, once per sequence
    double instructionsPerSequence(int64_t steps) const { return instructionsPerStep * double(steps) + headInstructions; }
    double microsecondsPerStep(double cpuMhz) const { return instructionsPerStep / cpuMhz; }
};

class LatencyModel {
public:
    // Per weight width (index = bits): costs of a matrix product's rows, whole words (groups of eight
    // fields for 3, 5, 6, 7 bits), partial last words and single fields (scripts/latency_calibrate.py).
    struct MatrixCosts {
        double row = 0, word = 0, tail = 0, field = 0;
    };

    // The compiled-in Cortex-M4 model.
    static const LatencyModel& cortexM4();
    // A model from its JSON text (the calibration script's output); InputError naming `source` when a
    // field is missing or not a finite non-negative number.
    static LatencyModel fromJson(const std::string& text, const std::string& source);

    // bits: one assignment per layer of the shape (std::invalid_argument otherwise). A step runs every
    // layer (layer l >= 1 on H inputs, its own stream from bit 0); the head reads the first layer's stream.
    LatencyEstimate estimate(const GruShape& shape, const LayerBits& bits) const;
    // Instructions of one matrix product of `rows` rows of `cols` b-bit weights starting at stream bit
    // `startBit`, decided row by row as the runtime's dot_row does.
    double matrixInstructions(int64_t startBit, int64_t rows, int64_t cols, int bits) const;

    const std::string& target() const { return target_; }      // "Cortex-M4 (QEMU ...)"
    const std::string& compiler() const { return compiler_; }
    const std::string& measuredAt() const { return commit_; }  // runtime commit of the calibration

private:
    std::array<MatrixCosts, 9> matrix_{};
    double offsetsFixed_ = 0, offsetsPerInput_ = 0, updateFixed_ = 0, updatePerUnit_ = 0, headPerClass_ = 0;
    std::string target_, compiler_, commit_;
};

}  // namespace gruq
