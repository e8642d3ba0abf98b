#include "gruq/speechgen/speech_generator.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"
#include "gruq/data/split.h"
#include "gruq/data/wav_io.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace gruq {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------------------------------------
// Speakers

// English accents shipped in Debian's espeak-ng-data/lang/gmw: the speaker-name prefix (what
// espeak-ng calls the voice) and the voice file name.
struct Accent {
    const char* name;
    const char* file;
};
constexpr Accent kAccents[] = {
    {"en", "en"},
    {"en-us", "en-US"},
    {"en-us-nyc", "en-US-nyc"},
    {"en-gb-scotland", "en-GB-scotland"},
    {"en-gb-x-rp", "en-GB-x-rp"},
    {"en-gb-x-gbclan", "en-GB-x-gbclan"},
    {"en-gb-x-gbcwmd", "en-GB-x-gbcwmd"},
    {"en-029", "en-029"},
};

// Variants of espeak's own formant synthesiser. The klatt* variants are left out: their noise
// source is seeded from the wall clock inside espeak-ng, so their output is not reproducible.
constexpr const char* kVariants[] = {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
                                     "f1", "f2", "f3", "f4", "f5", "croak"};

// Appended to every voice file. espeak-ng keeps pitch-flutter and roughness counters, an echo
// buffer and a wall-clock-seeded breath-noise generator across utterances and offers no way to
// reset them, so with these features on, an utterance depends on everything synthesised before
// it in the process. Switched off, a word comes out byte-identical whatever came before.
constexpr const char* kDeterminismOverrides =
    "\n// gruq: make the output independent of earlier utterances\n"
    "flutter 0\n"
    "roughness 8\n"
    "echo 0 0\n"
    "breath 0 0 0 0 0 0 0 0\n";  // all eight: espeak-ng 1.51 clears only part of the old values

// A speaker's stable character: where it sits inside the option ranges (fractions in [0, 1)),
// derived from its name only so that a speaker sounds alike in every run and for every word.
struct SpeakerProfile {
    std::string name;   // e.g. "en-us+f3"
    std::string hash;   // 8 hex digits, the Speech Commands "speaker id"
    double speedFraction = 0.5;
    double pitchFraction = 0.5;
    int pitchRange = 50;  // espeak intonation range 0..100
};

std::vector<SpeakerProfile> speakerProfiles() {
    std::vector<SpeakerProfile> profiles;
    for (const std::string& name : speechGeneratorSpeakers()) {
        SpeakerProfile p;
        p.name = name;
        p.hash = sha1Hex(name).substr(0, 8);
        StableRng rng(fnv1a64("speaker/" + name));
        p.speedFraction = rng.uniform();
        p.pitchFraction = rng.uniform();
        p.pitchRange = 25 + static_cast<int>(rng.below(51));  // 25..75
        profiles.push_back(p);
    }
    return profiles;
}

// ---------------------------------------------------------------------------------------------
// espeak-ng (a process-wide, non-thread-safe library: every call goes through espeakMutex)

std::mutex& espeakMutex() {
    static std::mutex m;
    return m;
}

struct EspeakInfo {
    int sampleRate = 0;
    std::string version;
    std::string dataPath;
};

// Initialises once per process and keeps it: espeak-ng 1.51 hangs in espeak_Synchronize after
// a Terminate + Initialize cycle. Caller holds espeakMutex().
const EspeakInfo& espeakInit() {
    static EspeakInfo info;
    if (info.sampleRate > 0) return info;
    const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0) throw InputError("espeak-ng-data", "cannot initialise espeak-ng (is espeak-ng-data installed?)");
    const char* dataPath = nullptr;
    const char* version = espeak_Info(&dataPath);
    info.sampleRate = rate;
    info.version = version ? version : "unknown";
    info.dataPath = dataPath ? dataPath : "";
    return info;
}

int collectSamples(short* wav, int count, espeak_EVENT* events) {
    if (wav && count > 0 && events && events->user_data)
        static_cast<std::vector<short>*>(events->user_data)->insert(
            static_cast<std::vector<short>*>(events->user_data)->end(), wav, wav + count);
    return 0;  // continue synthesis
}

std::string readTextFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path.string(), "cannot read espeak-ng voice file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeTextFile(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw InputError(path.string(), "cannot write file");
}

