#include "gruq/quant/size_metric.h"

#include <stdexcept>
#include <string>

namespace gruq {

namespace {

// Bit widths beyond this would overflow the LUT size (2^bits entries); no layout allows them.
constexpr int kMaxSupportedBits = 32;

int bitsOf(const BitAssignment& bits, QuantPoint p) {
    const int b = bits[static_cast<int>(p)];
    if (b < 1 || b > kMaxSupportedBits) {
        throw std::invalid_argument(std::string("modelSize: point '") + quantPointName(p) + "' has " +
                                    std::to_string(b) + " bits");
    }
    return b;
}

// Sizes without the fraction, so the all-8-bit reference can reuse it.
ModelSize rawModelSize(const GruShape& shape, const LayerBits& bits) {
    const int64_t H = shape.hiddenSize, C = shape.numClasses;
    if (static_cast<int64_t>(bits.size()) != shape.numLayers) {
        throw std::invalid_argument("modelSize: " + std::to_string(bits.size()) + " bit assignments for shape " +
                                    shape.key());
    }
    ModelSize size;
    for (int64_t l = 0; l < shape.numLayers; ++l) {
        const BitAssignment& b = bits[size_t(l)];
        size.weightBits += H * shape.layerInputSize(l) *
                               (bitsOf(b, QuantPoint::WIr) + bitsOf(b, QuantPoint::WIz) + bitsOf(b, QuantPoint::WIn)) +
                           H * H * (bitsOf(b, QuantPoint::WHr) + bitsOf(b, QuantPoint::WHz) + bitsOf(b, QuantPoint::WHn));
        size.biasBits += (3 * H + 3 * H) * 32;  // b_ih, b_hh are int32
        // Each activation LUT has one entry per input code, each entry an output code.
        auto lutBits = [&](QuantPoint input, QuantPoint output) {
            return (int64_t{1} << bitsOf(b, input)) * bitsOf(b, output);
        };
        size.lutBits += lutBits(QuantPoint::SumR, QuantPoint::SigR) + lutBits(QuantPoint::SumZ, QuantPoint::SigZ) +
                        lutBits(QuantPoint::SumN, QuantPoint::TanhN);
    }
    size.weightBits += C * H * bitsOf(bits.back(), QuantPoint::WFc);
    size.biasBits += C * 32;  // b_fc
    return size;
}

}  // namespace

ModelSize modelSize(const GruShape& shape, const LayerBits& bits) {
    if (shape.inputSize < 0 || shape.hiddenSize < 0 || shape.numClasses < 0 || shape.numLayers < 1) {
        throw std::invalid_argument("modelSize: bad dimension in shape " + shape.key());
    }
    ModelSize size = rawModelSize(shape, bits);
    BitAssignment eight;
    eight.fill(8);
    // The reference is never zero: the three LUTs alone are 3 * 256 * 8 bits.
    const int64_t reference = rawModelSize(shape, LayerBits(bits.size(), eight)).totalBits();
    size.fractionOf8Bit = static_cast<double>(size.totalBits()) / static_cast<double>(reference);
    return size;
}

}  // namespace gruq
