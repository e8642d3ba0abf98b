#pragma once
// The float GRU classifier's parameters as plain arrays (torch-free, so ui/ and the integer engine
// can use them). Layout and gate order (r, z, n) follow torch::nn::GRU.
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct GruShape {
    int64_t inputSize = 0;
    int64_t hiddenSize = 64;
    int64_t numClasses = 0;
    std::string key() const;  // "F28-H64-C10"
};

struct FloatGruWeights {
    GruShape shape;
    std::vector<float> wIh;  // [3H x F], rows r | z | n
    std::vector<float> wHh;  // [3H x H]
    std::vector<float> bIh;  // [3H]
    std::vector<float> bHh;  // [3H]
    std::vector<float> wFc;  // [C x H]
    std::vector<float> bFc;  // [C]

    int64_t parameterCount() const;
    // Checks every array has the size the shape implies; InputError(source, ...) otherwise.
    void validate(const std::string& source) const;
};

// Binary file: magic "GRUQFLT1", shape, arrays, fnv1a64 checksum. InputError naming the file on failure.
void saveFloatWeights(const std::string& path, const FloatGruWeights& weights);
FloatGruWeights loadFloatWeights(const std::string& path);

}  // namespace gruq
