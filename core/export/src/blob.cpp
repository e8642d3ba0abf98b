#include "gruq/export/blob.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace gruq {
namespace {

// Header offsets (docs/blob-format.md).
constexpr size_t kOffVersion = 4, kOffHeaderBytes = 6, kOffBlobBytes = 8, kOffCrc = 12, kOffF = 16, kOffH = 18,
                 kOffC = 20, kOffLayout = 22, kOffGeneCount = 23, kOffGenes = 24, kOffPointBits = 56,
                 kOffZeroPoints = 88, kOffScales = 188, kOffWeightScales = 388, kOffMultipliers = 444,
                 kOffAddMultipliers = 524, kOffTask = 572, kOffPayloadBytes = 604, kOffNormalizationBytes = 608,
                 kOffReserved = 612,  // versions 1 and 2: 612..639 reserved (v1: also 608..611)
                 kOffLayers = 612, kOffLayerSectionBytes = 616, kOffReservedV3 = 620;  // version 3
constexpr size_t kHeaderGenes = 32;
// A layer record (layers 2..L, docs/blob-format.md), offsets inside the record.
constexpr size_t kRecPointBits = 0, kRecZeroPoints = 32, kRecScales = 132, kRecWeightScales = 332, kRecMultipliers = 380,
                 kRecAddMultipliers = 452, kRecPayloadBytes = 500, kRecReserved = 504;
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

// Where one layer's quantizers live: the header (layer 1, with the head's fc multiplier and W_fc scale
// among them) or a layer record (layers 2..L).
struct LayerFields {
    size_t pointBits, zeroPoints, scales, weightScales, multipliers, adds;
    bool head;  // the header: 10 multipliers (fc 7th) and 7 weight scales (W_fc 7th); a record: 9 and 6

