#include "gruq/quant/evaluate.h"

#include "gruq/base/errors.h"
#include "gruq/base/text.h"
#include "gruq/quant/integer_engine.h"
#include "gruq/data/split.h"
#include "gruq/quant/qat_gru.h"
#include "gruq/model/learning_rate.h"
#include "gruq/model/torch_convert.h"
#include "gruq/model/torch_training.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <sstream>

namespace gruq {
namespace {

using Clock = std::chrono::steady_clock;
std::atomic<int64_t> g_qatSteps{0};
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void checkCancel(const CancelFlag* cancel) {
    if (cancel && cancel->isRequested()) throw Cancelled();
}

std::vector<int32_t> fakeQuantPredictions(QatGru& model, const SequenceSet& set) {
    const LogitsFn logits = [&model](const torch::Tensor& x, const torch::Tensor& lengths) { return model->forward(x, lengths); };
    return predictionsOf(logits, sequencesToTensor(set), lengthsToTensor(set));
}

double agreementOf(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    if (a.empty()) return 0.0;
    int64_t same = 0;
    for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    return double(same) / double(a.size());
}

}  // namespace

int64_t qatStepsRun() { return g_qatSteps.load(); }

int64_t rungStepOf(double rungFraction, int64_t totalSteps) {
    if (rungFraction <= 0 || rungFraction >= 1 || totalSteps < 2) return 0;
    return std::clamp<int64_t>(std::llround(rungFraction * double(totalSteps)), 1, totalSteps - 1);
}

std::string QatConfig::key() const {
    std::ostringstream os;
    os << "qat-v1|e" << epochs << "|n" << samplesPerEpoch << "|b" << batchSize << "|lr" << learningRate << "|cal"
       << calibrationBatches << "|ema" << emaMomentum << "|fr" << freezeRangesAfter << "|clip" << gradClipNorm << "|s"
       << seed;
    if (patience > 0) os << "|p" << patience;  // keys without early stopping stay as they were
    return os.str();
}

GenomeEvaluation evaluateGenome(const TaskData& data, const FloatGruWeights& floatModel, const Genome& genome,
                                const QatConfig& config, const EvaluateOptions& options) {
    floatModel.validate("float model");
    checkGenomeLayers(genome, floatModel.shape.numLayers);
    if (data.train.features != floatModel.shape.inputSize || data.numClasses() != floatModel.shape.numClasses) {
        throw InputError("float model", "shape " + floatModel.shape.key() + " does not fit task " + data.task);
    }
    if (config.epochs < 0 || config.batchSize < 1 || config.calibrationBatches < 1 || config.patience < 0) {
        throw InputError("QAT settings", "epochs and patience must be >= 0, batch size and calibration batches >= 1");
    }
    if (options.rungFraction < 0 || options.rungFraction >= 1 || (options.rungFraction > 0 && !options.promote) ||
        !(options.rungValidationShare > 0 && options.rungValidationShare <= 1)) {
        throw InputError("QAT settings", "a rung lies strictly between 0 and 1 of the budget, is measured on a share in (0, 1] "
                                         "of the validation split and needs a promotion rule");
    }
    const auto start = Clock::now();
    configureTorchThreads(config.threads);

    GenomeEvaluation result;
    result.genome = genome;
    result.bits = genome.resolve();
    result.size = modelSize(floatModel.shape, result.bits);

    // The only random stream of an evaluation (batch order) depends on the seed only: every genome is
    // fine-tuned on the same batches (common random numbers), so accuracy differences between genomes
    // come from their bit widths, not from luckier batch orders (measured on Fashion-MNIST: per-genome
    // orders moved single evaluations by +-0.3 pp and made 6-bit look better than 8-bit). Results do
    // not depend on which worker ran them.
    StableRng rng(config.seed ^ 0x9a7c3e11ULL);

    QatGru model(floatModel, result.bits, config.emaMomentum);
    const int64_t n = data.train.count;
    std::vector<int64_t> order(static_cast<size_t>(n));
    auto shuffledOrder = [&] {
        for (int64_t i = 0; i < n; ++i) order[size_t(i)] = i;
        stableShuffle(order, rng);
        return order;
    };
    // Batches are gathered straight from the data: only the rows a batch uses are copied (a whole-split
    // tensor per evaluation would cost ~170 MB of memory traffic on row-wise MNIST).
    struct Batch {
        torch::Tensor x, y, lengths;
    };
    auto batchOf = [&](const std::vector<int64_t>& perm, int64_t start, int64_t count) {
        const int64_t* rows = perm.data() + start;
        return Batch{gatherSequences(data.train, rows, count), gatherLabels(data.train, rows, count),
                     gatherLengths(data.train, rows, count)};
    };

    // Calibration: float forward passes observe every operator's range.
    {
        torch::NoGradGuard noGrad;
        model->setMode(QatMode::Calibrate);
        const std::vector<int64_t> perm = shuffledOrder();
        const int64_t batches = std::min<int64_t>(config.calibrationBatches, (n + config.batchSize - 1) / config.batchSize);
        for (int64_t b = 0; b < batches; ++b) {
            checkCancel(options.cancel);
            const int64_t count = std::min<int64_t>(config.batchSize, n - b * config.batchSize);
            const Batch batch = batchOf(perm, b * config.batchSize, count);
            model->forward(batch.x, batch.lengths);
            if (options.progress) options.progress({"calibrating", b + 1, batches, secondsSince(start), ""});
        }
    }
    result.calibrateSeconds = secondsSince(start);
    // The calibrated model: what a scheme falls back to when its QAT diverges. Quantizes the trained model;
    // when training diverged so far that it has no integer form (non-finite or out-of-range weights, ranges
    // or rescale factors), the scheme is judged by its calibrated model instead (post-training
    // quantization) and marked diverged: one scheme that cannot be trained must not end a search.
    const FloatGruWeights calibratedWeights = model->currentWeights();
    const LayerRanges calibratedRanges = model->ranges();
    auto quantizeTrained = [&]() -> QuantizedGru {
        try {
            return model->toQuantized();
        } catch (const std::invalid_argument&) {
        } catch (const InputError&) {
        }
        model->setWeights(calibratedWeights);
        model->setRanges(calibratedRanges);
        result.diverged = true;
        return model->toQuantized();
    };

    // QAT fine-tuning from the float weights.
    const auto trainStart = Clock::now();
    const int64_t perEpoch = config.samplesPerEpoch > 0 ? std::min(config.samplesPerEpoch, n) : n;
    const int64_t batchesPerEpoch = (perEpoch + config.batchSize - 1) / config.batchSize;
    const int64_t totalSteps = batchesPerEpoch * config.epochs;
    const auto freezeAt = static_cast<int64_t>(std::llround(config.freezeRangesAfter * double(totalSteps)));
    const int64_t rungStep = config.patience > 0 ? 0 : rungStepOf(options.rungFraction, totalSteps);
    bool stoppedAtRung = false;
    SequenceSet rungValidation;  // the leading share of the validation split (the split is shuffled already)
    if (rungStep > 0) {
        const auto count = std::max<int64_t>(1, std::llround(options.rungValidationShare * double(data.validation.count)));
        std::vector<int64_t> rows(size_t(std::min(count, data.validation.count)));
        for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
        rungValidation = subset(data.validation, rows);
    }
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(config.learningRate));
    int64_t step = 0;
    GenomeEvaluation best;  // early stopping: the best epoch so far (bestEpoch 0 = none yet)
    FloatGruWeights bestWeights;
    LayerRanges bestRanges;
    for (int epoch = 1; epoch <= config.epochs && !stoppedAtRung && !result.diverged; ++epoch) {
        const std::vector<int64_t> perm = shuffledOrder();
        const auto epochStart = Clock::now();
        for (int64_t b = 0; b < batchesPerEpoch; ++b, ++step) {
            if (rungStep > 0 && step == rungStep) {
                // The rung: the model as it stands (ranges and weights are only read, so a promoted run goes
                // on exactly as without the rung).
                if (options.progress) options.progress({"rung", 0, 0, secondsSince(epochStart), ""});
                result.model = quantizeTrained();
                result.rungValidationAccuracy = IntegerGruEngine(result.model).accuracy(rungValidation, config.threads);
                if (result.diverged) break;  // judged by the calibrated model, in full below
                if (!options.promote(result.size.fractionOf8Bit, result.rungValidationAccuracy)) {
                    stoppedAtRung = true;
                    result.epochsRun = epoch;
                    break;
                }
            }
            checkCancel(options.cancel);
            model->setMode(step < freezeAt ? QatMode::Train : QatMode::Frozen);
            setLearningRate(optimizer, cosineLearningRate(config.learningRate, step, totalSteps));
            const int64_t count = std::min<int64_t>(config.batchSize, perEpoch - b * config.batchSize);
            const Batch batch = batchOf(perm, b * config.batchSize, count);
            optimizer.zero_grad();
            const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(batch.x, batch.lengths), batch.y);
            loss.backward();
            const double gradientNorm = config.gradClipNorm > 0
                                            ? torch::nn::utils::clip_grad_norm_(model->parameters(), config.gradClipNorm)
                                            : 0.0;
            // A step whose loss or gradient is not finite (a scheme that diverges, e.g. low-bit recurrences over
            // hundreds of steps) is skipped, as mixed-precision training skips overflowing steps: one NaN update
            // would make every weight NaN and the scheme impossible to quantize.
            if (std::isfinite(loss.item<double>()) && std::isfinite(gradientNorm)) {
                optimizer.step();
            } else {
                ++result.skippedSteps;
            }
            g_qatSteps.fetch_add(1, std::memory_order_relaxed);
            if (options.progress) {
                options.progress({"QAT epoch " + std::to_string(epoch) + "/" + std::to_string(config.epochs), b + 1,
                                  batchesPerEpoch, secondsSince(epochStart), "loss " + std::to_string(loss.item<double>())});
            }
        }
        result.epochsRun = epoch;
        if (config.patience > 0) {
            if (options.progress) options.progress({"validating epoch " + std::to_string(epoch), 0, 0, 0.0, ""});
            GenomeEvaluation current = result;
            current.model = quantizeTrained();
            if (result.diverged && best.bestEpoch > 0) break;  // the best epoch so far is kept below
            current.validationAccuracy = IntegerGruEngine(current.model).accuracy(data.validation, config.threads);
            const bool better = best.bestEpoch == 0 || current.validationAccuracy > best.validationAccuracy;
            if (better) {
                current.bestEpoch = epoch;
                best = current;
                bestWeights = model->currentWeights();
                bestRanges = model->ranges();
                if (options.onBestEpoch) options.onBestEpoch(best);
            }
            if (options.progress) {
                options.progress({"validated epoch " + std::to_string(epoch), 1, 1, secondsSince(epochStart),
                                  "validation " + formatPercent(current.validationAccuracy) + (better ? " (best)" : "") +
                                      ", best " + formatPercent(best.validationAccuracy) + " at epoch " +
                                      std::to_string(best.bestEpoch)});
            }
            if (!better && epoch - best.bestEpoch >= config.patience) break;
        }
    }
    if (best.bestEpoch > 0) {  // early stopping: back to the best epoch's weights and ranges
        model->setWeights(bestWeights);
        model->setRanges(bestRanges);
        result.bestEpoch = best.bestEpoch;
    } else {
        result.bestEpoch = result.epochsRun;
    }
    model->setMode(QatMode::Frozen);
    result.trainSeconds = secondsSince(trainStart);
    if (stoppedAtRung) {  // the rung's model and accuracy are the result: it cannot reach the front
        result.fidelity = double(rungStep) / double(totalSteps);
        result.validationAccuracy = result.rungValidationAccuracy;
        result.fakeQuantValidationAccuracy = -1;
        result.bestEpoch = result.epochsRun;
        if (options.withTest) result.testAccuracy = IntegerGruEngine(result.model).accuracy(data.test, config.threads);
        result.totalSeconds = secondsSince(start);
        return result;
    }

    // Integer engine (fitness) and the fake-quant model on the same data.
    const auto evalStart = Clock::now();
    if (options.progress) options.progress({"evaluating", 0, 0, 0.0, ""});
    result.model = quantizeTrained();
    const IntegerGruEngine engine(result.model);
    const std::vector<int32_t> valPred = engine.predict(data.validation, config.threads);
    const std::vector<int32_t> valFq = fakeQuantPredictions(model, data.validation);
    result.validationAccuracy = accuracyOf(valPred, data.validation);
    result.fakeQuantValidationAccuracy = accuracyOf(valFq, data.validation);
    result.agreement = agreementOf(valFq, valPred);
    if (options.withTest) {
        checkCancel(options.cancel);
        const std::vector<int32_t> testPred = engine.predict(data.test, config.threads);
        const std::vector<int32_t> testFq = fakeQuantPredictions(model, data.test);
        result.testAccuracy = accuracyOf(testPred, data.test);
        result.fakeQuantTestAccuracy = accuracyOf(testFq, data.test);
        result.agreement = agreementOf(testFq, testPred);
    }
    result.evaluateSeconds = secondsSince(evalStart);
    result.totalSeconds = secondsSince(start);
    return result;
}

}  // namespace gruq