// A private folder of combined voice files (accent + variant + determinism overrides), loaded
// with espeak_SetVoiceByFile. espeak-ng lower-cases that path, cuts it at '+' and copies it
// into a 60-byte buffer, hence a short, lower-case folder name and plain numbered files.
class VoiceFolder {
public:
    VoiceFolder(const std::string& dataPath, const std::vector<SpeakerProfile>& speakers) {
        fs::path base = "/tmp";
        std::error_code ec;
        const fs::path tmp = fs::temp_directory_path(ec);
        const std::string t = tmp.string();
        if (!ec && t.size() < 24 && std::none_of(t.begin(), t.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) || c == '+'; }))
            base = tmp;
        for (int attempt = 0;; ++attempt) {
            dir_ = base / ("gruq-espeak-" + std::to_string(::getpid()) + "-" + std::to_string(attempt));
            if (fs::create_directory(dir_, ec)) break;
            if (attempt > 1000 || (ec && ec != std::errc::file_exists))
                throw InputError(dir_.string(), "cannot create temporary espeak-ng voice folder");
        }
        const fs::path data = dataPath;
        for (size_t i = 0; i < speakers.size(); ++i) {
            const std::string& name = speakers[i].name;
            const size_t plus = name.find('+');
            const std::string accentName = name.substr(0, plus), variant = name.substr(plus + 1);
            const Accent* accent = nullptr;
            for (const Accent& a : kAccents)
                if (accentName == a.name) accent = &a;
            std::string text = readTextFile(data / "lang" / "gmw" / accent->file) + "\n";
            std::istringstream variantLines(readTextFile(data / "voices" / "!v" / variant));
            for (std::string line; std::getline(variantLines, line);) {
                // The variant's name/language lines would rename the voice; only its sound matters.
                if (line.rfind("name", 0) == 0 || line.rfind("language", 0) == 0) continue;
                text += line + "\n";
            }
            text += kDeterminismOverrides;
            const fs::path file = dir_ / ("v" + std::to_string(i));
            writeTextFile(file, text);
            files_.push_back(file.string());
        }
    }
    ~VoiceFolder() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    VoiceFolder(const VoiceFolder&) = delete;
    VoiceFolder& operator=(const VoiceFolder&) = delete;
    const std::string& file(size_t speaker) const { return files_[speaker]; }

private:
    fs::path dir_;
    std::vector<std::string> files_;
};

// Caller holds espeakMutex(). Returns 16-bit samples at espeak's own rate.
std::vector<short> synthesise(const std::string& voiceFile, const std::string& text, int wordsPerMinute, int pitch,
                              int pitchRange) {
    if (espeak_SetVoiceByFile(voiceFile.c_str()) != EE_OK)
        throw InputError(voiceFile, "espeak-ng cannot load this voice");
    // Every parameter is set each time so that nothing leaks in from earlier use of the library.
    espeak_SetParameter(espeakRATE, wordsPerMinute, 0);
    espeak_SetParameter(espeakPITCH, pitch, 0);
    espeak_SetParameter(espeakRANGE, pitchRange, 0);
    espeak_SetParameter(espeakVOLUME, 50, 0);  // headroom: espeak's automatic gain control persists too
    espeak_SetParameter(espeakWORDGAP, 0, 0);
    espeak_SetParameter(espeakPUNCTUATION, espeakPUNCT_NONE, 0);
    espeak_SetParameter(espeakCAPITALS, 0, 0);
    std::vector<short> samples;
    const espeak_ERROR status = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                                             nullptr, &samples);
    espeak_Synchronize();
    if (status != EE_OK) throw InputError(voiceFile, "espeak-ng failed to synthesise \"" + text + "\"");
    return samples;
}

// ---------------------------------------------------------------------------------------------
// Noise

double rms(const float* x, size_t n) {
    if (n == 0) return 0;
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    return std::sqrt(sum / static_cast<double>(n));
}

void normaliseRms(std::vector<float>& x, double target) {
    const double r = rms(x.data(), x.size());
    if (r <= 0) return;
    double gain = target / r;
    float peak = 0;
    for (float v : x) peak = std::max(peak, std::fabs(v));
    if (peak * gain > 0.98) gain = 0.98 / peak;  // a noise file must not clip either
    for (float& v : x) v = static_cast<float>(v * gain);
}

