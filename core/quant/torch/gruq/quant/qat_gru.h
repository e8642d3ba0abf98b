#pragma once
// Internal (torch): the quantization-aware GRU. Every operator output of the cell passes through a
// fake quantizer built with the same functions as the integer model (quantized_gru.h), weights are
// fake-quantized symmetrically per gate, biases at S_w * S_input; straight-through gradients. A stacked
// model runs its layers one after the other over the whole sequence: layer l >= 1 reads layer l-1's
// fake-quantized h at every step (its x quantizer is that h's), gradients flow back through the stack.
#include "gruq/model/float_model.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/quantized_gru.h"

#include <torch/torch.h>

namespace gruq {

enum class QatMode {
    Float,     // no fake quantization (reference)
    Calibrate, // float forward, observe activation ranges
    Train,     // fake-quantized forward, ranges still tracked by EMA
    Frozen,    // fake-quantized forward with frozen ranges
};

class QatGruImpl : public torch::nn::Module {
public:
    QatGruImpl(const FloatGruWeights& weights, const LayerBits& bits, double emaMomentum = 0.9);

    // x: [B, T, F] -> logits [B, C]
    // x [B, T, F]; lengths int32 [B] (valid steps of zero-padded rows) or undefined (every step valid).
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& lengths = {});

    void setMode(QatMode mode) { mode_ = mode; }
    // The recurrence as one fused autograd operation (fused_gru_sequence.h, the default) or as a
    // per-timestep graph of torch ops (the reference the fused one is tested against).
    void setFusedSequence(bool fused) { fused_ = fused; }
    bool fusedSequence() const { return fused_; }
    QatMode mode() const { return mode_; }
    const LayerRanges& ranges() const { return ranges_; }
    void setRanges(const LayerRanges& r) { ranges_ = r; rangesSeen_ = true; }
    const LayerBits& bits() const { return bits_; }

    FloatGruWeights currentWeights() const;
    // Puts back weights taken with currentWeights() (same shape): early stopping returns to its best epoch.
    void setWeights(const FloatGruWeights& w);
    QuantizedGru toQuantized() const { return buildQuantizedGru(currentWeights(), bits_, ranges_); }

    struct LayerParameters {
        torch::Tensor wIh, wHh, bIh, bHh;
    };
    const std::vector<LayerParameters>& layers() const { return layers_; }
    torch::Tensor wFc, bFc;

private:
    // Observes `observed` (default: v itself; the valid steps only of a padded input) for the range.
    torch::Tensor fakeQuantActivation(const torch::Tensor& v, int layer, QuantPoint p, const torch::Tensor& observed = {});
    // Fake-quantized weights; *scale receives their scale (1 when not quantizing).
    torch::Tensor fakeQuantWeight(const torch::Tensor& w, int layer, QuantPoint p, double* scale) const;
    torch::Tensor fakeQuantBias(const torch::Tensor& b, double scale) const;
    void observe(const torch::Tensor& v, int layer, QuantPoint p);
    torch::Tensor classify(const torch::Tensor& h);  // fake-quantized FC head on the last layer's h
    // One layer over the sequence: xq [B, T, In] (fake-quantized) -> h_T [B, H], or every step's h [B, T, H]
    // when a layer follows (hiddenSequence).
    torch::Tensor runLayer(int layer, const torch::Tensor& xq, const torch::Tensor& lengths, bool hiddenSequence);
    // The layer (input projection + recurrence) as the fused operation.
    torch::Tensor fusedLayer(int layer, const torch::Tensor& xq, const torch::Tensor& wIcat, const torch::Tensor& bIcat,
                             const torch::Tensor& wHcat, const torch::Tensor& bHcat, const torch::Tensor& lengths,
                             bool hiddenSequence);
    void commitObservations();
    bool quantizing() const { return mode_ == QatMode::Train || mode_ == QatMode::Frozen; }

    GruShape shape_;
    LayerBits bits_;
    double momentum_;
    QatMode mode_ = QatMode::Float;
    bool fused_ = true;
    LayerRanges ranges_;
    bool rangesSeen_ = false;
    // Per-forward min / max of each point of each layer (reduced over batch and time), folded into ranges_ by EMA.
    std::vector<std::array<torch::Tensor, kQuantPointCount>> batchMin_, batchMax_;
    std::vector<LayerParameters> layers_;
};
TORCH_MODULE(QatGru);

}  // namespace gruq
