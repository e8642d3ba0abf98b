#include "gruq/model/torch_training.h"

#include <algorithm>

namespace gruq {

std::vector<int32_t> predictionsOf(const LogitsFn& logitsOf, const torch::Tensor& x, const torch::Tensor& lengths,
                                   int64_t batch) {
    torch::NoGradGuard noGrad;
    std::vector<int32_t> out;
    out.reserve(size_t(x.size(0)));
    for (int64_t i = 0; i < x.size(0); i += batch) {
        const int64_t n = std::min(batch, x.size(0) - i);
        const torch::Tensor pred = logitsOf(x.narrow(0, i, n), lengths.defined() ? lengths.narrow(0, i, n) : lengths)
                                       .argmax(1)
                                       .to(torch::kInt32)
                                       .contiguous();
        out.insert(out.end(), pred.data_ptr<int32_t>(), pred.data_ptr<int32_t>() + pred.numel());
    }
    return out;
}

torch::Tensor lastValidStep(const torch::Tensor& out, const torch::Tensor& lengths) {
    const torch::Tensor last = (lengths.to(torch::kInt64) - 1).view({-1, 1, 1}).expand({out.size(0), 1, out.size(2)});
    return out.gather(1, last).squeeze(1);
}

void setLearningRate(torch::optim::Adam& optimizer, double learningRate) {
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(learningRate);
}

}  // namespace gruq
