#pragma once
// WAV (and any libsndfile format) decoding to mono float at a target rate, and 16-bit WAV writing.
#include <string>
#include <vector>

namespace gruq {

struct Audio {
    int sampleRate = 0;
    std::vector<float> samples;  // mono, nominally in [-1, 1]
};

// Decodes any file libsndfile reads, mixes channels down to mono. InputError on failure.
Audio readAudioFile(const std::string& path);

// Band-limited resampling with libsamplerate (SRC_SINC_BEST_QUALITY); identity when rates match.
std::vector<float> resample(const std::vector<float>& samples, int fromRate, int toRate);

// readAudioFile + resample to targetRate.
std::vector<float> readAudioResampled(const std::string& path, int targetRate = 16000);

// Zero-pads at the end or crops to exactly `length` samples (keeps the start, as Speech Commands does).
std::vector<float> padOrCrop(const std::vector<float>& samples, size_t length);

// Writes mono 16-bit PCM WAV; samples are clipped to [-1, 1]. InputError naming the path on failure.
void writeWav16(const std::string& path, const std::vector<float>& samples, int sampleRate);

}  // namespace gruq
