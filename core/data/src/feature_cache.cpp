#include "gruq/data/feature_cache.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"
#include "gruq/base/paths.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace gruq {
namespace {

// File layout (native byte order, guarded by the byte-order mark; the cache is machine-local):
//   "GRUQFEAT" | u32 version | u32 0x01020304 | string key | string task | string description |
//   string source | u32 nClasses + strings | floats mean | floats stdDev | 3 x set | u64 fnv1a64 of all before
//   string = u64 length + bytes; floats = u64 count + f32[count]; set = i64 count, steps, features | f32[count*steps*features] | i32[count]
constexpr char kMagic[8] = {'G', 'R', 'U', 'Q', 'F', 'E', 'A', 'T'};
constexpr uint32_t kFormatVersion = 2;  // 2: per-feature normalisation
constexpr uint32_t kByteOrderMark = 0x01020304;
constexpr size_t kChunkBytes = 1 << 20;

// Buffers writes and keeps the running FNV-1a checksum of everything written.
class ChecksummedWriter {
public:
    explicit ChecksummedWriter(std::ofstream& out) : out_(out) {}

    void bytes(const void* data, size_t size) {
        const char* p = static_cast<const char*>(data);
        while (size > 0) {
            const size_t n = std::min(size, kChunkBytes - buffer_.size());
            buffer_.append(p, n);
            p += n;
            size -= n;
            if (buffer_.size() == kChunkBytes) flush();
        }
    }
    template <typename T>
    void value(T v) { bytes(&v, sizeof v); }
    void string(const std::string& s) {
        value<uint64_t>(s.size());
        bytes(s.data(), s.size());
    }
    void flush() {
        hash_ = fnv1a64(buffer_, hash_);
        out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        buffer_.clear();
    }
    // Writes the checksum itself (not part of the hashed bytes).
    void finish() {
        flush();
        const uint64_t checksum = hash_;
        out_.write(reinterpret_cast<const char*>(&checksum), sizeof checksum);
    }

private:
    std::ofstream& out_;
    std::string buffer_;
    uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Reads and checksums; every read is bounds-checked against the payload size so that a corrupt
// length can neither overrun nor make us allocate absurd amounts of memory.
class ChecksummedReader {
public:
    ChecksummedReader(std::ifstream& in, uint64_t payloadBytes) : in_(in), remaining_(payloadBytes) {}

