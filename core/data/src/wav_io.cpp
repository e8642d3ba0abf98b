#include "gruq/data/wav_io.h"

#include "gruq/base/errors.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <system_error>

namespace gruq {
namespace {

struct SndfileCloser {
    void operator()(SNDFILE* file) const {
        if (file) sf_close(file);
    }
};
using SndfileHandle = std::unique_ptr<SNDFILE, SndfileCloser>;

}  // namespace

Audio readAudioFile(const std::string& path) {
    // Checked up front so that the message is clear (libsndfile's open error is a process-wide
    // string and would be vague or, under concurrency, belong to another file).
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw InputError(path, "audio file does not exist");
    if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path, "not a regular file");

    SF_INFO info{};
    SndfileHandle file(sf_open(path.c_str(), SFM_READ, &info));
    if (!file) {
        throw InputError(path, std::string("cannot decode audio (") + sf_strerror(nullptr) + ")");
    }
    if (info.channels <= 0 || info.samplerate <= 0) {
        throw InputError(path, "audio file has no channels or no sample rate");
    }

    const int channels = info.channels;
    Audio audio;
    audio.sampleRate = info.samplerate;
    // info.frames is only the header's claim (a 42-byte FLAC header can claim 2^36 frames): a capped
    // hint, so that a lying header cannot make us allocate what the decoded data never fills.
    constexpr sf_count_t kMaxReservedFrames = sf_count_t(1) << 22;
    audio.samples.reserve(static_cast<size_t>(std::clamp<sf_count_t>(info.frames, 0, kMaxReservedFrames)));

    // Read in blocks rather than trusting info.frames, which some containers only estimate.
    constexpr sf_count_t kBlockFrames = 8192;
    // 64 Mi samples (70 minutes at 16 kHz, 256 MB as float), far beyond any clip or noise recording.
    // The limit matters because compressed formats can be bombs: 15 kB of FLAC constant frames
    // decode to 72 million samples, 1.5 MB to 7 billion.
    constexpr size_t kMaxSamples = size_t(1) << 26;
    std::vector<float> block(static_cast<size_t>(kBlockFrames * channels));
    const float channelWeight = 1.0f / static_cast<float>(channels);
    for (;;) {
        const sf_count_t got = sf_readf_float(file.get(), block.data(), kBlockFrames);
        if (got <= 0) break;
        if (audio.samples.size() + static_cast<size_t>(got) > kMaxSamples) {
            throw InputError(path, "audio longer than " + std::to_string(kMaxSamples) +
                                       " samples (over an hour at 16 kHz), too long for a clip or noise recording");
        }
        bool finite = true;
        for (sf_count_t f = 0; f < got; ++f) {
            const float* frame = block.data() + f * channels;
            float sum = 0.0f;
            for (int c = 0; c < channels; ++c) sum += frame[c];
            const float mono = channels == 1 ? sum : sum * channelWeight;
            finite = finite && std::isfinite(mono);
            audio.samples.push_back(mono);
        }
        // Float files can hold NaN or infinity; they would silently poison features and training.
        if (!finite) {
            throw InputError(path, "audio holds non-finite samples (NaN or infinity) near frame " +
                                       std::to_string(audio.samples.size()));
        }
    }
    if (sf_error(file.get()) != SF_ERR_NO_ERROR) {
        throw InputError(path, std::string("error while decoding audio (") + sf_strerror(file.get()) + ")");
    }
    return audio;
}

std::vector<float> resample(const std::vector<float>& samples, int fromRate, int toRate) {
    if (fromRate <= 0 || toRate <= 0) {
        throw InputError("resampling", "sample rates must be positive (from " + std::to_string(fromRate) +
                                           " to " + std::to_string(toRate) + ")");
    }
    if (fromRate == toRate || samples.empty()) return samples;

    const double ratio = static_cast<double>(toRate) / static_cast<double>(fromRate);
    // Checked before the output is allocated: a file claiming 1 Hz would otherwise ask for 16000
    // output samples per input sample, only for libsamplerate to refuse the ratio afterwards.
    if (!src_is_valid_ratio(ratio)) {
        throw InputError("resampling", "cannot resample from " + std::to_string(fromRate) + " Hz to " +
                                           std::to_string(toRate) + " Hz (libsamplerate allows ratios 1/256..256)");
    }
    // The exact length a resampled signal should have; libsamplerate's output can be a sample
    // or so off, so the result is padded / cropped to it for a predictable length.
    const auto expected = static_cast<size_t>(std::llround(static_cast<double>(samples.size()) * ratio));
    std::vector<float> out(expected + 64);

    SRC_DATA data{};
    data.data_in = samples.data();
    data.input_frames = static_cast<long>(samples.size());
    data.data_out = out.data();
    data.output_frames = static_cast<long>(out.size());
    data.end_of_input = 1;
    data.src_ratio = ratio;
    const int err = src_simple(&data, SRC_SINC_BEST_QUALITY, 1);
    if (err != 0) {
        throw InputError("resampling", std::string("libsamplerate failed: ") + src_strerror(err));
    }
    out.resize(static_cast<size_t>(data.output_frames_gen));
    out.resize(expected, 0.0f);
    return out;
}

std::vector<float> readAudioResampled(const std::string& path, int targetRate) {
    Audio audio = readAudioFile(path);
    if (audio.sampleRate == targetRate) return std::move(audio.samples);
    try {
        return resample(audio.samples, audio.sampleRate, targetRate);
    } catch (const InputError& e) {
        throw InputError(path, e.problem());  // name the file, not "resampling"
    }
}

std::vector<float> padOrCrop(const std::vector<float>& samples, size_t length) {
    std::vector<float> out(length, 0.0f);
    std::copy_n(samples.begin(), std::min(length, samples.size()), out.begin());
    return out;
}

void writeWav16(const std::string& path, const std::vector<float>& samples, int sampleRate) {
    if (sampleRate <= 0) throw InputError(path, "sample rate must be positive");

    // Quantize ourselves with the same 1/32768 scale libsndfile uses when reading 16-bit PCM back as
    // float, so that a write + read round trip is exact to half a step (one step at +1.0).
    std::vector<short> pcm(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
        float v = samples[i];
        if (!std::isfinite(v)) v = 0.0f;
        v = std::clamp(v, -1.0f, 1.0f);
        const long q = std::lrint(static_cast<double>(v) * 32768.0);
        pcm[i] = static_cast<short>(std::clamp<long>(q, -32768, 32767));
    }

    SF_INFO info{};
    info.samplerate = sampleRate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SndfileHandle file(sf_open(path.c_str(), SFM_WRITE, &info));
    if (!file) {
        throw InputError(path, std::string("cannot create WAV file (") + sf_strerror(nullptr) + ")");
    }
    const auto frames = static_cast<sf_count_t>(pcm.size());
    if (sf_writef_short(file.get(), pcm.data(), frames) != frames) {
        throw InputError(path, std::string("cannot write WAV data (") + sf_strerror(file.get()) + ")");
    }
    if (sf_close(file.release()) != 0) throw InputError(path, "cannot finish WAV file");
}

}  // namespace gruq
