#pragma once
// Evaluating one genome (DESIGN.md §4): float model -> copy -> calibrate -> QAT fine-tune ->
// integer-engine accuracy on the validation split (the search's fitness), plus size and timings.
#include "gruq/data/dataset.h"
#include "gruq/model/float_model.h"
#include "gruq/quant/genome.h"
#include "gruq/base/progress.h"
#include "gruq/quant/quantized_gru.h"
#include "gruq/quant/size_metric.h"

#include <cstdint>
#include <functional>
#include <string>

namespace gruq {

struct QatConfig {
    int epochs = 1;                  // QAT fine-tuning epochs
    int64_t samplesPerEpoch = 0;     // cap on training sequences per epoch (0 = the whole split)
    int batchSize = 128;
    double learningRate = 5e-4;      // Adam, cosine decay to 5%
    int calibrationBatches = 16;     // float forward passes that initialise the ranges
    double emaMomentum = 0.9;        // range EMA during calibration and early fine-tuning
    double freezeRangesAfter = 0.5;  // fraction of fine-tuning steps after which ranges are frozen
    double gradClipNorm = 1.0;
    uint64_t seed = 0;               // batch order, the same for every genome (common random numbers)
    int threads = 0;                 // torch intra-op threads (0 = all cores)
    // Early stopping (fine-tuning a chosen scheme): 0 = train every epoch (the search). N > 0 = after
    // each epoch the integer model is measured on the validation split; training stops after N epochs
    // without a better one and the best epoch's model is the result.
    int patience = 0;

    std::string key() const;         // every field, for caches
};

struct GenomeEvaluation {
    Genome genome;
    LayerBits bits;                          // per layer
    ModelSize size;
    double validationAccuracy = 0;           // integer engine: the fitness
    double fakeQuantValidationAccuracy = 0;  // QAT model with frozen ranges
    double testAccuracy = -1;                // integer engine, when requested (else -1)
    double fakeQuantTestAccuracy = -1;
    double agreement = -1;                   // fraction of test (else validation) predictions where both agree
    double calibrateSeconds = 0, trainSeconds = 0, evaluateSeconds = 0, totalSeconds = 0;
    int epochsRun = 0;                       // QAT epochs trained (fewer than planned when stopped early)
    int64_t skippedSteps = 0;                // QAT steps skipped: their loss or gradient was not finite
    bool diverged = false;                   // QAT left no representable model: this is the calibrated one
    int bestEpoch = 0;                       // with patience: the epoch whose model this is (else the last)
    // Multi-fidelity: the fraction of the QAT steps trained (1 = all; less when stopped at the rung) and
    // the validation accuracy measured at the rung (-1 when there was no rung; on the options' share of
    // the validation split, which is also the share a stopped evaluation's validationAccuracy is of).
    double fidelity = 1;
    double rungValidationAccuracy = -1;
    QuantizedGru model;
};

struct EvaluateOptions {
    bool withTest = false;      // also measure the test split (the final front only)
    ProgressFn progress;        // stage "calibrating" / "QAT epoch e/E" / "evaluating"
    const CancelFlag* cancel = nullptr;
    // With patience: called after each epoch that improved the validation accuracy, with that epoch's
    // model and validation accuracy (nothing else measured yet), so callers can keep it at once.
    std::function<void(const GenomeEvaluation&)> onBestEpoch;
    // Multi-fidelity (the search): after rungFraction of the QAT steps (0 = no rung) the integer model is
    // measured on the validation split and promote(size fraction, that accuracy) decides whether training
    // goes on. A promoted evaluation continues the same run, so its result equals an evaluation without a
    // rung bit for bit; a stopped one ends there with the rung's model and accuracy (fidelity < 1, no
    // fake-quant or test pass).
    double rungFraction = 0;
    double rungValidationShare = 1;  // the rung is measured on this leading share of the validation split
    std::function<bool(double sizeFraction, double rungAccuracy)> promote;
};

// The QAT step after which the rung is measured for a run of totalSteps steps (0 = no rung): at least one
// step, and at least one left after it.
int64_t rungStepOf(double rungFraction, int64_t totalSteps);

GenomeEvaluation evaluateGenome(const TaskData& data, const FloatGruWeights& floatModel, const Genome& genome,
                                const QatConfig& config, const EvaluateOptions& options = {});

// QAT optimiser steps run by evaluateGenome in this process so far (all threads): lets tests prove that
// a path (exporting a stored model, say) trains nothing.
int64_t qatStepsRun();

}  // namespace gruq
