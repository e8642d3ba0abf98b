// libFuzzer target for the audio reader (core/data/src/wav_io.cpp): readAudioFile (libsndfile, any format
// it recognises by content: WAV, AIFF, AU, FLAC, ...) and the resampling of readAudioResampled.
//
// The input is written as a ".wav" file and decoded. Acceptable: InputError, or audio with a positive
// sample rate whose samples are all finite. The decoded audio is then resampled to 16 kHz as
// readAudioResampled does; that must give exactly round(n * 16000 / rate) samples or InputError. To
// keep executions fast, resampling is skipped when it would produce more than 2^17 samples from a
// valid ratio (libsamplerate's cost grows with the output); invalid ratios are always tried, since
// they must be refused before anything is allocated.
// libsndfile and libsamplerate are the system's (not instrumented): the fuzzer gets no coverage from
// inside them, and AddressSanitizer sees their heap only through the allocator and libc interceptors.
// So that the corpus still keeps one input per thing libsndfile distinguishes, each input is also
// probed with sf_open_virtual and the detected format, subtype, channel count, open error and decoded
// length are reported to libFuzzer as extra coverage counters.
// Build and seeds: scripts/fuzz.sh (target fuzz_wav).
#include "fuzz_support.h"

#include "gruq/data/wav_io.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace {

constexpr int kTargetRate = 16000;  // what every task resamples to
constexpr double kMaxResampledSamples = 1 << 17;

// libFuzzer treats every non-zero byte in this section as a coverage feature (FuzzerExtraCounters.cpp)
// and clears them before each execution. Regions: major format x subtype, open error, major format x
// log2(channels), major format x log2(decoded samples).
constexpr size_t kFormatRegion = 64 * 256, kErrorRegion = 512, kChannelRegion = 64 * 12, kLengthRegion = 64 * 40;
__attribute__((used, section("__libfuzzer_extra_counters")))
uint8_t extraCounters[kFormatRegion + kErrorRegion + kChannelRegion + kLengthRegion];

int log2Bucket(uint64_t v, int buckets) {
    int b = 0;
    while (v > 1 && b < buckets - 1) v >>= 1, ++b;
    return b;
}

struct Memory {
    const uint8_t* data;
    sf_count_t size, pos = 0;
};
sf_count_t memLength(void* user) { return static_cast<Memory*>(user)->size; }
sf_count_t memSeek(sf_count_t offset, int whence, void* user) {
    auto* m = static_cast<Memory*>(user);
    const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    if (offset > m->size || offset < -m->size) return -1;
    const sf_count_t to = base + offset;
    if (to < 0 || to > m->size) return -1;
    return m->pos = to;
}
sf_count_t memRead(void* out, sf_count_t count, void* user) {
    auto* m = static_cast<Memory*>(user);
    const sf_count_t n = std::clamp<sf_count_t>(m->size - m->pos, 0, std::max<sf_count_t>(count, 0));
    std::memcpy(out, m->data + m->pos, size_t(n));
    m->pos += n;
    return n;
}
sf_count_t memWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t memTell(void* user) { return static_cast<Memory*>(user)->pos; }

// Marks what libsndfile makes of the input; returns the major format index (0..63).
int probeFormat(const uint8_t* data, size_t size) {
    SF_VIRTUAL_IO io{memLength, memSeek, memRead, memWrite, memTell};
    Memory memory{data, sf_count_t(size)};
    SF_INFO info{};
    SNDFILE* file = sf_open_virtual(&io, SFM_READ, &info, &memory);
    if (!file) {
        extraCounters[kFormatRegion + size_t(sf_error(nullptr) & (kErrorRegion - 1))] = 1;
        return 0;
    }
    const int major = (info.format >> 16) & 63;
    extraCounters[size_t(major) * 256 + size_t(info.format & 0xff)] = 1;
    const int channels = log2Bucket(uint64_t(std::max(info.channels, 0)), 12);
    extraCounters[kFormatRegion + kErrorRegion + size_t(major) * 12 + size_t(channels)] = 1;
    sf_close(file);
    return major;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = fuzz::scratchDir("wav") + "/input.wav";
    fuzz::writeFile(path, data, size);

    const int major = probeFormat(data, size);
    gruq::Audio audio;
    if (!fuzz::acceptedOrInputError([&] { audio = gruq::readAudioFile(path); })) return 0;
    extraCounters[kFormatRegion + kErrorRegion + kChannelRegion + size_t(major) * 40 +
                  size_t(log2Bucket(audio.samples.size(), 40))] = 1;
    if (audio.sampleRate <= 0) fuzz::invariantBroken("accepted audio without a positive sample rate");
    for (float s : audio.samples) {
        if (!std::isfinite(s)) fuzz::invariantBroken("accepted audio with a non-finite sample");
    }

    const double ratio = double(kTargetRate) / audio.sampleRate;
    const double outSamples = double(audio.samples.size()) * ratio;
    const bool validRatio = ratio >= 1.0 / 256 && ratio <= 256;
    if (validRatio && outSamples > kMaxResampledSamples) return 0;
    std::vector<float> resampled;
    if (!fuzz::acceptedOrInputError([&] { resampled = gruq::resample(audio.samples, audio.sampleRate, kTargetRate); })) {
        return 0;
    }
    if (!validRatio && !audio.samples.empty() && audio.sampleRate != kTargetRate) {
        fuzz::invariantBroken("resampling accepted a ratio outside libsamplerate's 1/256..256");
    }
    const size_t expected = audio.samples.empty() ? 0 : size_t(std::llround(outSamples));
    if (resampled.size() != expected) fuzz::invariantBroken("resampled length != round(n * ratio)");
    return 0;
}
