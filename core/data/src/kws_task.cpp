#include "gruq/data/kws_task.h"

#include "gruq/base/text.h"
#include "gruq/base/errors.h"
#include "gruq/data/feature_cache.h"
#include "gruq/base/hashing.h"
#include "gruq/base/paths.h"
#include "gruq/data/speech_commands.h"
#include "gruq/data/split.h"
#include "gruq/data/wav_io.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

namespace fs = std::filesystem;

namespace gruq {
namespace {

const char* const kUnknownClass = "_unknown_";
const char* const kSilenceClass = "_silence_";
const char* const kStage = "computing MFCC features";
constexpr int kSplitCount = 3;  // training, validation, testing

int splitIndex(Partition p) {
    switch (p) {
        case Partition::Training: return 0;
        case Partition::Validation: return 1;
        case Partition::Testing: return 2;
    }
    return 0;
}

// One sequence to compute: a clip to decode, or a crop of a decoded background-noise file.
struct FeatureJob {
    std::string path;      // absolute path of the clip; empty for a noise crop
    int noiseFile = -1;    // index into the decoded noise files for _silence_
    size_t noiseOffset = 0;
    int32_t label = 0;
    int split = 0;
    int64_t row = 0;       // row inside its split
};

// Folds a file's relative path, size, modification time and partition into the running hash:
// any edit, replacement or re-split of an input file changes the cache key.
uint64_t hashFileIdentity(uint64_t hash, const fs::path& root, const std::string& relativePath, int split) {
    const fs::path full = root / relativePath;
    std::error_code ec;
    const uintmax_t size = fs::file_size(full, ec);
    if (ec) throw InputError(full.string(), "cannot read file size (" + ec.message() + ")");
    const auto mtime = fs::last_write_time(full, ec);
    if (ec) throw InputError(full.string(), "cannot read modification time (" + ec.message() + ")");
    const std::string line = relativePath + '\t' + std::to_string(size) + '\t' +
                             std::to_string(mtime.time_since_epoch().count()) + '\t' + std::to_string(split) + '\n';
    return fnv1a64(line, hash);
}

// A clip's samples at `rate`. Errors always name the clip, also those of the resampling step, which
// only knows the rates (an absurd rate in a WAV header shows up there).
std::vector<float> readClip(const std::string& path, int rate) {
    Audio audio = readAudioFile(path);
    if (audio.sampleRate == rate) return std::move(audio.samples);
    // libsamplerate converts by at most a factor of 256 either way.
    if (audio.sampleRate < rate / 256 + 1 || audio.sampleRate / 256 > rate) {
        throw InputError(path, "sample rate " + std::to_string(audio.sampleRate) + " Hz cannot be resampled to " +
                                   std::to_string(rate) + " Hz (a damaged header?)");
    }
    try {
        return resample(audio.samples, audio.sampleRate, rate);
    } catch (const InputError& e) {
        throw InputError(path, e.problem());
    }
}

// Row-major copy of `features` into row `row` of a split's x.
void placeRow(SequenceSet& set, int64_t row, const std::vector<float>& features) {
    std::copy(features.begin(), features.end(), set.x.begin() + row * set.sequenceSize());
}

}  // namespace

std::vector<std::string> kwsKeywords(int keywordCount) {
    if (keywordCount == 4) return {"yes", "no", "up", "down"};
    if (keywordCount == 10) return {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
    throw InputError("KWS options", "keyword count must be 4 or 10, got " + std::to_string(keywordCount));
}

TaskData loadKwsTask(const KwsTaskOptions& options, const ProgressFn& progress, const CancelFlag* cancel) {
    if (cancel && cancel->isRequested()) throw Cancelled();
    const std::vector<std::string> keywords = kwsKeywords(options.keywordCount);
    options.mfcc.validate();
    if (options.clipSamples <= 0) {
        throw InputError("KWS options", "clip length must be positive, got " + std::to_string(options.clipSamples));
    }
    if (!(options.unknownFraction >= 0.0) || !(options.silenceFraction >= 0.0)) {
        throw InputError("KWS options", "unknown / silence fractions must be >= 0");
    }

    const std::string directory = options.directory.empty() ? defaultSpeechCommandsDir() : options.directory;
    const fs::path root(directory);
    const SpeechCommandsIndex index = indexSpeechCommands(directory);

    // Keyword folders must all be there: a silently smaller class set would be a different task.
    for (const std::string& word : keywords) {
        if (!std::binary_search(index.words.begin(), index.words.end(), word)) {
            throw InputError(directory, "keyword folder \"" + word + "\" is missing (expected " +
                                            (root / word).string() + ")");
        }
    }

    std::vector<std::string> classNames = keywords;
    if (options.includeUnknown) classNames.push_back(kUnknownClass);
    if (options.includeSilence) classNames.push_back(kSilenceClass);
    const auto unknownLabel = static_cast<int32_t>(keywords.size());
    const auto silenceLabel = static_cast<int32_t>(keywords.size() + (options.includeUnknown ? 1 : 0));

    // Keyword clips (label = position in kwsKeywords) and, per split, the candidates for _unknown_.
    std::vector<const Clip*> keywordClips;
    std::vector<int32_t> keywordLabels;
    std::vector<const Clip*> unknownCandidates[kSplitCount];
    std::vector<int64_t> keywordClipsPerSplit(kSplitCount, 0);
    std::vector<int64_t> clipsPerKeyword(keywords.size(), 0);
    for (const Clip& clip : index.clips) {
        const auto it = std::find(keywords.begin(), keywords.end(), clip.word);
        if (it != keywords.end()) {
            const auto label = static_cast<int32_t>(it - keywords.begin());
            keywordClips.push_back(&clip);
            keywordLabels.push_back(label);
            ++keywordClipsPerSplit[static_cast<size_t>(splitIndex(clip.partition))];
            ++clipsPerKeyword[static_cast<size_t>(label)];
        } else {
            unknownCandidates[splitIndex(clip.partition)].push_back(&clip);
        }
    }
    for (size_t k = 0; k < keywords.size(); ++k) {
        if (clipsPerKeyword[k] == 0) throw InputError((root / keywords[k]).string(), "keyword folder has no WAV clips");
    }
    if (keywordClipsPerSplit[0] == 0) {
        throw InputError(directory, "no keyword clip falls in the training split");
    }
    if (options.includeSilence && index.backgroundNoise.empty()) {
        throw InputError((root / "_background_noise_").string(),
                         "the _silence_ class needs background noise WAV files here");
    }

    // Cache key: every option that changes the output, plus the identity of every input file.
    uint64_t filesHash = 0xcbf29ce484222325ULL;
    int64_t filesHashed = 0;
    for (const Clip* clip : keywordClips) {
        filesHash = hashFileIdentity(filesHash, root, clip->relativePath, splitIndex(clip->partition));
        ++filesHashed;
    }
    if (options.includeUnknown) {
        for (int s = 0; s < kSplitCount; ++s) {
            for (const Clip* clip : unknownCandidates[s]) {
                filesHash = hashFileIdentity(filesHash, root, clip->relativePath, s);
                ++filesHashed;
            }
        }
    }
    if (options.includeSilence) {
        for (const std::string& noise : index.backgroundNoise) {
            filesHash = hashFileIdentity(filesHash, root, noise, -1);
            ++filesHashed;
        }
    }
    std::string key = "gruq-kws-v1\nkeywords=" + joined(keywords, ",") + "\n";
    key += options.includeUnknown ? "unknown=" + formatNumber(options.unknownFraction) + "\n" : "unknown=off\n";
    key += options.includeSilence ? "silence=" + formatNumber(options.silenceFraction) + "\n" : "silence=off\n";
    key += "seed=" + std::to_string(options.seed) + "\nclip_samples=" + std::to_string(options.clipSamples) + "\n";
    key += options.mfcc.key() + "\n";
    key += "files=" + std::to_string(filesHashed) + ":" + hex64(filesHash) + "\n";

    const std::string cacheDir = options.cacheDir.empty() ? userCacheDir() + "/features" : options.cacheDir;
    const FeatureCache cache(cacheDir);
    if (options.useCache) {
        if (std::optional<TaskData> cached = cache.load(key)) {
            cached->source = directory;  // the same files may have been reached through another path
            if (progress) progress(Progress{"loading cached features", 1, 1, 0.0, cache.entryPath(key)});
            return std::move(*cached);
        }
    }

    const MfccExtractor extractor(options.mfcc);
    const int frames = extractor.frameCount(static_cast<size_t>(options.clipSamples));
    const int coefficients = options.mfcc.coefficients;
    if (frames <= 0) {
        throw InputError("KWS options", "clip length (" + std::to_string(options.clipSamples) +
                                            " samples) is shorter than one MFCC window");
    }

    // Plan every sequence. Selections use StableRng (never std::distributions) so that a seed gives the
    // same task on every platform; unknown and silence draw from separate streams so that toggling one
    // does not change the other.
    std::vector<FeatureJob> jobs;
    int64_t rowsPerSplit[kSplitCount] = {0, 0, 0};
    auto addJob = [&](FeatureJob job) {
        job.row = rowsPerSplit[job.split]++;
        jobs.push_back(std::move(job));
    };
    for (size_t i = 0; i < keywordClips.size(); ++i) {
        FeatureJob job;
        job.path = (root / keywordClips[i]->relativePath).string();
        job.label = keywordLabels[i];
        job.split = splitIndex(keywordClips[i]->partition);
        addJob(std::move(job));
    }
    if (options.includeUnknown) {
        StableRng rng(options.seed ^ 0x756e6b6e6f776eULL);
        for (int s = 0; s < kSplitCount; ++s) {
            std::vector<const Clip*> picked = unknownCandidates[s];
            stableShuffle(picked, rng);
            const auto cap = static_cast<size_t>(
                std::llround(options.unknownFraction * static_cast<double>(keywordClipsPerSplit[static_cast<size_t>(s)])));
            picked.resize(std::min(cap, picked.size()));
            std::sort(picked.begin(), picked.end(),
                      [](const Clip* a, const Clip* b) { return a->relativePath < b->relativePath; });
            for (const Clip* clip : picked) {
                FeatureJob job;
                job.path = (root / clip->relativePath).string();
                job.label = unknownLabel;
                job.split = s;
                addJob(std::move(job));
            }
        }
    }
    std::vector<std::vector<float>> noise;
    if (options.includeSilence) {
        for (const std::string& rel : index.backgroundNoise) {
            if (cancel && cancel->isRequested()) throw Cancelled();
            noise.push_back(readClip((root / rel).string(), options.mfcc.sampleRate));
        }
        // Each noise file is cut into disjoint regions per split (80 / 10 / 10 %), so that no stretch of
        // noise is both trained on and tested on.
        const double regionStart[kSplitCount] = {0.0, 0.8, 0.9};
        const double regionEnd[kSplitCount] = {0.8, 0.9, 1.0};
        StableRng rng(options.seed ^ 0x73696c656e6365ULL);
        const auto clip = static_cast<size_t>(options.clipSamples);
        for (int s = 0; s < kSplitCount; ++s) {
            const auto count = std::llround(options.silenceFraction * static_cast<double>(keywordClipsPerSplit[static_cast<size_t>(s)]));
            for (long long n = 0; n < count; ++n) {
                FeatureJob job;
                job.noiseFile = static_cast<int>(rng.below(noise.size()));
                const size_t length = noise[static_cast<size_t>(job.noiseFile)].size();
                const auto start = static_cast<size_t>(regionStart[s] * static_cast<double>(length));
                const auto end = static_cast<size_t>(regionEnd[s] * static_cast<double>(length));
                job.noiseOffset = start;
                if (end > start && end - start >= clip) job.noiseOffset = start + rng.below(end - start - clip + 1);
                job.label = silenceLabel;
                job.split = s;
                addJob(std::move(job));
            }
        }
    }

    TaskData data;
    data.task = "kws" + std::to_string(options.keywordCount);
    data.description = "KWS-" + std::to_string(options.keywordCount) + " (" + joined(keywords, " ");
    if (options.includeUnknown) data.description += std::string(" + ") + kUnknownClass;
    if (options.includeSilence) data.description += std::string(" + ") + kSilenceClass;
    data.description += "), " + std::to_string(frames) + " MFCC frames x " + std::to_string(coefficients);
    data.source = directory;
    data.classNames = classNames;
    SequenceSet* sets[kSplitCount] = {&data.train, &data.validation, &data.test};
    for (int s = 0; s < kSplitCount; ++s) {
        SequenceSet& set = *sets[s];
        set.count = rowsPerSplit[s];
        set.steps = frames;
        set.features = coefficients;
        set.x.assign(static_cast<size_t>(set.count * set.steps * set.features), 0.0f);
        set.y.assign(static_cast<size_t>(set.count), 0);
    }
    for (const FeatureJob& job : jobs) sets[job.split]->y[static_cast<size_t>(job.row)] = job.label;

    // Decode + MFCC in parallel. Workers take jobs from a shared counter and write disjoint rows; the
    // calling thread only reports progress, so the callback always runs on the caller's thread.
    const auto total = static_cast<int64_t>(jobs.size());
    unsigned threadCount = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                                : std::max(1u, std::thread::hardware_concurrency());
    threadCount = static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(threadCount, total)));

