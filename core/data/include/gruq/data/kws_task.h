#pragma once
// Keyword-spotting tasks over a Speech Commands-layout folder: MFCC sequences, cached on disk.
#include "gruq/data/dataset.h"
#include "gruq/data/mfcc.h"
#include "gruq/base/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

// KWS-4: yes no up down. KWS-10: yes no up down left right on off stop go (the ten command words).
std::vector<std::string> kwsKeywords(int keywordCount);

struct KwsTaskOptions {
    std::string directory;       // Speech Commands layout; empty = defaultSpeechCommandsDir()
    int keywordCount = 10;       // 4 or 10
    // Optional extra classes as in the original benchmark: "_unknown_" (clips of every other word in
    // the folder, capped at unknownFraction of the keyword clips per split) and "_silence_" (1 s crops
    // of _background_noise_ files, silenceFraction of the keyword clips per split). Off by default:
    // the task is then a closed-set N-way classification of the keywords.
    bool includeUnknown = false;
    bool includeSilence = false;
    double unknownFraction = 0.1;
    double silenceFraction = 0.1;
    MfccConfig mfcc;
    int clipSamples = 16000;     // pad/crop to 1 s at mfcc.sampleRate
    uint64_t seed = 0;           // picks the unknown / silence clips
    std::string cacheDir;        // empty = userCacheDir()/features
    bool useCache = true;
    int threads = 0;             // decode + MFCC workers; 0 = hardware concurrency
};

// Features are normalised with the training split's mean / std. Task name "kws4" / "kws10".
TaskData loadKwsTask(const KwsTaskOptions& options, const ProgressFn& progress = {},
                     const CancelFlag* cancel = nullptr);

}  // namespace gruq
