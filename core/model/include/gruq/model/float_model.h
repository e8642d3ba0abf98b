#pragma once
// The float GRU classifier's parameters as plain arrays (torch-free, so ui/ and the integer engine
// can use them): 1..3 stacked GRU layers (layer l >= 1 reads layer l-1's hidden state) and a linear
// head on the last layer's final hidden state. Layout and gate order (r, z, n) follow torch::nn::GRU.
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

constexpr int64_t kMaxGruLayers = 3;
constexpr int64_t kMaxHiddenSize = 256;

struct GruShape {
    int64_t inputSize = 0;
    int64_t hiddenSize = 64;
    int64_t numClasses = 0;
    int64_t numLayers = 1;
    // Inputs of layer l: F for the first, H for the others.
    int64_t layerInputSize(int64_t layer) const { return layer == 0 ? inputSize : hiddenSize; }
    std::string key() const;  // "F28-H64-C10"; stacked: "F28-H64x2-C10"
};

// One GRU layer's parameters (torch's weight_ih_l{k}, ...), In = the layer's input size.
struct FloatGruLayer {
    std::vector<float> wIh;  // [3H x In], rows r | z | n
    std::vector<float> wHh;  // [3H x H]
    std::vector<float> bIh;  // [3H]
    std::vector<float> bHh;  // [3H]
};

struct FloatGruWeights {
    GruShape shape;
    std::vector<FloatGruLayer> layers;  // shape.numLayers of them, input first
    std::vector<float> wFc;  // [C x H]
    std::vector<float> bFc;  // [C]

    int64_t parameterCount() const;
    // Checks every array has the size the shape implies; InputError(source, ...) otherwise.
    void validate(const std::string& source) const;
};

// Binary file: magic "GRUQFLT2", shape with the layer count, arrays, fnv1a64 checksum ("GRUQFLT1", one
// layer, still reads). InputError naming the file on failure.
void saveFloatWeights(const std::string& path, const FloatGruWeights& weights);
FloatGruWeights loadFloatWeights(const std::string& path);

}  // namespace gruq
