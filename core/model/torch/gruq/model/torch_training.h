#pragma once
// Internal: the training-loop pieces float training and QAT share (core .cpp files only).
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace gruq {

using LogitsFn = std::function<torch::Tensor(const torch::Tensor&)>;

// Predicted class of every row of x [N, T, F], computed in batches without gradients.
std::vector<int32_t> predictionsOf(const LogitsFn& logitsOf, const torch::Tensor& x, int64_t batch = 512);

// Sets the learning rate of every parameter group of an Adam optimiser (the schedule's value of this step).
void setLearningRate(torch::optim::Adam& optimizer, double learningRate);

}  // namespace gruq
