#pragma once
// Writes a Speech Commands-layout folder of synthetic utterances made in-process with espeak-ng:
// a stand-in for the real dataset that anyone can make offline and reproduce from a seed.
#include "gruq/base/progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct SpeechGeneratorOptions {
    std::string outputDir;                 // created if missing
    std::vector<std::string> words = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"};
    int utterancesPerWord = 1000;
    uint64_t seed = 1;
    int sampleRate = 16000;
    double minSpeed = 0.8, maxSpeed = 1.25;  // x espeak's default words per minute
    int minPitch = 25, maxPitch = 75;        // espeak pitch 0..100
    double maxShiftSeconds = 0.1;            // random time shift of the word inside the 1 s clip
    double noiseProbability = 0.8;           // chance that noise is mixed in
    double minSnrDb = 5.0, maxSnrDb = 30.0;
    int backgroundNoiseFiles = 6;            // written to _background_noise_/; 0 = clean utterances only
    double backgroundNoiseSeconds = 60.0;    // length of each background noise file
    int threads = 0;                         // 0 = hardware concurrency
};

struct SpeechGeneratorReport {
    int speakers = 0;             // distinct voice/variant combinations used
    int64_t utterances = 0;
    double seconds = 0;
    std::string outputDir;
};

// Every voice/variant combination ("speaker") the generator draws from; at least 50.
std::vector<std::string> speechGeneratorSpeakers();

// Same options and seed -> byte-identical files. InputError naming the folder on I/O failure.
SpeechGeneratorReport generateSpeechCommands(const SpeechGeneratorOptions& options,
                                             const ProgressFn& progress = {},
                                             const CancelFlag* cancel = nullptr);

}  // namespace gruq
