#pragma once
// Reader for the IDX format of MNIST-style datasets (raw or gzip-compressed, unsigned-byte data).
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct IdxArray {
    std::vector<int64_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
    std::vector<uint8_t> data;  // product(dims) bytes, row-major
};

// Reads path (gzip detected by its magic bytes, so ".gz" naming is not required). Validates the
// IDX magic (0x00 0x00 0x08 ndims), the dimensions and that exactly product(dims) bytes follow.
// Throws InputError naming the file and the problem (missing, truncated, wrong magic, ...).
IdxArray readIdxFile(const std::string& path);

// Writes an unsigned-byte IDX file, gzip-compressed when gzip is true (used by tests and tools).
void writeIdxFile(const std::string& path, const IdxArray& array, bool gzip);

}  // namespace gruq
