#pragma once
// The firmware blob (docs/blob-format.md): a QuantizedGru as little-endian bytes with a fixed 640-byte
// header, weights and LUTs bit-packed at their widths, int32 biases, the input normalisation (format
// version 2) and a CRC-32. Writer and validating reader; reading a written blob gives back the
// identical QuantizedGru.
#include "gruq/base/errors.h"
#include "gruq/data/dataset.h"
#include "gruq/quant/genome.h"
#include "gruq/quant/quantized_gru.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gruq {

constexpr uint16_t kBlobFormatVersion = 2;        // written; version 1 (no normalisation section) still reads
constexpr uint16_t kOldestBlobFormatVersion = 1;
constexpr uint32_t kBlobHeaderBytes = 640;

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
    int formatVersion = kBlobFormatVersion;  // as read (1 or 2)
    // The input normalisation the model was trained with, one mean and standard deviation per feature
    // (feature = (raw - mean) / std); absent in version-1 blobs and when written without one.
    std::optional<Normalization> normalization;
};

// Bytes of the blob of `model`. `genome` must resolve to model.bits; the task name (<= 31 printable
// ASCII characters; longer is cut, others become '?') is information only; `normalization` (one value
// for every feature, or one per feature) goes into the normalisation section. Throws
// InputError("blob", ...) on a model that cannot be expressed (shape or parameter out of the format's range).
std::vector<uint8_t> writeBlob(const QuantizedGru& model, const Genome& genome, const std::string& taskName,
                               const Normalization* normalization = nullptr);

// Validates every field (docs/blob-format.md, "Validation") and rebuilds the model. `source` names the
// file in error messages. Throws BlobError.
BlobContents readBlob(const std::vector<uint8_t>& bytes, const std::string& source);
BlobContents readBlobFile(const std::string& path);

// Blob size for a model of this shape and bits: header + the size objective's bytes (+ 8 F bytes of
// normalisation section when there is one).
int64_t blobBytes(const GruShape& shape, const BitAssignment& bits, bool withNormalization = false);

// zlib-compatible CRC-32 (the blob's checksum).
uint32_t crc32Of(const uint8_t* data, size_t size);

}  // namespace gruq
