#include "gruq/export/blob.h"

#include "gruq/quant/size_metric.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace gruq {
namespace {

// Header offsets (docs/blob-format.md).
constexpr size_t kOffVersion = 4, kOffHeaderBytes = 6, kOffBlobBytes = 8, kOffCrc = 12, kOffF = 16, kOffH = 18,
                 kOffC = 20, kOffLayout = 22, kOffGeneCount = 23, kOffGenes = 24, kOffPointBits = 56,
                 kOffZeroPoints = 88, kOffScales = 188, kOffWeightScales = 388, kOffMultipliers = 444,
                 kOffAddMultipliers = 524, kOffTask = 572, kOffPayloadBytes = 604, kOffNormalizationBytes = 608,
                 kOffReserved = 612;
constexpr size_t kCrcStart = 16;
constexpr int64_t kMaxFeaturesPlusHidden = 2048, kMaxClasses = 1024;
constexpr char kMagic[4] = {'G', 'R', 'U', 'Q'};


// ----- little-endian bytes -----
class ByteWriter {
public:
    explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
    void u8At(size_t at, uint8_t v) { out_[at] = v; }
    void u16At(size_t at, uint16_t v) { uintAt(at, v, 2); }
    void u32At(size_t at, uint32_t v) { uintAt(at, v, 4); }
    void i32At(size_t at, int32_t v) { uintAt(at, static_cast<uint32_t>(v), 4); }
    void f64At(size_t at, double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        uintAt(at, bits, 8);
    }
    void f32At(size_t at, float v) {
        uint32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        uintAt(at, bits, 4);
    }

private:
    void uintAt(size_t at, uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out_[at + size_t(i)] = static_cast<uint8_t>(v >> (8 * i));
    }
    std::vector<uint8_t>& out_;
};

uint64_t uintAt(const std::vector<uint8_t>& b, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(b[at + size_t(i)]) << (8 * i);
    return v;
}
uint16_t u16At(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint16_t>(uintAt(b, at, 2)); }
uint32_t u32At(const std::vector<uint8_t>& b, size_t at) { return static_cast<uint32_t>(uintAt(b, at, 4)); }
int32_t i32At(const std::vector<uint8_t>& b, size_t at) { return static_cast<int32_t>(u32At(b, at)); }
double f64At(const std::vector<uint8_t>& b, size_t at) {
    const uint64_t bits = uintAt(b, at, 8);
    double v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}
float f32At(const std::vector<uint8_t>& b, size_t at) {
    const uint32_t bits = u32At(b, at);
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

// Task names are printable ASCII up to the first NUL, NUL after it (31 characters at most).
bool printableAscii(uint8_t c) { return c >= 32 && c < 127; }

// ----- LSB-first bit stream -----
class BitWriter {
public:
    explicit BitWriter(std::vector<uint8_t>& out, size_t startByte) : out_(out), start_(startByte) {}
    void put(int64_t value, int bits) {
        const uint64_t field = static_cast<uint64_t>(value) & ((uint64_t(1) << bits) - 1);
        for (int i = 0; i < bits; ++i, ++pos_) {
            if ((field >> i) & 1) out_[start_ + size_t(pos_ / 8)] |= static_cast<uint8_t>(1u << (pos_ % 8));
        }
    }
    int64_t position() const { return pos_; }

private:
    std::vector<uint8_t>& out_;
    size_t start_;
    int64_t pos_ = 0;
};

class BitReader {
public:
    BitReader(const std::vector<uint8_t>& in, size_t startByte) : in_(in), start_(startByte) {}
    uint32_t unsignedField(int bits) {
        uint32_t v = 0;
        for (int i = 0; i < bits; ++i, ++pos_) v |= uint32_t((in_[start_ + size_t(pos_ / 8)] >> (pos_ % 8)) & 1u) << i;
        return v;
    }
    int32_t signedField(int bits) {
        const uint32_t v = unsignedField(bits);
        const uint32_t sign = uint32_t(1) << (bits - 1);
        return static_cast<int32_t>(v ^ sign) - static_cast<int32_t>(sign);
    }
    int64_t position() const { return pos_; }

private:
    const std::vector<uint8_t>& in_;
    size_t start_;
    int64_t pos_ = 0;
};

int64_t payloadBytesFor(const GruShape& shape, const BitAssignment& bits) { return modelSize(shape, bits).totalBytes(); }

// Rows of a [3H x cols] matrix, gate g at bits of point first + g.
template <typename Fn>
void forEachGateRow(int64_t H, int64_t cols, const BitAssignment& bits, QuantPoint first, Fn fn) {
    for (int g = 0; g < 3; ++g) {
        const int b = bits[pointIndex(gatePoint(first, g))];
        for (int64_t i = g * H * cols; i < (g + 1) * H * cols; ++i) fn(i, b);
    }
}

bool fixedZeroPoint(QuantPoint p, const BitAssignment& bits, int32_t& expected) {
    if (isWeightPoint(p) || p == QuantPoint::SigR || p == QuantPoint::SigZ) {
        expected = 0;
        return true;
    }
    if (p == QuantPoint::TanhN) {
        expected = (int32_t(1) << (bits[pointIndex(p)] - 1)) - 1;
        return true;
    }
    return false;
}

int layoutIdOf(const GenomeLayout* layout) {
    const auto& known = knownLayouts();
    for (size_t i = 0; i < known.size(); ++i) {
        if (known[i] == layout) return static_cast<int>(i);
    }
    return -1;
}

// The 10 single multipliers and 4 shared-shift pairs, in blob order (const or not, as the model).
template <typename Model>
auto multipliersOf(Model& q) {
    return std::array<decltype(&q.fcRescale), 10>{&q.ihRescale[0], &q.ihRescale[1], &q.ihRescale[2], &q.hhRescale[0],
                                                   &q.hhRescale[1], &q.hhRescale[2], &q.fcRescale,    &q.mulRNRescale,
                                                   &q.mulZNRescale, &q.mulZHRescale};
}
template <typename Model>
auto addRescalesOf(Model& q) {
    return std::array<decltype(&q.hRescale), 4>{&q.sumRRescale, &q.sumZRescale, &q.sumNRescale, &q.hRescale};
}

}  // namespace

uint32_t crc32Of(const uint8_t* data, size_t size) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {
        const uInt chunk = static_cast<uInt>(std::min<size_t>(size, 1u << 30));
        crc = crc32(crc, data, chunk);
        data += chunk;
        size -= chunk;
    }
    return static_cast<uint32_t>(crc);
}

