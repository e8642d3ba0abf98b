#pragma once
// torch.save files written without Python, the way PyTorch >= 1.6 writes a state_dict: a zip archive of
// archive/data.pkl (a protocol-2 pickle of an OrderedDict of _rebuild_tensor_v2 calls) and
// archive/data/<key> (each tensor's float32 bytes). For bad-input rows, fuzz seeds and reader tests.
#include "gruq/data/npz_archive.h"
#include "gruq/model/float_model.h"
#include "gruq/model/named_tensors.h"

#include <cstring>
#include <map>
#include <string>

namespace gruq::test {

inline std::string pickleText(const std::string& s) {
    std::string out = "X";
    for (int i = 0; i < 4; ++i) out.push_back(char(uint32_t(s.size()) >> (8 * i)));
    return out + s;
}

inline std::string pickleInt(int64_t v) {  // BININT (4-byte signed)
    std::string out = "J";
    for (int i = 0; i < 4; ++i) out.push_back(char(uint32_t(int32_t(v)) >> (8 * i)));
    return out;
}

// The zip members of torch.save(state_dict) for these tensors (all float32, contiguous).
inline std::map<std::string, std::string> torchSaveMembers(const NamedTensors& tensors) {
    std::map<std::string, std::string> members;
    std::string pkl = "\x80\x02" "ccollections\nOrderedDict\n)R(";
    for (size_t i = 0; i < tensors.size(); ++i) {
        const NamedTensor& t = tensors[i];
        const std::string key = std::to_string(i);
        std::string sizes = "(", strides = "(";
        int64_t stride = 1;
        std::vector<std::string> strideItems(t.shape.size());
        for (size_t d = t.shape.size(); d-- > 0;) {
            strideItems[d] = pickleInt(stride);
            stride *= t.shape[d];
        }
        for (size_t d = 0; d < t.shape.size(); ++d) {
            sizes += pickleInt(t.shape[d]);
            strides += strideItems[d];
        }
        pkl += pickleText(t.name) + "ctorch._utils\n_rebuild_tensor_v2\n((" + pickleText("storage") + "ctorch\nFloatStorage\n" +
               pickleText(key) + pickleText("cpu") + pickleInt(int64_t(t.values.size())) + "tQ" + pickleInt(0) + sizes + "t" +
               strides + "t\x89" "ccollections\nOrderedDict\n)RtR";
        std::string data(t.values.size() * 4, '\0');
        std::memcpy(data.data(), t.values.data(), data.size());
        members["archive/data/" + key] = data;
    }
    pkl += "u.";
    members["archive/data.pkl"] = pkl;
    members["archive/version"] = "3\n";
    return members;
}

inline std::string torchSaveFile(const NamedTensors& tensors) { return makeZip(torchSaveMembers(tensors)); }

// A PyTorch-style state_dict of a GRU classifier ("gru.weight_ih_l0", ..., "gru.bias_hh_l<L-1>",
// "fc.weight", "fc.bias"), in the order nn.GRU(num_layers=L) lists them.
inline NamedTensors gruStateDict(const FloatGruWeights& w) {
    const int64_t H = w.shape.hiddenSize, C = w.shape.numClasses;
    NamedTensors out;
    for (size_t l = 0; l < w.layers.size(); ++l) {
        const std::string k = std::to_string(l);
        const FloatGruLayer& layer = w.layers[l];
        out.push_back({"gru.weight_ih_l" + k, {3 * H, w.shape.layerInputSize(int64_t(l))}, layer.wIh});
        out.push_back({"gru.weight_hh_l" + k, {3 * H, H}, layer.wHh});
        out.push_back({"gru.bias_ih_l" + k, {3 * H}, layer.bIh});
        out.push_back({"gru.bias_hh_l" + k, {3 * H}, layer.bHh});
    }
    out.push_back({"fc.weight", {C, H}, w.wFc});
    out.push_back({"fc.bias", {C}, w.bFc});
    return out;
}

// Weights of the given shape with small deterministic values (one layer: the same values as before stacking).
inline FloatGruWeights patternedWeights(int64_t F, int64_t H, int64_t C, int64_t layers = 1) {
    FloatGruWeights w;
    w.shape.inputSize = F;
    w.shape.hiddenSize = H;
    w.shape.numClasses = C;
    w.shape.numLayers = layers;
    int k = 0;
    auto fill = [&k](std::vector<float>& v, size_t n) {
        v.resize(n);
        for (float& x : v) x = float((k++ * 37) % 101 - 50) / 200.0f;
    };
    w.layers.resize(size_t(layers));
    for (int64_t l = 0; l < layers; ++l) {
        FloatGruLayer& layer = w.layers[size_t(l)];
        fill(layer.wIh, size_t(3 * H * w.shape.layerInputSize(l)));
        fill(layer.wHh, size_t(3 * H * H));
        fill(layer.bIh, size_t(3 * H));
        fill(layer.bHh, size_t(3 * H));
    }
    fill(w.wFc, size_t(C * H));
    fill(w.bFc, size_t(C));
    return w;
}

}  // namespace gruq::test
