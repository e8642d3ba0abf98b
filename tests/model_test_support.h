#pragma once
// Random float GRUs and sequences for tests of the integer model (engine, blob, C runtime).
#include "gruq/data/dataset.h"
#include "gruq/model/float_model.h"
#include "gruq/quant/genome.h"
#include "gruq/data/split.h"

#include <cmath>
#include <cstdint>
#include <vector>

namespace gruq::test {

// `layers` stacked layers (layer l >= 1 takes H inputs); one layer draws the same values as before stacking.
inline FloatGruWeights randomWeights(int64_t F, int64_t H, int64_t C, uint64_t seed, int64_t layers = 1) {
    StableRng rng(seed);
    FloatGruWeights w;
    w.shape.inputSize = F;
    w.shape.hiddenSize = H;
    w.shape.numClasses = C;
    w.shape.numLayers = layers;
    auto fill = [&](std::vector<float>& v, size_t n, double scale) {
        v.resize(n);
        for (float& x : v) x = float(rng.uniform(-scale, scale));
    };
    w.layers.resize(size_t(layers));
    for (int64_t l = 0; l < layers; ++l) {
        FloatGruLayer& layer = w.layers[size_t(l)];
        const int64_t in = w.shape.layerInputSize(l);
        fill(layer.wIh, size_t(3 * H * in), 1.0 / std::sqrt(double(in)));
        fill(layer.wHh, size_t(3 * H * H), 1.5 / std::sqrt(double(H)));
        fill(layer.bIh, size_t(3 * H), 0.3);
        fill(layer.bHh, size_t(3 * H), 0.3);
    }
    fill(w.wFc, size_t(C * H), 2.0 / std::sqrt(double(H)));
    fill(w.bFc, size_t(C), 0.1);
    return w;
}

inline SequenceSet randomSequences(int64_t count, int64_t steps, int64_t F, uint64_t seed) {
    StableRng rng(seed);
    SequenceSet s;
    s.count = count;
    s.steps = steps;
    s.features = F;
    for (int64_t i = 0; i < count * steps * F; ++i) s.x.push_back(float(rng.normal()));
    for (int64_t i = 0; i < count; ++i) s.y.push_back(int32_t(i % 3));
    return s;
}

inline BitAssignment allBits(int b) {
    BitAssignment bits;
    bits.fill(b);
    return bits;
}

}  // namespace gruq::test