// Paul Kellet's economy pink filter (-3 dB/octave within 1 dB above ~10 Hz).
struct PinkFilter {
    double b0 = 0, b1 = 0, b2 = 0;
    double operator()(double white) {
        b0 = 0.99765 * b0 + white * 0.0990460;
        b1 = 0.96300 * b1 + white * 0.2965164;
        b2 = 0.57000 * b2 + white * 1.0526913;
        return b0 + b1 + b2 + white * 0.1848;
    }
};

// Two-pole resonator, unity gain at its centre frequency.
struct Resonator {
    double a = 0, b = 0, c = 0, y1 = 0, y2 = 0;
    void tune(double freq, double bandwidth, int rate) {
        const double r = std::exp(-kPi * bandwidth / rate);
        b = 2 * r * std::cos(2 * kPi * freq / rate);
        c = -r * r;
        a = 1 - b - c;
    }
    double operator()(double x) {
        const double y = a * x + b * y1 + c * y2;
        y2 = y1;
        y1 = y;
        return y;
    }
};

std::vector<float> whiteNoise(StableRng& rng, size_t n) {
    std::vector<float> x(n);
    for (float& v : x) v = static_cast<float>(rng.normal());
    return x;
}

std::vector<float> pinkNoise(StableRng& rng, size_t n) {
    std::vector<float> x(n);
    PinkFilter pink;
    for (float& v : x) v = static_cast<float>(pink(rng.normal()));
    return x;
}

std::vector<float> brownNoise(StableRng& rng, size_t n) {
    // Leaky integration of white noise: 1/f^2 above ~5 Hz without drifting off to DC.
    std::vector<float> x(n);
    double level = 0;
    for (float& v : x) {
        level = 0.998 * level + rng.normal();
        v = static_cast<float>(level);
    }
    return x;
}

std::vector<float> mainsHum(StableRng& rng, size_t n, int rate) {
    const double mains = rng.uniform() < 0.5 ? 50.0 : 60.0;
    double phase[6];
    for (double& p : phase) p = rng.uniform(0, 2 * kPi);
    const double amplitude[6] = {1.0, 0.6, 0.35, 0.25, 0.15, 0.1};
    const double wobbleHz = rng.uniform(0.05, 0.3);
    std::vector<float> x(n);
    PinkFilter pink;
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / rate;
        double v = 0;
        for (int h = 0; h < 6; ++h) v += amplitude[h] * std::sin(2 * kPi * mains * (h + 1) * t + phase[h]);
        v *= 1.0 + 0.15 * std::sin(2 * kPi * wobbleHz * t);
        x[i] = static_cast<float>(v + 0.02 * pink(rng.normal()));
    }
    return x;
}

// Crowd-like murmur: several synthetic "talkers", each a pulse train with a wandering pitch
// through two formant resonators whose targets change every syllable, gated by a syllable
// envelope. Speech-like in rhythm and spectrum, but without words a keyword spotter could learn.
std::vector<float> babble(StableRng& rng, size_t n, int rate) {
    std::vector<double> mix(n, 0.0);
    const int talkers = 6;
    for (int t = 0; t < talkers; ++t) {
        const double basePitch = rng.uniform(90, 240);
        Resonator f1, f2;
        double phase = rng.uniform();
        size_t syllableEnd = 0, syllableStart = 0;
        bool voiced = false;
        double pitch = basePitch, pitchTarget = basePitch, gain = rng.uniform(0.5, 1.0);
        for (size_t i = 0; i < n; ++i) {
            if (i >= syllableEnd) {
                syllableStart = i;
                voiced = rng.uniform() < 0.75;
                syllableEnd = i + static_cast<size_t>(rng.uniform(0.12, 0.32) * rate);
                f1.tune(rng.uniform(300, 850), 90, rate);
                f2.tune(rng.uniform(900, 2400), 140, rate);
                pitchTarget = basePitch * rng.uniform(0.8, 1.25);
            }
            pitch += (pitchTarget - pitch) * 0.0005;
            phase += pitch / rate;
            double pulse = 0;
            if (phase >= 1) {
                phase -= 1;
                pulse = 1;
            }
            const double excitation = pulse + 0.05 * rng.normal();
            double envelope = 0;
            if (voiced) {
                const double u = static_cast<double>(i - syllableStart) / static_cast<double>(syllableEnd - syllableStart);
                envelope = std::sin(kPi * u);
            }
            mix[i] += gain * envelope * (f1(excitation) + 0.5 * f2(excitation));
        }
    }
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(mix[i]);
    return x;
}

