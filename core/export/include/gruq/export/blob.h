#pragma once
// The firmware blob (docs/blob-format.md): a QuantizedGru as little-endian bytes with a fixed 640-byte
// header (the first GRU layer and the head), weights and LUTs bit-packed at their widths, int32 biases,
// the input normalisation (format version 2), the layer section of layers 2..3 of a stacked GRU (format
// version 3) and a CRC-32. Writer and validating reader; reading a written blob gives back the identical
// QuantizedGru, every layer of it.
#include "gruq/base/errors.h"
#include "gruq/data/dataset.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/quantized_gru.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gruq {

// The newest version (stacked GRUs); versions 1 (no normalisation section) and 2 (one layer, no layer count)
// still read. Writing uses the oldest version that holds the model: 2 for one layer, 3 for a stack.
constexpr uint16_t kBlobFormatVersion = 3;
constexpr uint16_t kOneLayerBlobFormatVersion = 2;
// The version writeBlob writes for a model of `layers` GRU layers.
constexpr uint16_t blobFormatVersionFor(int64_t layers) { return layers == 1 ? kOneLayerBlobFormatVersion : kBlobFormatVersion; }
constexpr uint16_t kOldestBlobFormatVersion = 1;
constexpr uint32_t kBlobHeaderBytes = 640;
// Version 3's layer section (layers 2..L): genes 32..95 of the genome, then per layer a fixed record and
// its payload.
constexpr uint32_t kBlobGeneExtensionBytes = 64;
constexpr uint32_t kBlobLayerRecordBytes = 512;

// A rejected blob: the specific reason (same order and numbering as the C runtime's GRUQ_ERR_*).
class BlobError : public InputError {
public:
    enum class Code : int {
        Truncated = -2,
        BadMagic = -3,
        UnsupportedVersion = -4,
        BadHeader = -5,
        SizeMismatch = -6,
        BadChecksum = -7,
        BadShape = -8,
        BadBits = -9,
        BadParameter = -10,
        // -11 is the runtime's GRUQ_ERR_WORKSPACE (not a blob error)
        BadLayerCount = -12,    // layer count 0 or above kMaxGruLayers
        BadLayerSection = -13,  // layer section truncated, too long or inconsistent (x quantizer != previous h)
    };
    BlobError(std::string path, Code code, std::string problem) : InputError(std::move(path), std::move(problem)), code_(code) {}
    Code code() const { return code_; }

private:
    Code code_;
};

struct BlobContents {
    QuantizedGru model;
    Genome genome;
    std::string taskName;
    int formatVersion = kBlobFormatVersion;  // as read (1, 2 or 3)
    // The input normalisation the model was trained with, one mean and standard deviation per feature
    // (feature = (raw - mean) / std); absent in version-1 blobs and when written without one.
    std::optional<Normalization> normalization;
};

// Bytes of the blob of `model`: format version 2 for one layer (a device whose runtime reads only version 2
// still loads a new one-layer export, e.g. an over-the-air model update), version 3 for 2 or 3 layers. `genome` (a layout for the model's layer count)
// must resolve to model.bits(); the task name (<= 31 printable
// ASCII characters; longer is cut, others become '?') is information only; `normalization` (one value
// for every feature, or one per feature) goes into the normalisation section. Throws
// InputError("blob", ...) on a model that cannot be expressed (shape or parameter out of the format's range,
// a layer whose x quantizer is not the previous layer's h quantizer).
std::vector<uint8_t> writeBlob(const QuantizedGru& model, const Genome& genome, const std::string& taskName,
                               const Normalization* normalization = nullptr);

// Validates every field (docs/blob-format.md, "Validation") and rebuilds the model. `source` names the
// file in error messages. Throws BlobError.
BlobContents readBlob(const std::vector<uint8_t>& bytes, const std::string& source);
BlobContents readBlobFile(const std::string& path);

// Blob size for a model of this shape and bits (one assignment per layer): header + the first layer's and
// the head's payload (for one layer: the size objective's bytes) + 8 F bytes of normalisation section when
// there is one + for L >= 2 the layer section (64 + per layer 512 + its payload bytes).
int64_t blobBytes(const GruShape& shape, const LayerBits& bits, bool withNormalization = false);

// zlib-compatible CRC-32 (the blob's checksum).
uint32_t crc32Of(const uint8_t* data, size_t size);

}  // namespace gruq
