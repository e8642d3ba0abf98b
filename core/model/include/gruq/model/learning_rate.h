#pragma once
// The one learning-rate schedule of float training and QAT fine-tuning.
#include <cstdint>

namespace gruq {

// Cosine decay from peak (step 0) to 5% of peak (step totalSteps).
double cosineLearningRate(double peak, int64_t step, int64_t totalSteps);

}  // namespace gruq
