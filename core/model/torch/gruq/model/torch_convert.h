#pragma once
// Internal: conversions between gruq's plain containers and torch tensors (core .cpp files only).
#include "gruq/data/dataset.h"
#include "gruq/model/float_model.h"

#include <torch/torch.h>

namespace gruq {

// [count x steps x features] float tensor sharing nothing with `set` (a copy).
torch::Tensor sequencesToTensor(const SequenceSet& set);
torch::Tensor labelsToTensor(const SequenceSet& set);  // int64 [count]

// [count x steps x features] / int64 [count] tensors of the rows indices[0..count) of `set`.
torch::Tensor gatherSequences(const SequenceSet& set, const int64_t* indices, int64_t count);
torch::Tensor gatherLabels(const SequenceSet& set, const int64_t* indices, int64_t count);

// Valid steps of each row (int32 [count]) of a padded set; an undefined tensor when every row uses all
// steps (models then skip the masking).
torch::Tensor lengthsToTensor(const SequenceSet& set);
torch::Tensor gatherLengths(const SequenceSet& set, const int64_t* indices, int64_t count);

std::vector<float> tensorToVector(const torch::Tensor& t);
torch::Tensor vectorToTensor(const std::vector<float>& v, torch::IntArrayRef shape);

// Sets torch's intra-op threads (0 = hardware concurrency) once per process-wide value change.
void configureTorchThreads(int threads);

}  // namespace gruq
