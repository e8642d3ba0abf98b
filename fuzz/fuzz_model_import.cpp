// libFuzzer target for the readers of models trained elsewhere (core/model/src/torch_save_reader.cpp,
// onnx_gru_reader.cpp, model_import.cpp): the bytes of a torch.save zip archive or of an ONNX file,
// read in memory, then the GRU and head picked from the tensors. TorchScript files go through
// LibTorch's own torch::jit::load, which is not fuzzed here.
//
// Acceptable: InputError, or tensors whose values match their shape, and then either InputError from
// the picker or a model of 1..3 layers, hidden size <= 256, whose arrays have the sizes its shape implies.
// Anything else is a finding.
// Build and seeds: scripts/fuzz.sh (target fuzz_model_import).
#include "fuzz_support.h"

#include "gruq/model/model_import.h"
#include "gruq/model/onnx_gru_reader.h"
#include "gruq/model/torch_save_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    gruq::NamedTensors tensors;
    const bool zip = size >= 2 && data[0] == 'P' && data[1] == 'K';
    if (!fuzz::acceptedOrInputError([&] {
            tensors = zip ? gruq::readTorchSaveBytes(bytes, "model.pt") : gruq::readOnnxGru(bytes, "model.onnx");
        })) {
        return 0;
    }
    for (const gruq::NamedTensor& t : tensors) {
        int64_t count = 1;
        for (int64_t d : t.shape) {
            if (d < 0) fuzz::invariantBroken("a negative dimension");
            count *= d;
        }
        if (count != int64_t(t.values.size())) fuzz::invariantBroken("values do not match the shape");
    }
    gruq::ImportedModel model;
    if (!fuzz::acceptedOrInputError([&] { model = gruq::gruFromTensors(tensors, {}, "model"); })) return 0;
    model.weights.validate("fuzz");  // throws InputError (a finding here) when sizes disagree with the shape
    const gruq::GruShape& s = model.weights.shape;
    if (s.inputSize < 1 || s.hiddenSize < 1 || s.numClasses < 1) fuzz::invariantBroken("accepted an empty model");
    if (s.numLayers < 1 || s.numLayers > gruq::kMaxGruLayers || int64_t(model.weights.layers.size()) != s.numLayers)
        fuzz::invariantBroken("accepted a layer count outside 1..3 or other than the layers held");
    if (s.hiddenSize > gruq::kMaxHiddenSize) fuzz::invariantBroken("accepted a hidden size above 256");
    return 0;
}