struct NoiseSignal {
    std::string fileName;
    std::vector<float> samples;
};

constexpr const char* kNoiseKinds[] = {"white_noise", "pink_noise", "brown_noise", "mains_hum", "babble",
                                       "hum_and_babble"};
constexpr int kNoiseKindCount = sizeof(kNoiseKinds) / sizeof(kNoiseKinds[0]);

NoiseSignal makeNoise(int index, uint64_t seed, size_t n, int rate) {
    StableRng rng(fnv1a64("noise/" + std::to_string(seed) + "/" + std::to_string(index)));
    const int kind = index % kNoiseKindCount;
    NoiseSignal noise;
    noise.fileName = kNoiseKinds[kind];
    if (index >= kNoiseKindCount) noise.fileName += "_" + std::to_string(index / kNoiseKindCount + 1);
    noise.fileName += ".wav";
    switch (kind) {
    case 0: noise.samples = whiteNoise(rng, n); break;
    case 1: noise.samples = pinkNoise(rng, n); break;
    case 2: noise.samples = brownNoise(rng, n); break;
    case 3: noise.samples = mainsHum(rng, n, rate); break;
    case 4: noise.samples = babble(rng, n, rate); break;
    default: {
        std::vector<float> hum = mainsHum(rng, n, rate), talk = babble(rng, n, rate), pink = pinkNoise(rng, n);
        normaliseRms(hum, 0.1);
        normaliseRms(talk, 0.1);
        normaliseRms(pink, 0.1);
        noise.samples.resize(n);
        for (size_t i = 0; i < n; ++i) noise.samples[i] = 0.5f * hum[i] + talk[i] + 0.3f * pink[i];
    }
    }
    normaliseRms(noise.samples, 0.1);
    return noise;
}

// ---------------------------------------------------------------------------------------------
// Utterances

// Everything random about one utterance, drawn up front on the calling thread.
struct UtteranceJob {
    size_t index = 0;
    size_t speaker = 0;
    std::string word;
    std::string path;
    int wordsPerMinute = 175;
    int pitch = 50;
    int pitchRange = 50;
    double shiftSeconds = 0;
    double peakLevel = 0.7;
    bool noisy = false;
    double snrDb = 20;
    size_t noiseIndex = 0;
    double noiseOffsetFraction = 0;
};

constexpr int kEspeakNormalRate = 175;  // espeak's default words per minute