    bool bytes(void* data, size_t size) {
        if (size > remaining_) return false;
        char* p = static_cast<char*>(data);
        while (size > 0) {
            const size_t n = std::min(size, kChunkBytes);
            chunk_.resize(n);
            if (!in_.read(&chunk_[0], static_cast<std::streamsize>(n))) return false;
            hash_ = fnv1a64(chunk_, hash_);
            std::memcpy(p, chunk_.data(), n);
            p += n;
            size -= n;
            remaining_ -= n;
        }
        return true;
    }
    template <typename T>
    bool value(T& v) { return bytes(&v, sizeof v); }
    bool string(std::string& s) {
        uint64_t length = 0;
        if (!value(length) || length > remaining_) return false;
        s.resize(static_cast<size_t>(length));
        return length == 0 || bytes(&s[0], s.size());
    }
    uint64_t remaining() const { return remaining_; }
    uint64_t hash() const { return hash_; }

private:
    std::ifstream& in_;
    uint64_t remaining_;
    std::string chunk_;
    uint64_t hash_ = 0xcbf29ce484222325ULL;
};

void writeFloats(ChecksummedWriter& w, const std::vector<float>& values) {
    w.value<uint64_t>(values.size());
    w.bytes(values.data(), values.size() * sizeof(float));
}

bool readFloats(ChecksummedReader& r, std::vector<float>& values) {
    uint64_t count = 0;
    if (!r.value(count) || count > r.remaining() / sizeof(float)) return false;
    values.resize(static_cast<size_t>(count));
    return r.bytes(values.data(), values.size() * sizeof(float));
}

void writeSet(ChecksummedWriter& w, const SequenceSet& set) {
    w.value<int64_t>(set.count);
    w.value<int64_t>(set.steps);
    w.value<int64_t>(set.features);
    w.bytes(set.x.data(), set.x.size() * sizeof(float));
    w.bytes(set.y.data(), set.y.size() * sizeof(int32_t));
}

bool readSet(ChecksummedReader& r, SequenceSet& set) {
    if (!r.value(set.count) || !r.value(set.steps) || !r.value(set.features)) return false;
    if (set.count < 0 || set.steps < 0 || set.features < 0) return false;
    // Overflow-safe size check against what is left of the file before allocating.
    const uint64_t budget = r.remaining();
    const auto count = static_cast<uint64_t>(set.count);
    const auto steps = static_cast<uint64_t>(set.steps);
    const auto features = static_cast<uint64_t>(set.features);
    if (count > budget / sizeof(int32_t)) return false;
    if (steps != 0 && features > std::numeric_limits<uint64_t>::max() / steps) return false;
    const uint64_t perSequence = steps * features;
    if (perSequence != 0 && count > budget / sizeof(float) / perSequence) return false;
    const uint64_t values = count * perSequence;
    if (values * sizeof(float) + count * sizeof(int32_t) > budget) return false;
    set.x.resize(static_cast<size_t>(values));
    set.y.resize(static_cast<size_t>(count));
    return r.bytes(set.x.data(), set.x.size() * sizeof(float)) && r.bytes(set.y.data(), set.y.size() * sizeof(int32_t));
}

bool consistent(const SequenceSet& set) {
    return set.x.size() == static_cast<size_t>(set.count * set.steps * set.features) &&
           set.y.size() == static_cast<size_t>(set.count);
}

}  // namespace

FeatureCache::FeatureCache(std::string directory) : directory_(std::move(directory)) {}

std::string FeatureCache::entryPath(const std::string& key) const {
    return (fs::path(directory_) / ("features-" + hex64(fnv1a64(key)) + ".bin")).string();
}

std::optional<TaskData> FeatureCache::load(const std::string& key) const {
    const std::string path = entryPath(key);
    std::error_code ec;
    const uintmax_t fileSize = fs::file_size(path, ec);
    if (ec || fileSize < sizeof kMagic + sizeof(uint64_t)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;

    ChecksummedReader r(in, fileSize - sizeof(uint64_t));
    char magic[sizeof kMagic];
    uint32_t version = 0, byteOrder = 0;
    if (!r.bytes(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) return std::nullopt;
    if (!r.value(version) || version != kFormatVersion) return std::nullopt;
    if (!r.value(byteOrder) || byteOrder != kByteOrderMark) return std::nullopt;
    std::string storedKey;
    // A different key here means an fnv1a64 collision of the file name: a miss, not a hit.
    if (!r.string(storedKey) || storedKey != key) return std::nullopt;

    TaskData data;
    uint32_t classCount = 0;
    if (!r.string(data.task) || !r.string(data.description) || !r.string(data.source)) return std::nullopt;
    if (!r.value(classCount) || classCount > r.remaining() / sizeof(uint64_t)) return std::nullopt;
    data.classNames.resize(classCount);
    for (std::string& name : data.classNames) {
        if (!r.string(name)) return std::nullopt;
    }
    if (!readFloats(r, data.normalization.mean) || !readFloats(r, data.normalization.stdDev)) return std::nullopt;
    if (data.normalization.mean.empty() || data.normalization.mean.size() != data.normalization.stdDev.size()) {
        return std::nullopt;
    }
    if (!readSet(r, data.train) || !readSet(r, data.validation) || !readSet(r, data.test)) return std::nullopt;
    if (r.remaining() != 0) return std::nullopt;

    uint64_t storedChecksum = 0;
    if (!in.read(reinterpret_cast<char*>(&storedChecksum), sizeof storedChecksum)) return std::nullopt;
    if (storedChecksum != r.hash()) return std::nullopt;
    if (!consistent(data.train) || !consistent(data.validation) || !consistent(data.test)) return std::nullopt;
    return data;
}

void FeatureCache::store(const std::string& key, const TaskData& data) const {
    const std::string path = entryPath(key);
    if (!consistent(data.train) || !consistent(data.validation) || !consistent(data.test)) {
        throw InputError(path, "refusing to cache a task whose sequence sets have inconsistent sizes");
    }
    ensureDirectory(directory_);
    // Unique temp name per process and call, in the same folder so that the rename is atomic.
    static std::atomic<uint64_t> counter{0};
    const std::string tempPath = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    {
        std::ofstream out(tempPath, std::ios::binary | std::ios::trunc);
        if (!out) throw InputError(tempPath, "cannot create feature cache file");
        ChecksummedWriter w(out);
        w.bytes(kMagic, sizeof kMagic);
        w.value<uint32_t>(kFormatVersion);
        w.value<uint32_t>(kByteOrderMark);
        w.string(key);
        w.string(data.task);
        w.string(data.description);
        w.string(data.source);
        w.value<uint32_t>(static_cast<uint32_t>(data.classNames.size()));
        for (const std::string& name : data.classNames) w.string(name);
        writeFloats(w, data.normalization.mean);
        writeFloats(w, data.normalization.stdDev);
        writeSet(w, data.train);
        writeSet(w, data.validation);
        writeSet(w, data.test);
        w.finish();
        out.flush();
        if (!out) {
            out.close();
            std::error_code ignored;
            fs::remove(tempPath, ignored);
            throw InputError(tempPath, "cannot write feature cache file (disk full?)");
        }
    }
    std::error_code ec;
    fs::rename(tempPath, path, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(tempPath, ignored);
        throw InputError(path, "cannot move feature cache file into place (" + ec.message() + ")");
    }
}

}  // namespace gruq