int64_t blobBytes(const GruShape& shape, const BitAssignment& bits, bool withNormalization) {
    return kBlobHeaderBytes + payloadBytesFor(shape, bits) + (withNormalization ? 8 * shape.inputSize : 0);
}

std::vector<uint8_t> writeBlob(const QuantizedGru& model, const Genome& genome, const std::string& taskName,
                               const Normalization* normalization) {
    const int64_t F = model.shape.inputSize, H = model.shape.hiddenSize, C = model.shape.numClasses;
    if (F < 1 || H < 1 || F + H > kMaxFeaturesPlusHidden || C < 1 || C > kMaxClasses) {
        throw InputError("blob", "shape " + model.shape.key() + " is outside the format (F, H >= 1, F + H <= 2048, C 1..1024)");
    }
    validateGenome(genome);
    const int layoutId = layoutIdOf(genome.layout);
    if (layoutId < 0) throw InputError("blob", "genome layout '" + genome.layout->name + "' has no blob layout id");
    if (genome.resolve() != model.bits) throw InputError("blob", "genome " + genome.toText() + " does not match the model's bits");

    const int64_t payload = payloadBytesFor(model.shape, model.bits);
    const int64_t normalizationBytes = normalization ? 8 * F : 0;
    if (normalization) {
        for (int64_t f = 0; f < F; ++f) {
            if (!std::isfinite(normalization->meanOf(f)) || !(normalization->stdDevOf(f) > 0) ||
                !std::isfinite(normalization->stdDevOf(f))) {
                throw InputError("blob", "normalisation of feature " + std::to_string(f) + " is not finite with std > 0");
            }
        }
    }
    std::vector<uint8_t> out(size_t(kBlobHeaderBytes + payload + normalizationBytes), 0);
    ByteWriter w(out);
    std::memcpy(out.data(), kMagic, 4);
    w.u16At(kOffVersion, kBlobFormatVersion);
    w.u16At(kOffHeaderBytes, static_cast<uint16_t>(kBlobHeaderBytes));
    w.u32At(kOffBlobBytes, static_cast<uint32_t>(out.size()));
    w.u16At(kOffF, static_cast<uint16_t>(F));
    w.u16At(kOffH, static_cast<uint16_t>(H));
    w.u16At(kOffC, static_cast<uint16_t>(C));
    w.u8At(kOffLayout, static_cast<uint8_t>(layoutId));
    w.u8At(kOffGeneCount, static_cast<uint8_t>(genome.bits.size()));
    for (size_t g = 0; g < genome.bits.size(); ++g) w.u8At(kOffGenes + g, static_cast<uint8_t>(genome.bits[g]));
    for (int p = 0; p < kQuantPointCount; ++p) {
        const auto point = QuantPoint(p);
        w.u8At(kOffPointBits + size_t(p), static_cast<uint8_t>(model.bits[size_t(p)]));
        const ActivationQuant q = isWeightPoint(point) ? ActivationQuant{} : model.act[size_t(p)];
        w.i32At(kOffZeroPoints + 4 * size_t(p), isWeightPoint(point) ? 0 : q.zeroPoint);
        w.f64At(kOffScales + 8 * size_t(p), isWeightPoint(point) ? 1.0 : q.scale);
    }
    const double weightScales[7] = {model.wIhScale[0], model.wIhScale[1], model.wIhScale[2], model.wHhScale[0],
                                    model.wHhScale[1], model.wHhScale[2], model.wFcScale};
    for (size_t i = 0; i < 7; ++i) w.f64At(kOffWeightScales + 8 * i, weightScales[i]);
    const auto multipliers = multipliersOf(model);
    for (size_t i = 0; i < multipliers.size(); ++i) {
        w.i32At(kOffMultipliers + 8 * i, multipliers[i]->mantissa);
        w.i32At(kOffMultipliers + 8 * i + 4, multipliers[i]->shift);
    }
    const auto adds = addRescalesOf(model);
    for (size_t i = 0; i < adds.size(); ++i) {
        w.i32At(kOffAddMultipliers + 12 * i, adds[i]->multiplierA);
        w.i32At(kOffAddMultipliers + 12 * i + 4, adds[i]->multiplierB);
        w.i32At(kOffAddMultipliers + 12 * i + 8, adds[i]->shift);
    }
    for (size_t i = 0; i < taskName.size() && i < 31; ++i) {
        const char c = taskName[i];
        w.u8At(kOffTask + i, static_cast<uint8_t>(c >= 32 && c < 127 ? c : '?'));
    }
    w.u32At(kOffPayloadBytes, static_cast<uint32_t>(payload));
    w.u32At(kOffNormalizationBytes, static_cast<uint32_t>(normalizationBytes));

    size_t at = kBlobHeaderBytes;
    for (const auto* biases : {&model.bIh, &model.bHh, &model.bFc}) {
        for (int32_t b : *biases) {
            w.i32At(at, b);
            at += 4;
        }
    }
    BitWriter bits(out, at);
    const BitAssignment& b = model.bits;
    forEachGateRow(H, F, b, QuantPoint::WIr, [&](int64_t i, int width) { bits.put(model.wIh[size_t(i)], width); });
    forEachGateRow(H, H, b, QuantPoint::WHr, [&](int64_t i, int width) { bits.put(model.wHh[size_t(i)], width); });
    for (int8_t v : model.wFc) bits.put(v, b[pointIndex(QuantPoint::WFc)]);
    for (uint8_t v : model.sigRLut) bits.put(v, b[pointIndex(QuantPoint::SigR)]);
    for (uint8_t v : model.sigZLut) bits.put(v, b[pointIndex(QuantPoint::SigZ)]);
    for (uint8_t v : model.tanhNLut) bits.put(v, b[pointIndex(QuantPoint::TanhN)]);
    if (int64_t(at) + (bits.position() + 7) / 8 != kBlobHeaderBytes + payload) {
        throw std::logic_error("writeBlob: packed size disagrees with the size objective");
    }
    if (normalization) {  // after the payload: f32 mean[F], then f32 std[F]
        const size_t section = size_t(kBlobHeaderBytes + payload);
        for (int64_t f = 0; f < F; ++f) {
            w.f32At(section + 4 * size_t(f), normalization->meanOf(f));
            w.f32At(section + 4 * size_t(F + f), normalization->stdDevOf(f));
        }
    }
    w.u32At(kOffCrc, crc32Of(out.data() + kCrcStart, out.size() - kCrcStart));
    return out;
}

