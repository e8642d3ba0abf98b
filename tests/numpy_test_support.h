#pragma once
// NumPy data made in tests: .npy arrays and .npz archives with chosen shapes, types and damage.
#include "gruq/data/npy_format.h"
#include "gruq/data/npz_archive.h"
#include "test_support.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace gruq::test {

template <typename T>
std::string rawBytes(const std::vector<T>& values) {
    std::string out(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
    return out;
}

inline std::string npyFloats(const std::vector<float>& v, const std::vector<int64_t>& shape) {
    return makeNpy("<f4", shape, rawBytes(v));
}
inline std::string npyLabels(const std::vector<int64_t>& v) { return makeNpy("<i8", {int64_t(v.size())}, rawBytes(v)); }

// n sequences of t steps x f features, label i % classes; class c shifts feature c % f by +2, so a GRU
// separates the classes easily.
struct NumpyToy {
    std::vector<float> x;
    std::vector<int64_t> y;
    int64_t n, t, f;
};
inline NumpyToy numpyToy(int64_t n, int64_t t, int64_t f, int classes, uint32_t seed = 7) {
    NumpyToy toy{{}, {}, n, t, f};
    uint32_t s = seed;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t label = i % classes;
        toy.y.push_back(label);
        for (int64_t k = 0; k < t * f; ++k) {
            s = s * 1664525u + 1013904223u;
            const float noise = float((s >> 8) & 0xffff) / 65536.0f - 0.5f;
            toy.x.push_back(noise + ((k % f) == label % f ? 2.0f : 0.0f));
        }
    }
    return toy;
}
inline std::map<std::string, std::string> npzMembers(const NumpyToy& toy) {
    return {{"x", npyFloats(toy.x, {toy.n, toy.t, toy.f})}, {"y", npyLabels(toy.y)}};
}
inline void writeNpz(const std::string& path, const std::map<std::string, std::string>& members, bool deflate = false) {
    writeBytes(path, makeNpz(members, deflate));
}

}  // namespace gruq::test