    size_t multiplier(size_t slot) const { return multipliers + 8 * (head && slot >= 6 ? slot + 1 : slot); }
};
constexpr LayerFields kHeaderFields{kOffPointBits, kOffZeroPoints, kOffScales, kOffWeightScales, kOffMultipliers,
                                    kOffAddMultipliers, true};
LayerFields recordFields(size_t record) {
    return {record + kRecPointBits,    record + kRecZeroPoints,    record + kRecScales, record + kRecWeightScales,
            record + kRecMultipliers, record + kRecAddMultipliers, false};
}

// A layer's 9 multipliers in blob order (the header puts fc between hh_n and mul_rn).
template <typename Layer>
auto multipliersOf(Layer& q) {
    return std::array<decltype(&q.mulRNRescale), 9>{&q.ihRescale[0], &q.ihRescale[1], &q.ihRescale[2],
                                                    &q.hhRescale[0], &q.hhRescale[1], &q.hhRescale[2],
                                                    &q.mulRNRescale, &q.mulZNRescale, &q.mulZHRescale};
}
const char* const kMultiplierNames[9] = {"ih_r", "ih_z", "ih_n", "hh_r", "hh_z", "hh_n", "mul_rn", "mul_zn", "mul_zh"};
template <typename Layer>
auto addRescalesOf(Layer& q) {
    return std::array<decltype(&q.hRescale), 4>{&q.sumRRescale, &q.sumZRescale, &q.sumNRescale, &q.hRescale};
}
const char* const kAddNames[4] = {"sum_r", "sum_z", "sum_n", "h"};

int bitsOf(const BitAssignment& bits, QuantPoint p) { return bits[pointIndex(p)]; }

// Bits of one layer's stream: W_ih [3H x In], W_hh, (the first layer: W_fc), the three LUTs.
int64_t streamBits(const GruShape& shape, const BitAssignment& b, int64_t layer) {
    const int64_t H = shape.hiddenSize, In = shape.layerInputSize(layer);
    auto w = [&](QuantPoint first) {
        return int64_t(b[pointIndex(first)]) + b[pointIndex(first) + 1] + b[pointIndex(first) + 2];
    };
    auto lut = [&](QuantPoint in, QuantPoint out) { return (int64_t(1) << bitsOf(b, in)) * bitsOf(b, out); };
    int64_t bits = H * In * w(QuantPoint::WIr) + H * H * w(QuantPoint::WHr) + lut(QuantPoint::SumR, QuantPoint::SigR) +
                   lut(QuantPoint::SumZ, QuantPoint::SigZ) + lut(QuantPoint::SumN, QuantPoint::TanhN);
    if (layer == 0) bits += shape.numClasses * H * bitsOf(b, QuantPoint::WFc);
    return bits;
}

// Payload of a layer: int32 biases (b_ih, b_hh; the first layer also b_fc), then its stream in whole bytes.
// For a one-layer model this is the size objective's bytes.
int64_t payloadBytes(const GruShape& shape, const BitAssignment& b, int64_t layer) {
    const int64_t biases = 6 * shape.hiddenSize + (layer == 0 ? shape.numClasses : 0);
    return 4 * biases + (streamBits(shape, b, layer) + 7) / 8;
}

int64_t layerSectionBytes(const GruShape& shape, const LayerBits& bits) {
    if (shape.numLayers < 2) return 0;
    int64_t bytes = kBlobGeneExtensionBytes;
    for (int64_t l = 1; l < shape.numLayers; ++l) bytes += kBlobLayerRecordBytes + payloadBytes(shape, bits[size_t(l)], l);
    return bytes;
}

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

int layoutIdOf(const GenomeLayout& layout) {
    const auto& known = knownLayouts();
    for (size_t i = 0; i < known.size(); ++i) {
        if (known[i]->name == layout.baseName) return static_cast<int>(i);
    }
    return -1;
}

// The gene that sets point p of layer l (index into the genome), or -1 where no gene decides the point:
// layer l >= 2's x (layer l-1's h) and the head's points of the layers before the last (the last's).
using GeneTable = std::vector<std::array<int, kQuantPointCount>>;
GeneTable geneTableOf(const GenomeLayout& layout) {
    const int L = layout.layers;
    GeneTable table(static_cast<size_t>(L));
    for (auto& row : table) row.fill(-1);
    for (int g = 0; g < layout.geneCount(); ++g) {
        const GeneSpec& gene = layout.genes[size_t(g)];
        const int first = gene.layer == kAllLayers ? 0 : gene.layer, end = gene.layer == kAllLayers ? L : gene.layer + 1;
        for (int l = first; l < end; ++l) {
            for (QuantPoint p : gene.points) {
                if (layout.decides(l, p)) table[size_t(l)][pointIndex(p)] = g;
            }
        }
    }
    return table;
}

// One layer's quantizer fields (bit widths excluded) into a layer (and, for the header, the head's fc
// multiplier and W_fc scale into the model).
void writeLayerFields(ByteWriter& w, const LayerFields& at, const QuantizedGruLayer& q, const QuantizedGru& model) {
    for (int p = 0; p < kQuantPointCount; ++p) {
        const auto point = QuantPoint(p);
        w.u8At(at.pointBits + size_t(p), static_cast<uint8_t>(q.bits[size_t(p)]));
        w.i32At(at.zeroPoints + 4 * size_t(p), isWeightPoint(point) ? 0 : q.act[size_t(p)].zeroPoint);
        w.f64At(at.scales + 8 * size_t(p), isWeightPoint(point) ? 1.0 : q.act[size_t(p)].scale);
    }
    for (size_t g = 0; g < 3; ++g) {
        w.f64At(at.weightScales + 8 * g, q.wIhScale[g]);
        w.f64At(at.weightScales + 8 * (3 + g), q.wHhScale[g]);
    }
    const auto multipliers = multipliersOf(q);
    for (size_t i = 0; i < multipliers.size(); ++i) {
        w.i32At(at.multiplier(i), multipliers[i]->mantissa);
        w.i32At(at.multiplier(i) + 4, multipliers[i]->shift);
    }
    if (at.head) {
        w.f64At(at.weightScales + 8 * 6, model.wFcScale);
        w.i32At(at.multipliers + 8 * 6, model.fcRescale.mantissa);
        w.i32At(at.multipliers + 8 * 6 + 4, model.fcRescale.shift);
    }
    const auto adds = addRescalesOf(q);
    for (size_t i = 0; i < adds.size(); ++i) {
        w.i32At(at.adds + 12 * i, adds[i]->multiplierA);
        w.i32At(at.adds + 12 * i + 4, adds[i]->multiplierB);
        w.i32At(at.adds + 12 * i + 8, adds[i]->shift);
    }
}

// A layer's payload at `at`: biases, then the stream (W_ih, W_hh, the first layer's W_fc, LUTs). Returns
// the first byte after it.
size_t writeLayerPayload(std::vector<uint8_t>& out, size_t at, const QuantizedGru& model, int64_t layer) {
    const QuantizedGruLayer& q = model.layers[size_t(layer)];
    const int64_t H = model.shape.hiddenSize, In = model.shape.layerInputSize(layer);
    ByteWriter w(out);
    const size_t start = at;
    for (const auto* biases : {&q.bIh, &q.bHh, layer == 0 ? &model.bFc : nullptr}) {
        if (!biases) continue;
        for (int32_t b : *biases) {
            w.i32At(at, b);
            at += 4;
        }
    }
    BitWriter bits(out, at);
    const BitAssignment& b = q.bits;
    forEachGateRow(H, In, b, QuantPoint::WIr, [&](int64_t i, int width) { bits.put(q.wIh[size_t(i)], width); });
    forEachGateRow(H, H, b, QuantPoint::WHr, [&](int64_t i, int width) { bits.put(q.wHh[size_t(i)], width); });
    if (layer == 0) {
        for (int8_t v : model.wFc) bits.put(v, bitsOf(b, QuantPoint::WFc));
    }
    for (uint8_t v : q.sigRLut) bits.put(v, bitsOf(b, QuantPoint::SigR));
    for (uint8_t v : q.sigZLut) bits.put(v, bitsOf(b, QuantPoint::SigZ));
    for (uint8_t v : q.tanhNLut) bits.put(v, bitsOf(b, QuantPoint::TanhN));
    const size_t end = at + size_t((bits.position() + 7) / 8);
    if (int64_t(end - start) != payloadBytes(model.shape, b, layer)) {
        throw std::logic_error("writeBlob: packed size of layer " + std::to_string(layer + 1) + " disagrees with its payload size");
    }
    return end;
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

int64_t blobBytes(const GruShape& shape, const LayerBits& bits, bool withNormalization) {
    if (shape.numLayers < 1 || int64_t(bits.size()) != shape.numLayers) {
        throw std::invalid_argument("blobBytes: " + std::to_string(bits.size()) + " bit assignments for shape " + shape.key());
    }
    return kBlobHeaderBytes + payloadBytes(shape, bits.front(), 0) + (withNormalization ? 8 * shape.inputSize : 0) +
           layerSectionBytes(shape, bits);
}

std::vector<uint8_t> writeBlob(const QuantizedGru& model, const Genome& genome, const std::string& taskName,
                               const Normalization* normalization) {
    const int64_t F = model.shape.inputSize, H = model.shape.hiddenSize, C = model.shape.numClasses, L = model.shape.numLayers;
    if (F < 1 || H < 1 || F + H > kMaxFeaturesPlusHidden || C < 1 || C > kMaxClasses) {
        throw InputError("blob", "shape " + model.shape.key() + " is outside the format (F, H >= 1, F + H <= 2048, C 1..1024)");
    }
    if (L < 1 || L > kMaxGruLayers || int64_t(model.layers.size()) != L) {
        throw InputError("blob", "shape " + model.shape.key() + " with " + std::to_string(model.layers.size()) +
                                     " layers is outside the format (1.." + std::to_string(kMaxGruLayers) + " layers)");
    }
    validateGenome(genome);
    checkGenomeLayers(genome, L);
    const int layoutId = layoutIdOf(*genome.layout);
    if (layoutId < 0) throw InputError("blob", "genome layout '" + genome.layout->name + "' has no blob layout id");
    if (genome.resolve() != model.bits()) throw InputError("blob", "genome " + genome.toText() + " does not match the model's bits");
    for (int64_t l = 1; l < L; ++l) {
        const ActivationQuant &x = model.layers[size_t(l)].quant(QuantPoint::X), &h = model.layers[size_t(l - 1)].quant(QuantPoint::H);
        if (x.bits != h.bits || x.zeroPoint != h.zeroPoint || std::memcmp(&x.scale, &h.scale, sizeof x.scale) != 0) {
            throw InputError("blob", "the x quantizer of layer " + std::to_string(l + 1) + " is not the h quantizer of layer " +
                                         std::to_string(l));
        }
    }

    const int64_t payload = payloadBytes(model.shape, model.layers.front().bits, 0);
    const int64_t normalizationBytes = normalization ? 8 * F : 0;
    const int64_t sectionBytes = layerSectionBytes(model.shape, model.bits());
    if (normalization) {
        for (int64_t f = 0; f < F; ++f) {
            if (!std::isfinite(normalization->meanOf(f)) || !(normalization->stdDevOf(f) > 0) ||
                !std::isfinite(normalization->stdDevOf(f))) {
                throw InputError("blob", "normalisation of feature " + std::to_string(f) + " is not finite with std > 0");
            }
        }
    }
    const int64_t total = kBlobHeaderBytes + payload + normalizationBytes + sectionBytes;
    if (total > int64_t(0xFFFFFFFFu)) throw InputError("blob", "model " + model.shape.key() + " is too large for a blob");
    std::vector<uint8_t> out(size_t(total), 0);
    ByteWriter w(out);
    std::memcpy(out.data(), kMagic, 4);
    w.u16At(kOffVersion, blobFormatVersionFor(L));
    w.u16At(kOffHeaderBytes, static_cast<uint16_t>(kBlobHeaderBytes));
    w.u32At(kOffBlobBytes, static_cast<uint32_t>(out.size()));
    w.u16At(kOffF, static_cast<uint16_t>(F));
    w.u16At(kOffH, static_cast<uint16_t>(H));
    w.u16At(kOffC, static_cast<uint16_t>(C));
    w.u8At(kOffLayout, static_cast<uint8_t>(layoutId));
    w.u8At(kOffGeneCount, static_cast<uint8_t>(genome.bits.size()));
    const size_t section = size_t(kBlobHeaderBytes + payload + normalizationBytes);
    for (size_t g = 0; g < genome.bits.size(); ++g) {
        w.u8At(g < kHeaderGenes ? kOffGenes + g : section + g - kHeaderGenes, static_cast<uint8_t>(genome.bits[g]));
    }
    writeLayerFields(w, kHeaderFields, model.layers.front(), model);
    for (size_t i = 0; i < taskName.size() && i < 31; ++i) {
        const char c = taskName[i];
        w.u8At(kOffTask + i, static_cast<uint8_t>(c >= 32 && c < 127 ? c : '?'));
    }
    w.u32At(kOffPayloadBytes, static_cast<uint32_t>(payload));
    w.u32At(kOffNormalizationBytes, static_cast<uint32_t>(normalizationBytes));
    if (L > 1) {  // version 3 only: in version 2 these bytes are reserved (0)
        w.u8At(kOffLayers, static_cast<uint8_t>(L));
        w.u32At(kOffLayerSectionBytes, static_cast<uint32_t>(sectionBytes));
    }

    if (writeLayerPayload(out, kBlobHeaderBytes, model, 0) != size_t(kBlobHeaderBytes + payload)) {
        throw std::logic_error("writeBlob: first payload misplaced");
    }
    if (normalization) {  // after the payload: f32 mean[F], then f32 std[F]
        const size_t at = size_t(kBlobHeaderBytes + payload);
        for (int64_t f = 0; f < F; ++f) {
            w.f32At(at + 4 * size_t(f), normalization->meanOf(f));
            w.f32At(at + 4 * size_t(F + f), normalization->stdDevOf(f));
        }
    }
    size_t at = section + kBlobGeneExtensionBytes;
    for (int64_t l = 1; l < L; ++l) {
        writeLayerFields(w, recordFields(at), model.layers[size_t(l)], model);
        w.u32At(at + kRecPayloadBytes, static_cast<uint32_t>(payloadBytes(model.shape, model.layers[size_t(l)].bits, l)));
        at = writeLayerPayload(out, at + kBlobLayerRecordBytes, model, l);
    }
    if (L > 1 && int64_t(at) != total) throw std::logic_error("writeBlob: layer section size disagrees with its layers");
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
    // Versions 1 and 2 hold one layer (their byte 612 is reserved, checked with the other reserved bytes).
    const int64_t L = version >= 3 ? in[kOffLayers] : 1;
    if (L < 1 || L > kMaxGruLayers) {
        fail(Code::BadLayerCount, "a GRU of " + std::to_string(L) + " layers; the format holds 1.." + std::to_string(kMaxGruLayers));
    }
    const int64_t F = u16At(in, kOffF), H = u16At(in, kOffH), C = u16At(in, kOffC);
    if (F < 1 || H < 1 || F + H > kMaxFeaturesPlusHidden || C < 1 || C > kMaxClasses) {
        fail(Code::BadShape, "shape F" + std::to_string(F) + " H" + std::to_string(H) + " C" + std::to_string(C) +
                                 " is outside the format (F, H >= 1, F + H <= 2048, C 1..1024)");
    }
    q.shape.inputSize = F;
    q.shape.hiddenSize = H;
    q.shape.numClasses = C;
    q.shape.numLayers = L;
    q.layers.resize(size_t(L));
    LayerBits bits(size_t(L), BitAssignment{});

    // Bit widths of the first layer and the genes in the header.
    const uint8_t layoutId = in[kOffLayout];
    if (layoutId >= knownLayouts().size()) fail(Code::BadBits, "unknown genome layout id " + std::to_string(layoutId));
    const GenomeLayout& layout = stackedLayout(*knownLayouts()[layoutId], int(L));
    out.genome.layout = &layout;
    const int geneCount = in[kOffGeneCount];
    if (geneCount != layout.geneCount()) {
        fail(Code::BadBits, "gene count " + std::to_string(geneCount) + " does not match layout " + layout.name + " (" +
                                std::to_string(layout.geneCount()) + " genes)");
    }
    out.genome.bits.assign(size_t(geneCount), 0);
    auto checkGene = [&](int g, int v) {
        if (g < geneCount && (v < 2 || v > 8)) fail(Code::BadBits, "gene " + layout.genes[size_t(g)].name + " has " + std::to_string(v) + " bits");
        if (g >= geneCount && v != 0) fail(Code::BadBits, "non-zero byte after the last gene");
        if (g < geneCount) out.genome.bits[size_t(g)] = v;
    };
    for (int g = 0; g < int(kHeaderGenes); ++g) checkGene(g, in[kOffGenes + size_t(g)]);
    auto readPointBits = [&](size_t at, BitAssignment& b, const std::string& layerName) {
        for (int p = 0; p < 32; ++p) {
            const int v = in[at + size_t(p)];
            if (p < kQuantPointCount && (v < 2 || v > 8)) {
                fail(Code::BadBits, std::string("point ") + quantPointName(QuantPoint(p)) + layerName + " has " + std::to_string(v) + " bits");
            }
            if (p >= kQuantPointCount && v != 0) fail(Code::BadBits, "non-zero byte after the last point width" + layerName);
            if (p < kQuantPointCount) b[size_t(p)] = v;
        }
    };
    auto layerName = [&](int64_t l) { return L == 1 ? std::string() : " of layer " + std::to_string(l + 1); };
    readPointBits(kOffPointBits, bits[0], layerName(0));
    const GeneTable genes = geneTableOf(layout);
    // Every point of layer l: the width of its gene, or where no gene decides it, layer l-1's h (x) or the
    // last layer's (the head's points).
    auto checkWidths = [&](int64_t l, bool decidedOnly) {
        for (int p = 0; p < kQuantPointCount; ++p) {
            const int gene = genes[size_t(l)][size_t(p)];
            if (gene < 0 && decidedOnly) continue;
            const int expected = gene >= 0 ? out.genome.bits[size_t(gene)]
                                           : QuantPoint(p) == QuantPoint::X ? bits[size_t(l - 1)][pointIndex(QuantPoint::H)]
                                                                            : bits.back()[size_t(p)];
            if (bits[size_t(l)][size_t(p)] != expected) {
                fail(Code::BadBits, std::string("point ") + quantPointName(QuantPoint(p)) + layerName(l) + " has " +
                                        std::to_string(bits[size_t(l)][size_t(p)]) + " bits, the genome gives " +
                                        std::to_string(expected));
            }
        }
    };
    checkWidths(0, true);

    // Sizes.
    const int64_t payload = payloadBytes(q.shape, bits[0], 0);
    // Version 1 has no normalisation section: there the field is reserved (0), checked below.
    const int64_t normalizationBytes = version >= 2 ? int64_t(u32At(in, kOffNormalizationBytes)) : 0;
    if (normalizationBytes != 0 && normalizationBytes != 8 * F) {
        fail(Code::SizeMismatch, "normalisation section of " + std::to_string(normalizationBytes) + " bytes; " +
                                     std::to_string(F) + " features need 0 or " + std::to_string(8 * F));
    }
    const int64_t sectionBytes = version >= 3 ? int64_t(u32At(in, kOffLayerSectionBytes)) : 0;
    if (u32At(in, kOffPayloadBytes) != payload ||
        int64_t(declared) != kBlobHeaderBytes + payload + normalizationBytes + sectionBytes) {
        fail(Code::SizeMismatch, "shape " + q.shape.key() + " and these bit widths need a " + std::to_string(payload) +
                                     "-byte payload" + (normalizationBytes ? " and the normalisation section" : std::string()) +
                                     (sectionBytes ? " and the layer section" : std::string()) + "; the blob has " +
                                     std::to_string(int64_t(declared) - kBlobHeaderBytes) + " bytes after the header");
    }

    // The layer section (version 3): genes 32.., then per layer 2..L its record and payload.
    const size_t section = size_t(kBlobHeaderBytes + payload + normalizationBytes);
    std::vector<size_t> records(size_t(L), 0);
    if (L == 1 && sectionBytes != 0) {
        fail(Code::BadLayerSection, "a one-layer model with a " + std::to_string(sectionBytes) + "-byte layer section");
    }
    if (L > 1) {
        if (sectionBytes < int64_t(kBlobGeneExtensionBytes)) {
            fail(Code::BadLayerSection, "layer section of " + std::to_string(sectionBytes) + " bytes: truncated");
        }
        for (int g = 0; g < int(kBlobGeneExtensionBytes); ++g) checkGene(int(kHeaderGenes) + g, in[section + size_t(g)]);
        int64_t at = kBlobGeneExtensionBytes;  // inside the section
        for (int64_t l = 1; l < L; ++l) {
            if (at + int64_t(kBlobLayerRecordBytes) > sectionBytes) {
                fail(Code::BadLayerSection, "the layer section ends inside the record of layer " + std::to_string(l + 1));
            }
            records[size_t(l)] = section + size_t(at);
            readPointBits(records[size_t(l)] + kRecPointBits, bits[size_t(l)], layerName(l));
            const int64_t layerPayload = payloadBytes(q.shape, bits[size_t(l)], l);
            if (u32At(in, records[size_t(l)] + kRecPayloadBytes) != layerPayload) {
                fail(Code::BadLayerSection, "layer " + std::to_string(l + 1) + " declares " +
                                                std::to_string(u32At(in, records[size_t(l)] + kRecPayloadBytes)) +
                                                " payload bytes, its bit widths need " + std::to_string(layerPayload));
            }
            at += kBlobLayerRecordBytes + layerPayload;
            if (at > sectionBytes) fail(Code::BadLayerSection, "the layer section ends inside the payload of layer " + std::to_string(l + 1));
        }
        if (at != sectionBytes) {
            fail(Code::BadLayerSection, "layer section of " + std::to_string(sectionBytes) + " bytes, its layers need " + std::to_string(at));
        }
        for (int64_t l = 0; l < L; ++l) checkWidths(l, false);
        for (int64_t l = 1; l < L; ++l) {
            const size_t prevZero = l == 1 ? kOffZeroPoints : records[size_t(l - 1)] + kRecZeroPoints;
            const size_t prevScale = l == 1 ? kOffScales : records[size_t(l - 1)] + kRecScales;
            const size_t h = pointIndex(QuantPoint::H);
            if (i32At(in, records[size_t(l)] + kRecZeroPoints) != i32At(in, prevZero + 4 * h) ||
                std::memcmp(in.data() + records[size_t(l)] + kRecScales, in.data() + prevScale + 8 * h, 8) != 0) {
                fail(Code::BadLayerSection, "the x quantizer of layer " + std::to_string(l + 1) +
                                                " is not the h quantizer of layer " + std::to_string(l));
            }
        }
    }
    if (out.genome.resolve() != bits) throw std::logic_error("readBlob: the checked widths are not the genome's");

    // Parameters: every layer's quantizers, then the header's other fields, then every payload.
    auto checkShift = [&](int32_t shift, const char* what) {
        if (shift < kMinShift || shift > kMaxShift) fail(Code::BadParameter, std::string("shift of ") + what + " outside 1..62");
    };
    auto checkMantissa = [&](int32_t m, const char* what) {
        if (m < 0) fail(Code::BadParameter, std::string("negative multiplier of ") + what);
    };
    auto checkScale = [&](double scale, const std::string& what) {
        if (!(scale > 0) || !std::isfinite(scale)) fail(Code::BadParameter, "scale of " + what + " is not positive");
    };
    auto readLayerFields = [&](const LayerFields& at, int64_t l) {
        QuantizedGruLayer& layer = q.layers[size_t(l)];
        layer.bits = bits[size_t(l)];
        for (int p = 0; p < kQuantPointCount; ++p) {
            const auto point = QuantPoint(p);
            const int32_t zp = i32At(in, at.zeroPoints + 4 * size_t(p));
            const double scale = f64At(in, at.scales + 8 * size_t(p));
            int32_t expected = 0;
            const int32_t qmax = (int32_t(1) << layer.bits[size_t(p)]) - 1;
            if (fixedZeroPoint(point, layer.bits, expected) ? zp != expected : (zp < 0 || zp > qmax)) {
                fail(Code::BadParameter, "zero point " + std::to_string(zp) + " of " + quantPointName(point) + layerName(l) + " is invalid");
            }
            checkScale(scale, quantPointName(point) + layerName(l));
            if (isWeightPoint(point) && scale != 1.0) {
                fail(Code::BadParameter, std::string("scale of weight point ") + quantPointName(point) + layerName(l) +
                                             " is not 1.0 (weight scales live in the weight-scale table)");
            }
            if (!isWeightPoint(point)) layer.act[size_t(p)] = ActivationQuant{layer.bits[size_t(p)], scale, zp};
        }
        for (size_t g = 0; g < 3; ++g) {
            layer.wIhScale[g] = f64At(in, at.weightScales + 8 * g);
            layer.wHhScale[g] = f64At(in, at.weightScales + 8 * (3 + g));
            checkScale(layer.wIhScale[g], "a weight" + layerName(l));
            checkScale(layer.wHhScale[g], "a weight" + layerName(l));
        }
        const auto multipliers = multipliersOf(layer);
        for (size_t i = 0; i < multipliers.size(); ++i) {
            multipliers[i]->mantissa = i32At(in, at.multiplier(i));
            multipliers[i]->shift = i32At(in, at.multiplier(i) + 4);
            checkMantissa(multipliers[i]->mantissa, kMultiplierNames[i]);
            checkShift(multipliers[i]->shift, kMultiplierNames[i]);
        }
        const auto adds = addRescalesOf(layer);
        for (size_t i = 0; i < adds.size(); ++i) {
            adds[i]->multiplierA = i32At(in, at.adds + 12 * i);
            adds[i]->multiplierB = i32At(in, at.adds + 12 * i + 4);
            adds[i]->shift = i32At(in, at.adds + 12 * i + 8);
            checkMantissa(adds[i]->multiplierA, kAddNames[i]);
            checkMantissa(adds[i]->multiplierB, kAddNames[i]);
            checkShift(adds[i]->shift, kAddNames[i]);
        }
    };
    readLayerFields(kHeaderFields, 0);
    q.wFcScale = f64At(in, kOffWeightScales + 8 * 6);
    checkScale(q.wFcScale, "w_fc");
    q.fcRescale.mantissa = i32At(in, kOffMultipliers + 8 * 6);
    q.fcRescale.shift = i32At(in, kOffMultipliers + 8 * 6 + 4);
    checkMantissa(q.fcRescale.mantissa, "fc");
    checkShift(q.fcRescale.shift, "fc");
    for (int64_t l = 1; l < L; ++l) {
        readLayerFields(recordFields(records[size_t(l)]), l);
        for (size_t i = kRecReserved; i < kBlobLayerRecordBytes; ++i) {
            if (in[records[size_t(l)] + i] != 0) fail(Code::BadParameter, "reserved byte " + std::to_string(i) + " of the record of layer " + std::to_string(l + 1) + " is not zero");
        }
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
        const bool field = version >= 3 && (i == kOffLayers || (i >= kOffLayerSectionBytes && i < kOffReservedV3));
        if (!field && in[i] != 0) fail(Code::BadParameter, "reserved header byte " + std::to_string(i) + " is not zero");
    }

    auto readPayload = [&](size_t at, int64_t l) {
        QuantizedGruLayer& layer = q.layers[size_t(l)];
        const int64_t In = q.shape.layerInputSize(l);
        const size_t start = at;
        for (auto [biases, count] : {std::pair{&layer.bIh, 3 * H}, std::pair{&layer.bHh, 3 * H}, std::pair{&q.bFc, l == 0 ? C : 0}}) {
            if (count == 0) continue;
            biases->resize(size_t(count));
            for (auto& b : *biases) {
                b = i32At(in, at);
                at += 4;
                if (b < -kBiasCodeLimit || b > kBiasCodeLimit) fail(Code::BadParameter, "a bias" + layerName(l) + " is outside +-2^30");
            }
        }
        BitReader stream(in, at);
        auto weight = [&](int width) {
            const int32_t v = stream.signedField(width);
            if (v < -weightQmax(width) || v > weightQmax(width)) {
                fail(Code::BadParameter, "a weight code" + layerName(l) + " is outside the narrow range");
            }
            return static_cast<int8_t>(v);
        };
        const BitAssignment& b = layer.bits;
        layer.wIh.resize(size_t(3 * H * In));
        layer.wHh.resize(size_t(3 * H * H));
        forEachGateRow(H, In, b, QuantPoint::WIr, [&](int64_t i, int width) { layer.wIh[size_t(i)] = weight(width); });
        forEachGateRow(H, H, b, QuantPoint::WHr, [&](int64_t i, int width) { layer.wHh[size_t(i)] = weight(width); });
        if (l == 0) {
            q.wFc.resize(size_t(C * H));
            for (auto& v : q.wFc) v = weight(bitsOf(b, QuantPoint::WFc));
        }
        auto lut = [&](QuantPoint input, QuantPoint output, std::vector<uint8_t>& table) {
            table.resize(size_t(1) << bitsOf(b, input));
            for (auto& v : table) v = static_cast<uint8_t>(stream.unsignedField(bitsOf(b, output)));
        };
        lut(QuantPoint::SumR, QuantPoint::SigR, layer.sigRLut);
        lut(QuantPoint::SumZ, QuantPoint::SigZ, layer.sigZLut);
        lut(QuantPoint::SumN, QuantPoint::TanhN, layer.tanhNLut);
        // tanh codes stop at 2^b - 2 (real 1 = code 2 Z); the top code has no value.
        const int tanhTop = (1 << bitsOf(b, QuantPoint::TanhN)) - 2;
        for (uint8_t v : layer.tanhNLut) {
            if (v > tanhTop) fail(Code::BadParameter, "a tanh_n table entry" + layerName(l) + " is above " + std::to_string(tanhTop));
        }
        const int64_t used = stream.position();
        const int64_t streamBytesEnd = int64_t(start) + payloadBytes(q.shape, b, l);
        for (int64_t p = used; p < (streamBytesEnd - int64_t(at)) * 8; ++p) {
            if ((in[at + size_t(p / 8)] >> (p % 8)) & 1) fail(Code::BadParameter, "padding bits after the last LUT" + layerName(l) + " are not zero");
        }
    };
    readPayload(kBlobHeaderBytes, 0);
    if (normalizationBytes > 0) {
        const size_t at = size_t(kBlobHeaderBytes + payload);
        Normalization n;
        n.mean.resize(size_t(F));
        n.stdDev.resize(size_t(F));
        for (int64_t f = 0; f < F; ++f) {
            n.mean[size_t(f)] = f32At(in, at + 4 * size_t(f));
            n.stdDev[size_t(f)] = f32At(in, at + 4 * size_t(F + f));
            if (!std::isfinite(n.mean[size_t(f)]) || !std::isfinite(n.stdDev[size_t(f)]) || !(n.stdDev[size_t(f)] > 0)) {
                fail(Code::BadParameter, "normalisation of feature " + std::to_string(f) + " is not finite with std > 0");
            }
        }
        out.normalization = std::move(n);
    }
    for (int64_t l = 1; l < L; ++l) readPayload(records[size_t(l)] + kBlobLayerRecordBytes, l);
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