    std::atomic<int64_t> nextJob{0};
    std::atomic<int64_t> doneJobs{0};
    std::atomic<bool> stop{false};
    std::atomic<bool> cancelled{false};
    std::mutex mutex;
    std::condition_variable wake;
    unsigned finishedWorkers = 0;
    std::exception_ptr firstError;

    auto worker = [&]() {
        for (;;) {
            if (stop.load()) break;
            if (cancel && cancel->isRequested()) {
                cancelled = true;
                stop = true;
                break;
            }
            const int64_t i = nextJob++;
            if (i >= total) break;
            const FeatureJob& job = jobs[static_cast<size_t>(i)];
            try {
                std::vector<float> audio;
                if (job.noiseFile >= 0) {
                    const std::vector<float>& source = noise[static_cast<size_t>(job.noiseFile)];
                    const size_t from = std::min(job.noiseOffset, source.size());
                    const size_t to = std::min(source.size(), from + static_cast<size_t>(options.clipSamples));
                    audio.assign(source.begin() + static_cast<std::ptrdiff_t>(from),
                                 source.begin() + static_cast<std::ptrdiff_t>(to));
                } else {
                    audio = readClip(job.path, options.mfcc.sampleRate);
                }
                audio = padOrCrop(audio, static_cast<size_t>(options.clipSamples));
                placeRow(*sets[job.split], job.row, extractor.compute(audio));
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex);
                if (!firstError) firstError = std::current_exception();
                stop = true;
            }
            ++doneJobs;
            wake.notify_one();
        }
        {
            std::lock_guard<std::mutex> lock(mutex);
            ++finishedWorkers;
        }
        wake.notify_one();
    };

    const auto started = std::chrono::steady_clock::now();
    auto report = [&](int64_t done) {
        if (!progress) return;
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        progress(Progress{kStage, done, total, elapsed, directory});
    };

    std::vector<std::thread> workers;
    workers.reserve(threadCount);
    for (unsigned t = 0; t < threadCount; ++t) workers.emplace_back(worker);
    try {
        report(0);
        int64_t reported = 0;
        std::unique_lock<std::mutex> lock(mutex);
        while (finishedWorkers < threadCount) {
            wake.wait_for(lock, std::chrono::milliseconds(100), [&] { return finishedWorkers == threadCount; });
            const int64_t done = doneJobs.load();
            if (finishedWorkers < threadCount && done != reported) {
                lock.unlock();
                report(done);
                reported = done;
                lock.lock();
            }
        }
    } catch (...) {
        // The progress callback threw (e.g. the caller aborts that way): stop the workers first.
        stop = true;
        for (std::thread& t : workers) t.join();
        throw;
    }
    for (std::thread& t : workers) t.join();
    if (firstError) std::rethrow_exception(firstError);
    if (cancelled || (cancel && cancel->isRequested())) throw Cancelled();
    report(total);

    data.normalization = computeNormalization(data.train, /*perFeature=*/true);
    for (SequenceSet* set : sets) applyNormalization(*set, data.normalization);

    if (options.useCache) {
        try {
            cache.store(key, data);
        } catch (const InputError& e) {
            // The features are valid without the cache; say so instead of failing the whole load.
            if (progress) progress(Progress{"writing feature cache", 0, 1, 0.0, std::string("not cached: ") + e.what()});
        }
    }
    return data;
}

}  // namespace gruq