double clampToRange(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

UtteranceJob drawUtterance(const SpeechGeneratorOptions& o, const std::vector<SpeakerProfile>& speakers,
                           const std::string& word, int k, size_t noiseCount) {
    // Seeded per (seed, word, k): the draw does not depend on the other words or thread timing.
    StableRng rng(fnv1a64("utterance/" + std::to_string(o.seed) + "/" + word + "/" + std::to_string(k)));
    UtteranceJob job;
    job.word = word;
    job.speaker = static_cast<size_t>(rng.below(speakers.size()));
    const SpeakerProfile& s = speakers[job.speaker];
    // A speaker keeps its place in the ranges, with some spread from one utterance to the next.
    const double speedSpan = o.maxSpeed - o.minSpeed;
    const double speed = clampToRange(o.minSpeed + speedSpan * (s.speedFraction + rng.uniform(-0.15, 0.15)),
                                      o.minSpeed, o.maxSpeed);
    job.wordsPerMinute = static_cast<int>(std::lround(kEspeakNormalRate * speed));
    const double pitchSpan = o.maxPitch - o.minPitch;
    job.pitch = static_cast<int>(std::lround(clampToRange(
        o.minPitch + pitchSpan * (s.pitchFraction + rng.uniform(-0.15, 0.15)), o.minPitch, o.maxPitch)));
    job.pitchRange = static_cast<int>(clampToRange(s.pitchRange + static_cast<int>(rng.below(21)) - 10, 0, 100));
    job.shiftSeconds = rng.uniform(-o.maxShiftSeconds, o.maxShiftSeconds);
    job.peakLevel = rng.uniform(0.3, 0.9);
    // Always drawn, used or not, so that each value keeps its place in the stream.
    const bool noisy = rng.uniform() < o.noiseProbability;
    job.snrDb = rng.uniform(o.minSnrDb, o.maxSnrDb);
    job.noiseIndex = noiseCount > 0 ? static_cast<size_t>(rng.below(noiseCount)) : 0;
    job.noiseOffsetFraction = rng.uniform();
    job.noisy = noisy && noiseCount > 0;
    return job;
}

// Drops leading/trailing silence: 10 ms frames below -40 dB of the loudest frame.
std::vector<float> trimSilence(const std::vector<short>& raw, int rate) {
    size_t begin = 0, end = raw.size();
    // Exact zeros first: espeak pads a varying amount of them, and the frame grid must not move.
    while (begin < end && raw[begin] == 0) ++begin;
    while (end > begin && raw[end - 1] == 0) --end;
    std::vector<float> x(end - begin);
    for (size_t i = 0; i < x.size(); ++i) x[i] = raw[begin + i] / 32768.0f;
    const size_t frame = static_cast<size_t>(std::max(1, rate / 100));
    const size_t frames = (x.size() + frame - 1) / frame;
    if (frames == 0) return x;
    std::vector<double> energy(frames);
    double loudest = 0;
    for (size_t f = 0; f < frames; ++f) {
        const size_t from = f * frame, to = std::min(x.size(), from + frame);
        energy[f] = rms(x.data() + from, to - from);
        loudest = std::max(loudest, energy[f]);
    }
    const double threshold = std::max(loudest * 0.01, 1e-4);
    size_t first = 0, last = frames - 1;
    while (first < frames && energy[first] < threshold) ++first;
    while (last > first && energy[last] < threshold) --last;
    if (first >= frames) return {};
    // One frame of margin on both sides keeps soft onsets and releases (the "s" of "yes").
    const size_t from = (first > 0 ? first - 1 : 0) * frame;
    const size_t to = std::min(x.size(), (std::min(last + 1, frames - 1) + 1) * frame);
    return std::vector<float>(x.begin() + static_cast<std::ptrdiff_t>(from), x.begin() + static_cast<std::ptrdiff_t>(to));
}

// Places the (resampled) word in a 1 s clip, scales it, mixes in noise.
std::vector<float> renderClip(const UtteranceJob& job, const std::vector<float>& word, int sampleRate,
                              const std::vector<NoiseSignal>& noises) {
    const size_t length = static_cast<size_t>(sampleRate);
    std::vector<float> clip(length, 0.0f);
    float peak = 0;
    for (float v : word) peak = std::max(peak, std::fabs(v));
    if (word.empty() || peak <= 0) return clip;
    const double gain = job.peakLevel / peak;
    // Centred, then shifted; a word longer than the clip loses both ends evenly (before shifting).
    const long offset = std::lround((static_cast<double>(length) - static_cast<double>(word.size())) / 2.0 +
                                    job.shiftSeconds * sampleRate);
    double speechEnergy = 0;
    size_t speechSamples = 0;
    for (size_t i = 0; i < word.size(); ++i) {
        const long at = offset + static_cast<long>(i);
        if (at < 0 || at >= static_cast<long>(length)) continue;
        const float v = static_cast<float>(word[i] * gain);
        clip[static_cast<size_t>(at)] = v;
        speechEnergy += static_cast<double>(v) * v;
        ++speechSamples;
    }
    if (job.noisy && speechSamples > 0) {
        const std::vector<float>& source = noises[job.noiseIndex].samples;
        if (source.size() >= length) {
            const size_t start = static_cast<size_t>(job.noiseOffsetFraction * static_cast<double>(source.size() - length + 1));
            const double noiseRms = rms(source.data() + start, length);
            const double speechRms = std::sqrt(speechEnergy / static_cast<double>(speechSamples));
            if (noiseRms > 0) {
                const double noiseGain = speechRms / std::pow(10.0, job.snrDb / 20.0) / noiseRms;
                for (size_t i = 0; i < length; ++i) clip[i] += static_cast<float>(source[start + i] * noiseGain);
            }
        }
    }
    float mixedPeak = 0;
    for (float v : clip) mixedPeak = std::max(mixedPeak, std::fabs(v));
    if (mixedPeak > 0.99f)
        for (float& v : clip) v *= 0.99f / mixedPeak;
    return clip;
}

// ---------------------------------------------------------------------------------------------
// Pipeline: one synthesis thread (the caller) feeds a bounded queue, workers finish the clips.

struct SynthesisedUtterance {
    size_t job = 0;
    std::vector<short> raw;
};

class WorkQueue {
public:
    explicit WorkQueue(size_t capacity) : capacity_(capacity) {}
    // Returns false when the queue was aborted.
    bool push(SynthesisedUtterance item) {
        std::unique_lock<std::mutex> lock(mutex_);
        notFull_.wait(lock, [&] { return items_.size() < capacity_ || aborted_; });
        if (aborted_) return false;
        items_.push_back(std::move(item));
        notEmpty_.notify_one();
        return true;
    }
    bool pop(SynthesisedUtterance& item) {
        std::unique_lock<std::mutex> lock(mutex_);
        notEmpty_.wait(lock, [&] { return !items_.empty() || closed_ || aborted_; });
        if (aborted_ || items_.empty()) return false;
        item = std::move(items_.front());
        items_.pop_front();
        notFull_.notify_one();
        return true;
    }
    void close() {
        std::lock_guard<std::mutex> lock(mutex_);
        closed_ = true;
        notEmpty_.notify_all();
    }
    void abort() {
        std::lock_guard<std::mutex> lock(mutex_);
        aborted_ = true;
        notEmpty_.notify_all();
        notFull_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable notFull_, notEmpty_;
    std::deque<SynthesisedUtterance> items_;
    size_t capacity_;
    bool closed_ = false, aborted_ = false;
};

std::string optionsSummary(const SpeechGeneratorOptions& o) {
    std::ostringstream s;
    s << "words: ";
    for (size_t i = 0; i < o.words.size(); ++i) s << (i ? " " : "") << o.words[i];
    s << "\nutterances per word: " << o.utterancesPerWord << "\nseed: " << o.seed
      << "\nsample rate: " << o.sampleRate << " Hz, 16-bit mono, 1 s per clip"
      << "\nspeed: " << o.minSpeed << " .. " << o.maxSpeed << " x " << kEspeakNormalRate << " words per minute"
      << "\nespeak pitch: " << o.minPitch << " .. " << o.maxPitch
      << "\ntime shift: up to +-" << o.maxShiftSeconds << " s around the centre"
      << "\nnoise probability: " << o.noiseProbability << ", SNR " << o.minSnrDb << " .. " << o.maxSnrDb << " dB"
      << "\nbackground noise files: " << o.backgroundNoiseFiles << " x " << o.backgroundNoiseSeconds << " s\n";
    return s.str();
}

void writeReadme(const fs::path& root, const SpeechGeneratorOptions& o, const EspeakInfo& espeak,
                 const std::vector<SpeakerProfile>& speakers) {
    std::ostringstream s;
    s << "Synthetic keyword-spotting data in the layout of Google's Speech Commands dataset\n"
      << "=================================================================================\n\n"
      << "Made by gruq's speech generator with eSpeak NG " << espeak.version << " (in-process, formant\n"
      << "synthesis, " << espeak.sampleRate << " Hz, resampled). No recorded human speech is included.\n"
      << "The same options and seed reproduce these files byte for byte with the same eSpeak NG\n"
      << "version and voice data.\n\n"
      << "Layout: <word>/<speaker>_nohash_<n>.wav, where <speaker> is the first 8 hex digits of\n"
      << "SHA-1(voice name) and n counts that speaker's utterances of the word, so the dataset's\n"
      << "hash-based train/validation/test split keeps each speaker in one partition.\n"
      << "_background_noise_/ holds the noise recordings that were mixed into the utterances.\n\n"
      << "Each utterance: a speaker (eSpeak NG accent + voice variant, with a fixed base speed,\n"
      << "pitch and intonation range), a speed and pitch near that base, silence trimmed, a random\n"
      << "time shift, peak level 0.3 .. 0.9, and with the given probability a random segment of a\n"
      << "background noise at a random SNR.\n\n"
      << "Options\n-------\n" << optionsSummary(o) << "\nSpeakers (" << speakers.size() << ")\n--------\n";
    for (const SpeakerProfile& p : speakers) s << p.hash << "  " << p.name << "\n";
    writeTextFile(root / "README.txt", s.str());

    writeTextFile(root / "LICENSE.txt",
                  "The audio in this folder is synthetic: it was computed by gruq with the eSpeak NG\n"
                  "speech synthesiser (https://github.com/espeak-ng/espeak-ng, GPL-3.0-or-later) and\n"
                  "generated noise. It contains no recordings of people. eSpeak NG's licence covers the\n"
                  "program and its voice data, not speech produced with it; check the terms that apply\n"
                  "to your use before redistributing these files.\n");
}

void reportProgress(const ProgressFn& progress, const std::string& stage, int64_t done, int64_t total,
                    std::chrono::steady_clock::time_point started) {
    if (!progress) return;
    Progress p;
    p.stage = stage;
    p.done = done;
    p.total = total;
    p.elapsedSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    progress(p);
}

void checkOptions(const SpeechGeneratorOptions& o) {
    auto bad = [&](const std::string& what) { throw InputError(o.outputDir, "speech generator: " + what); };
    if (o.outputDir.empty()) bad("no output folder given");
    if (o.words.empty()) bad("no words given");
    std::set<std::string> unique;
    for (const std::string& w : o.words) {
        if (w.empty() || w == "_background_noise_" || w.find('/') != std::string::npos || w == "." || w == "..")
            bad("\"" + w + "\" cannot be a word folder name");
        if (!unique.insert(w).second) bad("word \"" + w + "\" is listed twice");
    }
    if (o.utterancesPerWord < 1) bad("utterancesPerWord must be at least 1");
    if (o.sampleRate < 4000 || o.sampleRate > 96000) bad("sampleRate must be 4000..96000 Hz");
    if (!(o.minSpeed > 0) || o.maxSpeed < o.minSpeed) bad("speed range must be positive and ordered");
    if (o.minPitch < 0 || o.maxPitch > 100 || o.maxPitch < o.minPitch) bad("pitch range must lie in 0..100");
    if (o.maxShiftSeconds < 0 || o.maxShiftSeconds > 0.5) bad("maxShiftSeconds must be 0..0.5");
    if (o.noiseProbability < 0 || o.noiseProbability > 1) bad("noiseProbability must be 0..1");
    if (o.maxSnrDb < o.minSnrDb) bad("SNR range must be ordered");
    if (o.backgroundNoiseFiles < 0) bad("backgroundNoiseFiles must not be negative");
    if (o.backgroundNoiseFiles > 0 && !(o.backgroundNoiseSeconds >= 1.0))
        bad("backgroundNoiseSeconds must be at least 1 (one clip)");
}

}  // namespace

std::vector<std::string> speechGeneratorSpeakers() {
    std::vector<std::string> names;
    for (const Accent& a : kAccents)
        for (const char* v : kVariants) names.push_back(std::string(a.name) + "+" + v);
    return names;
}

SpeechGeneratorReport generateSpeechCommands(const SpeechGeneratorOptions& options, const ProgressFn& progress,
                                             const CancelFlag* cancel) {
    const auto started = std::chrono::steady_clock::now();
    auto cancelled = [&] { return cancel && cancel->isRequested(); };
    if (cancelled()) throw Cancelled();
    checkOptions(options);

    const fs::path root = options.outputDir;
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec || !fs::is_directory(root)) throw InputError(options.outputDir, "cannot create folder: " + ec.message());
    for (const std::string& w : options.words) {
        fs::create_directories(root / w, ec);
        if (ec) throw InputError((root / w).string(), "cannot create folder: " + ec.message());
    }

    // Background noise: written as files and kept in memory for mixing.
    std::vector<NoiseSignal> noises;
    if (options.backgroundNoiseFiles > 0) {
        const fs::path noiseDir = root / "_background_noise_";
        fs::create_directories(noiseDir, ec);
        if (ec) throw InputError(noiseDir.string(), "cannot create folder: " + ec.message());
        const size_t n = static_cast<size_t>(std::lround(options.backgroundNoiseSeconds * options.sampleRate));
        for (int i = 0; i < options.backgroundNoiseFiles; ++i) {
            if (cancelled()) throw Cancelled();
            reportProgress(progress, "background noise", i, options.backgroundNoiseFiles, started);
            noises.push_back(makeNoise(i, options.seed, n, options.sampleRate));
            writeWav16((noiseDir / noises.back().fileName).string(), noises.back().samples, options.sampleRate);
        }
        reportProgress(progress, "background noise", options.backgroundNoiseFiles, options.backgroundNoiseFiles, started);
    }

    // Draw every utterance first: the per-speaker counters in the file names need word order.
    const std::vector<SpeakerProfile> speakers = speakerProfiles();
    std::vector<UtteranceJob> jobs;
    jobs.reserve(options.words.size() * static_cast<size_t>(options.utterancesPerWord));
    std::set<size_t> speakersUsed;
    for (const std::string& word : options.words) {
        std::map<size_t, int> perSpeaker;
        for (int k = 0; k < options.utterancesPerWord; ++k) {
            UtteranceJob job = drawUtterance(options, speakers, word, k, noises.size());
            job.index = jobs.size();
            const int n = perSpeaker[job.speaker]++;
            job.path = (root / word / (speakers[job.speaker].hash + "_nohash_" + std::to_string(n) + ".wav")).string();
            speakersUsed.insert(job.speaker);
            jobs.push_back(std::move(job));
        }
    }
    const int64_t total = static_cast<int64_t>(jobs.size());

    std::unique_lock<std::mutex> espeakLock(espeakMutex());
    const EspeakInfo& espeak = espeakInit();
    const VoiceFolder voices(espeak.dataPath, speakers);
    espeak_SetSynthCallback(collectSamples);

    // Workers: trim, resample, place, mix, write.
    const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
    const size_t workerCount = options.threads > 0 ? static_cast<size_t>(options.threads) : hardware;
    WorkQueue queue(4 * workerCount + 4);
    std::atomic<int64_t> finished{0};
    std::atomic<bool> failed{false};
    std::mutex errorMutex;
    std::exception_ptr firstError;
    auto fail = [&](std::exception_ptr e) {
        std::lock_guard<std::mutex> lock(errorMutex);
        if (!firstError) firstError = e;
        failed = true;
        queue.abort();
    };
    std::vector<std::thread> workers;
    for (size_t t = 0; t < workerCount; ++t) {
        workers.emplace_back([&] {
            SynthesisedUtterance item;
            while (queue.pop(item)) {
                try {
                    if (cancelled()) {
                        queue.abort();
                        return;
                    }
                    const UtteranceJob& job = jobs[item.job];
                    const std::vector<float> word = resample(trimSilence(item.raw, espeak.sampleRate),
                                                             espeak.sampleRate, options.sampleRate);
                    const std::vector<float> clip =
                        padOrCrop(renderClip(job, word, options.sampleRate, noises), static_cast<size_t>(options.sampleRate));
                    writeWav16(job.path, clip, options.sampleRate);
                    ++finished;
                } catch (...) {
                    fail(std::current_exception());
                    return;
                }
            }
        });
    }

    auto lastReport = std::chrono::steady_clock::now();
    auto maybeReport = [&](bool force) {
        const auto now = std::chrono::steady_clock::now();
        if (force || now - lastReport > std::chrono::milliseconds(100)) {
            lastReport = now;
            reportProgress(progress, "synthesising", finished.load(), total, started);
        }
    };
    try {
        reportProgress(progress, "synthesising", 0, total, started);
        for (const UtteranceJob& job : jobs) {
            if (cancelled() || failed) break;
            SynthesisedUtterance item;
            item.job = job.index;
            item.raw = synthesise(voices.file(job.speaker), job.word, job.wordsPerMinute, job.pitch, job.pitchRange);
            if (!queue.push(std::move(item))) break;
            maybeReport(false);
        }
    } catch (...) {
        fail(std::current_exception());
    }
    espeakLock.unlock();
    queue.close();
    for (std::thread& w : workers) w.join();

    if (firstError) std::rethrow_exception(firstError);
    if (cancelled()) throw Cancelled();
    maybeReport(true);

    writeReadme(root, options, espeak, speakers);

    SpeechGeneratorReport report;
    report.speakers = static_cast<int>(speakersUsed.size());
    report.utterances = total;
    report.outputDir = options.outputDir;
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
}

}  // namespace gruq
