#pragma once
// Internal: the training-loop pieces float training and QAT share (core .cpp files only).
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace gruq {

// Logits of a batch x [B, T, F] with its valid lengths (int32 [B], or undefined: every step valid).
using LogitsFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& lengths)>;

// Predicted class of every row of x [N, T, F], computed in batches without gradients.
std::vector<int32_t> predictionsOf(const LogitsFn& logitsOf, const torch::Tensor& x, const torch::Tensor& lengths,
                                   int64_t batch = 512);

// The output of the last valid step of each row: out [B, T, H] at t = lengths[b] - 1 ([B, H]).
torch::Tensor lastValidStep(const torch::Tensor& out, const torch::Tensor& lengths);

// Sets the learning rate of every parameter group of an Adam optimiser (the schedule's value of this step).
void setLearningRate(torch::optim::Adam& optimizer, double learningRate);

}  // namespace gruq
