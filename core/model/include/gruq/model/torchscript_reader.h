#pragma once
// TorchScript files (torch.jit.save(torch.jit.script(model)) or of a traced model), read with LibTorch's
// torch::jit::load: every parameter and buffer by its dotted name.
#include "gruq/model/named_tensors.h"

#include <string>

namespace gruq {

// InputError(where, <LibTorch's first message line>) when LibTorch cannot load the module.
NamedTensors readTorchScript(const std::string& bytes, const std::string& where);

}  // namespace gruq
