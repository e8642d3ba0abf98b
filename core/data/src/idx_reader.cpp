#include "gruq/data/idx_reader.h"

#include "gruq/base/errors.h"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

namespace gruq {
namespace {

constexpr int64_t kMaxIdxBytes = int64_t(4) << 30;  // refuse absurd headers instead of allocating them

// Whole file, gunzipped when it is gzip (zlib's gzread passes plain files through unchanged).
std::vector<uint8_t> readMaybeGzip(const std::string& path) {
    if (!std::filesystem::exists(path)) throw InputError(path, "file not found");
    if (std::filesystem::is_directory(path)) throw InputError(path, "is a directory, expected an IDX file");
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw InputError(path, std::string("cannot open: ") + std::strerror(errno));
    std::vector<uint8_t> bytes;
    uint8_t buf[1 << 16];
    for (;;) {
        const int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int code = 0;
            std::string msg = gzerror(f, &code);
            gzclose(f);
            throw InputError(path, "corrupt gzip stream (" + msg + ")");
        }
        if (n == 0) break;
        bytes.insert(bytes.end(), buf, buf + n);
        if (static_cast<int64_t>(bytes.size()) > kMaxIdxBytes) {
            gzclose(f);
            throw InputError(path, "file larger than 4 GiB, not an IDX dataset file");
        }
    }
    int code = 0;
    const char* msg = gzerror(f, &code);
    std::string err = (code != Z_OK && code != Z_STREAM_END) ? msg : "";
    gzclose(f);
    if (!err.empty()) throw InputError(path, "truncated or corrupt gzip stream (" + err + ")");
    return bytes;
}

uint32_t bigEndian32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

}  // namespace

IdxArray readIdxFile(const std::string& path) {
    const std::vector<uint8_t> bytes = readMaybeGzip(path);
    if (bytes.size() < 4) throw InputError(path, "too short for an IDX header (" + std::to_string(bytes.size()) + " bytes)");
    if (bytes[0] != 0 || bytes[1] != 0) {
        throw InputError(path, "wrong magic number: not an IDX file (first bytes must be 00 00)");
    }
    if (bytes[2] != 0x08) {
        char type[8];
        std::snprintf(type, sizeof type, "0x%02X", bytes[2]);  // as the IDX spec writes them (0x0C = int)
        throw InputError(path, std::string("unsupported IDX data type ") + type +
                                   " (only unsigned byte, 0x08, is used by MNIST-format datasets)");
    }
    const int ndims = bytes[3];
    if (ndims < 1 || ndims > 4) throw InputError(path, "invalid IDX dimension count " + std::to_string(ndims));
    const size_t headerSize = 4 + 4 * static_cast<size_t>(ndims);
    if (bytes.size() < headerSize) throw InputError(path, "truncated IDX header");

    IdxArray array;
    int64_t total = 1;
    for (int d = 0; d < ndims; ++d) {
        const int64_t dim = bigEndian32(&bytes[4 + 4 * static_cast<size_t>(d)]);
        if (dim <= 0) throw InputError(path, "IDX dimension " + std::to_string(d) + " is zero");
        if (total > kMaxIdxBytes / dim) throw InputError(path, "IDX dimensions too large (over 4 GiB of data)");
        total *= dim;
        array.dims.push_back(dim);
    }
    const int64_t payload = static_cast<int64_t>(bytes.size() - headerSize);
    if (payload < total) {
        throw InputError(path, "truncated: header promises " + std::to_string(total) + " bytes of data, file holds " +
                                   std::to_string(payload));
    }
    if (payload > total) {
        throw InputError(path, "trailing data: header promises " + std::to_string(total) + " bytes, file holds " +
                                   std::to_string(payload));
    }
    array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(headerSize), bytes.end());
    return array;
}

void writeIdxFile(const std::string& path, const IdxArray& array, bool gzip) {
    std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(array.dims.size())};
    for (int64_t d : array.dims) {
        const auto v = static_cast<uint32_t>(d);
        for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<uint8_t>(v >> s));
    }
    bytes.insert(bytes.end(), array.data.begin(), array.data.end());
    gzFile f = gzopen(path.c_str(), gzip ? "wb6" : "wbT");  // "T": plain, uncompressed output
    if (!f) throw InputError(path, std::string("cannot create: ") + std::strerror(errno));
    const bool ok = gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size());
    if (gzclose(f) != Z_OK || !ok) throw InputError(path, "write failed");
}

}  // namespace gruq