BlobContents readBlob(const std::vector<uint8_t>& in, const std::string& source) {
    using Code = BlobError::Code;
    auto fail = [&](Code code, const std::string& problem) { throw BlobError(source, code, problem); };
    if (in.size() < 16) fail(Code::Truncated, "only " + std::to_string(in.size()) + " bytes: not even a blob header");
    if (std::memcmp(in.data(), kMagic, 4) != 0) fail(Code::BadMagic, "not a gruq firmware blob (magic is not GRUQ)");
    const uint16_t version = u16At(in, kOffVersion);
    if (version < kOldestBlobFormatVersion || version > kBlobFormatVersion) {
        fail(Code::UnsupportedVersion, "blob format version " + std::to_string(version) + ", this build reads versions " +
                                           std::to_string(kOldestBlobFormatVersion) + " to " + std::to_string(kBlobFormatVersion));
    }
    if (u16At(in, kOffHeaderBytes) != kBlobHeaderBytes) {
        fail(Code::BadHeader, "header size field is " + std::to_string(u16At(in, kOffHeaderBytes)) + ", expected 640");
    }
    const uint32_t declared = u32At(in, kOffBlobBytes);
    if (in.size() < declared) {
        fail(Code::Truncated, "truncated: " + std::to_string(in.size()) + " bytes, the header declares " + std::to_string(declared));
    }
    if (in.size() > declared || declared < kBlobHeaderBytes) {
        fail(Code::SizeMismatch, std::to_string(in.size()) + " bytes, the header declares " + std::to_string(declared));
    }
    if (crc32Of(in.data() + kCrcStart, in.size() - kCrcStart) != u32At(in, kOffCrc)) {
        fail(Code::BadChecksum, "CRC-32 mismatch: the blob is damaged");
    }

    BlobContents out;
    out.formatVersion = version;
    QuantizedGru& q = out.model;
    const int64_t F = u16At(in, kOffF), H = u16At(in, kOffH), C = u16At(in, kOffC);
    if (F < 1 || H < 1 || F + H > kMaxFeaturesPlusHidden || C < 1 || C > kMaxClasses) {
        fail(Code::BadShape, "shape F" + std::to_string(F) + " H" + std::to_string(H) + " C" + std::to_string(C) +
                                 " is outside the format (F, H >= 1, F + H <= 2048, C 1..1024)");
    }
    q.shape.inputSize = F;
    q.shape.hiddenSize = H;
    q.shape.numClasses = C;

    const uint8_t layoutId = in[kOffLayout];
    if (layoutId >= knownLayouts().size()) fail(Code::BadBits, "unknown genome layout id " + std::to_string(layoutId));
    out.genome.layout = knownLayouts()[layoutId];
    const int geneCount = in[kOffGeneCount];
    if (geneCount != out.genome.layout->geneCount()) {
        fail(Code::BadBits, "gene count " + std::to_string(geneCount) + " does not match layout " + out.genome.layout->name);
    }
    for (int g = 0; g < 32; ++g) {
        const int v = in[kOffGenes + size_t(g)];
        if (g < geneCount && (v < 2 || v > 8)) fail(Code::BadBits, "gene " + out.genome.layout->genes[size_t(g)].name + " has " + std::to_string(v) + " bits");
        if (g >= geneCount && v != 0) fail(Code::BadBits, "non-zero byte after the last gene");
        if (g < geneCount) out.genome.bits.push_back(v);
    }
    for (int p = 0; p < 32; ++p) {
        const int v = in[kOffPointBits + size_t(p)];
        if (p < kQuantPointCount && (v < 2 || v > 8)) {
            fail(Code::BadBits, std::string("point ") + quantPointName(QuantPoint(p)) + " has " + std::to_string(v) + " bits");
        }
        if (p >= kQuantPointCount && v != 0) fail(Code::BadBits, "non-zero byte after the last point width");
        if (p < kQuantPointCount) q.bits[size_t(p)] = v;
    }
    if (out.genome.resolve() != q.bits) fail(Code::BadBits, "the genome does not resolve to the point bit widths");

    const int64_t payload = payloadBytesFor(q.shape, q.bits);
    // Version 1 has no normalisation section: there the field is reserved (0), checked below.
    const int64_t normalizationBytes = version >= 2 ? int64_t(u32At(in, kOffNormalizationBytes)) : 0;
    if (normalizationBytes != 0 && normalizationBytes != 8 * F) {
        fail(Code::SizeMismatch, "normalisation section of " + std::to_string(normalizationBytes) + " bytes; " +
                                     std::to_string(F) + " features need 0 or " + std::to_string(8 * F));
    }
    if (u32At(in, kOffPayloadBytes) != payload || int64_t(declared) != kBlobHeaderBytes + payload + normalizationBytes) {
        fail(Code::SizeMismatch, "shape " + q.shape.key() + " and these bit widths need a " + std::to_string(payload) +
                                     "-byte payload" + (normalizationBytes ? " and the normalisation section" : std::string()) +
                                     "; the blob has " + std::to_string(int64_t(declared) - kBlobHeaderBytes) + " bytes after the header");
    }

    for (int p = 0; p < kQuantPointCount; ++p) {
        const auto point = QuantPoint(p);
        const int32_t zp = i32At(in, kOffZeroPoints + 4 * size_t(p));
        const double scale = f64At(in, kOffScales + 8 * size_t(p));
        int32_t expected = 0;
        const int32_t qmax = (int32_t(1) << q.bits[size_t(p)]) - 1;
        if (fixedZeroPoint(point, q.bits, expected) ? zp != expected : (zp < 0 || zp > qmax)) {
            fail(Code::BadParameter, std::string("zero point ") + std::to_string(zp) + " of " + quantPointName(point) + " is invalid");
        }
        if (!(scale > 0) || !std::isfinite(scale)) fail(Code::BadParameter, std::string("scale of ") + quantPointName(point) + " is not positive");
        if (isWeightPoint(point) && scale != 1.0) {
            fail(Code::BadParameter, std::string("scale of weight point ") + quantPointName(point) +
                                         " is not 1.0 (weight scales live in the weight-scale table)");
        }
        if (!isWeightPoint(point)) q.act[size_t(p)] = ActivationQuant{q.bits[size_t(p)], scale, zp};
    }
    double weightScales[7];
    for (size_t i = 0; i < 7; ++i) {
        weightScales[i] = f64At(in, kOffWeightScales + 8 * i);
        if (!(weightScales[i] > 0) || !std::isfinite(weightScales[i])) fail(Code::BadParameter, "a weight scale is not positive");
    }
    q.wIhScale = {weightScales[0], weightScales[1], weightScales[2]};
    q.wHhScale = {weightScales[3], weightScales[4], weightScales[5]};
    q.wFcScale = weightScales[6];

    auto checkShift = [&](int32_t shift, const char* what) {
        if (shift < kMinShift || shift > kMaxShift) fail(Code::BadParameter, std::string("shift of ") + what + " outside 1..62");
    };
    auto checkMantissa = [&](int32_t m, const char* what) {
        if (m < 0) fail(Code::BadParameter, std::string("negative multiplier of ") + what);
    };
    static const char* const multiplierNames[10] = {"ih_r", "ih_z", "ih_n", "hh_r", "hh_z", "hh_n", "fc", "mul_rn", "mul_zn", "mul_zh"};
    const auto multipliers = multipliersOf(q);
    for (size_t i = 0; i < multipliers.size(); ++i) {
        multipliers[i]->mantissa = i32At(in, kOffMultipliers + 8 * i);
        multipliers[i]->shift = i32At(in, kOffMultipliers + 8 * i + 4);
        checkMantissa(multipliers[i]->mantissa, multiplierNames[i]);
        checkShift(multipliers[i]->shift, multiplierNames[i]);
    }
    static const char* const addNames[4] = {"sum_r", "sum_z", "sum_n", "h"};
    const auto adds = addRescalesOf(q);
    for (size_t i = 0; i < adds.size(); ++i) {
        adds[i]->multiplierA = i32At(in, kOffAddMultipliers + 12 * i);
        adds[i]->multiplierB = i32At(in, kOffAddMultipliers + 12 * i + 4);
        adds[i]->shift = i32At(in, kOffAddMultipliers + 12 * i + 8);
        checkMantissa(adds[i]->multiplierA, addNames[i]);
        checkMantissa(adds[i]->multiplierB, addNames[i]);
        checkShift(adds[i]->shift, addNames[i]);
    }
    size_t t = 0;
    for (; t < 32 && in[kOffTask + t] != 0; ++t) {
        if (t == 31 || !printableAscii(in[kOffTask + t])) {
            fail(Code::BadParameter, "task name byte " + std::to_string(t) + " is not printable ASCII (at most 31, then NUL)");
        }
        out.taskName.push_back(static_cast<char>(in[kOffTask + t]));
    }
    for (; t < 32; ++t) {
        if (in[kOffTask + t] != 0) fail(Code::BadParameter, "task name byte " + std::to_string(t) + " after the NUL is not zero");
    }
    for (size_t i = version >= 2 ? kOffReserved : kOffNormalizationBytes; i < kBlobHeaderBytes; ++i) {
        if (in[i] != 0) fail(Code::BadParameter, "reserved header byte " + std::to_string(i) + " is not zero");
    }

    size_t at = kBlobHeaderBytes;
    for (auto [biases, count] : {std::pair{&q.bIh, 3 * H}, std::pair{&q.bHh, 3 * H}, std::pair{&q.bFc, C}}) {
        biases->resize(size_t(count));
        for (auto& b : *biases) {
            b = i32At(in, at);
            at += 4;
            if (b < -kBiasCodeLimit || b > kBiasCodeLimit) fail(Code::BadParameter, "a bias is outside +-2^30");
        }
    }
    BitReader bits(in, at);
    auto weight = [&](int width) {
        const int32_t v = bits.signedField(width);
        if (v < -weightQmax(width) || v > weightQmax(width)) fail(Code::BadParameter, "a weight code is outside the narrow range");
        return static_cast<int8_t>(v);
    };
    q.wIh.resize(size_t(3 * H * F));
    q.wHh.resize(size_t(3 * H * H));
    q.wFc.resize(size_t(C * H));
    forEachGateRow(H, F, q.bits, QuantPoint::WIr, [&](int64_t i, int width) { q.wIh[size_t(i)] = weight(width); });
    forEachGateRow(H, H, q.bits, QuantPoint::WHr, [&](int64_t i, int width) { q.wHh[size_t(i)] = weight(width); });
    for (auto& v : q.wFc) v = weight(q.bits[pointIndex(QuantPoint::WFc)]);
    auto lut = [&](QuantPoint input, QuantPoint output, std::vector<uint8_t>& table) {
        table.resize(size_t(1) << q.bits[pointIndex(input)]);
        for (auto& v : table) v = static_cast<uint8_t>(bits.unsignedField(q.bits[pointIndex(output)]));
    };
    lut(QuantPoint::SumR, QuantPoint::SigR, q.sigRLut);
    lut(QuantPoint::SumZ, QuantPoint::SigZ, q.sigZLut);
    lut(QuantPoint::SumN, QuantPoint::TanhN, q.tanhNLut);
    // tanh codes stop at 2^b - 2 (real 1 = code 2 Z); the top code has no value.
    const int tanhTop = (1 << q.bits[pointIndex(QuantPoint::TanhN)]) - 2;
    for (uint8_t v : q.tanhNLut) {
        if (v > tanhTop) fail(Code::BadParameter, "a tanh_n table entry is above " + std::to_string(tanhTop));
    }
    const int64_t used = bits.position();
    const int64_t streamBits = int64_t(kBlobHeaderBytes + payload - int64_t(at)) * 8;
    for (int64_t p = used; p < streamBits; ++p) {
        if ((in[at + size_t(p / 8)] >> (p % 8)) & 1) fail(Code::BadParameter, "padding bits after the last LUT are not zero");
    }
    if (normalizationBytes > 0) {
        const size_t section = size_t(kBlobHeaderBytes + payload);
        Normalization n;
        n.mean.resize(size_t(F));
        n.stdDev.resize(size_t(F));
        for (int64_t f = 0; f < F; ++f) {
            n.mean[size_t(f)] = f32At(in, section + 4 * size_t(f));
            n.stdDev[size_t(f)] = f32At(in, section + 4 * size_t(F + f));
            if (!std::isfinite(n.mean[size_t(f)]) || !std::isfinite(n.stdDev[size_t(f)]) || !(n.stdDev[size_t(f)] > 0)) {
                fail(Code::BadParameter, "normalisation of feature " + std::to_string(f) + " is not finite with std > 0");
            }
        }
        out.normalization = std::move(n);
    }
    return out;
}

BlobContents readBlobFile(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw InputError(path, "cannot open the blob file");
    file.seekg(0, std::ios::end);
    const std::streamoff size = file.tellg();
    if (size > (std::streamoff(1) << 31)) throw BlobError(path, BlobError::Code::SizeMismatch, "file is larger than any blob");
    file.seekg(0);
    std::vector<uint8_t> bytes(static_cast<size_t>(std::max<std::streamoff>(size, 0)));
    file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!file) throw InputError(path, "read error");
    return readBlob(bytes, path);
}

}  // namespace gruq
