#include "gruq/model/torch_training.h"

#include <algorithm>

namespace gruq {

std::vector<int32_t> predictionsOf(const LogitsFn& logitsOf, const torch::Tensor& x, int64_t batch) {
    torch::NoGradGuard noGrad;
    std::vector<int32_t> out;
    out.reserve(size_t(x.size(0)));
    for (int64_t i = 0; i < x.size(0); i += batch) {
        const torch::Tensor pred =
            logitsOf(x.narrow(0, i, std::min(batch, x.size(0) - i))).argmax(1).to(torch::kInt32).contiguous();
        out.insert(out.end(), pred.data_ptr<int32_t>(), pred.data_ptr<int32_t>() + pred.numel());
    }
    return out;
}

void setLearningRate(torch::optim::Adam& optimizer, double learningRate) {
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(learningRate);
}

}  // namespace gruq
