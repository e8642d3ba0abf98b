#include "gruq/model/torchscript_reader.h"

#include "gruq/base/errors.h"
#include "gruq/model/torch_convert.h"

#include <torch/script.h>

#include <sstream>

namespace gruq {
namespace {

NamedTensor plainTensor(const std::string& name, const torch::Tensor& t) {
    NamedTensor out;
    out.name = name;
    out.shape = t.sizes().vec();
    out.floatingPoint = t.is_floating_point();
    out.values = tensorToVector(t.detach().to(torch::kCPU, torch::kFloat32));
    return out;
}

}  // namespace

NamedTensors readTorchScript(const std::string& bytes, const std::string& where) {
    torch::jit::Module module;
    try {
        std::istringstream in(bytes);
        module = torch::jit::load(in, torch::kCPU);
    } catch (const c10::Error& e) {
        const std::string message = e.what_without_backtrace();
        throw InputError(where, "LibTorch cannot load this TorchScript file: " + message.substr(0, message.find('\n')));
    }
    NamedTensors out;
    try {
        for (const auto& p : module.named_parameters(true)) out.push_back(plainTensor(p.name, p.value));
        for (const auto& b : module.named_buffers(true)) out.push_back(plainTensor(b.name, b.value));
    } catch (const c10::Error& e) {  // e.g. a quantized or sparse parameter that does not convert to float
        const std::string message = e.what_without_backtrace();
        throw InputError(where, "a tensor of the TorchScript module cannot be read as float: " + message.substr(0, message.find('\n')));
    }
    if (out.empty()) throw InputError(where, "the TorchScript module has no parameters");
    return out;
}

}  // namespace gruq
