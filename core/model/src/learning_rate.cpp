#include "gruq/model/learning_rate.h"

#include <algorithm>
#include <cmath>

namespace gruq {

double cosineLearningRate(double peak, int64_t step, int64_t totalSteps) {
    constexpr double kFloor = 0.05;
    const double progress = double(step) / double(std::max<int64_t>(1, totalSteps));
    return peak * (kFloor + (1.0 - kFloor) * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace gruq
