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
ModelSize rawModelSize(const GruShape& shape, const BitAssignment& bits) {
    const int64_t F = shape.inputSize, H = shape.hiddenSize, C = shape.numClasses;
    ModelSize size;
    size.weightBits = H * F * (bitsOf(bits, QuantPoint::WIr) + bitsOf(bits, QuantPoint::WIz) +
                               bitsOf(bits, QuantPoint::WIn)) +
                      H * H * (bitsOf(bits, QuantPoint::WHr) + bitsOf(bits, QuantPoint::WHz) +
                               bitsOf(bits, QuantPoint::WHn)) +
                      C * H * bitsOf(bits, QuantPoint::WFc);
    size.biasBits = (3 * H + 3 * H + C) * 32;  // b_ih, b_hh, b_fc are int32
    // Each activation LUT has one entry per input code, each entry an output code.
    auto lutBits = [&](QuantPoint input, QuantPoint output) {
        return (int64_t{1} << bitsOf(bits, input)) * bitsOf(bits, output);
    };
    size.lutBits = lutBits(QuantPoint::SumR, QuantPoint::SigR) + lutBits(QuantPoint::SumZ, QuantPoint::SigZ) +
                   lutBits(QuantPoint::SumN, QuantPoint::TanhN);
    return size;
}

}  // namespace

ModelSize modelSize(const GruShape& shape, const BitAssignment& bits) {
    if (shape.inputSize < 0 || shape.hiddenSize < 0 || shape.numClasses < 0) {
        throw std::invalid_argument("modelSize: negative dimension in shape " + shape.key());
    }
    ModelSize size = rawModelSize(shape, bits);
    BitAssignment all8;
    all8.fill(8);
    // The reference is never zero: the three LUTs alone are 3 * 256 * 8 bits.
    const int64_t reference = rawModelSize(shape, all8).totalBits();
    size.fractionOf8Bit = static_cast<double>(size.totalBits()) / static_cast<double>(reference);
    return size;
}

}  // namespace gruq
