#pragma once
// Reader for a folder in Google Speech Commands layout: one sub-folder per word with WAV files,
// optional _background_noise_/, optional validation_list.txt / testing_list.txt.
#include <string>
#include <vector>

namespace gruq {

enum class Partition { Training, Validation, Testing };

struct Clip {
    std::string relativePath;  // "yes/0a7c2a8d_nohash_0.wav", as in the list files
    std::string word;          // sub-folder name
    Partition partition = Partition::Training;
};

struct SpeechCommandsIndex {
    std::string root;
    std::vector<std::string> words;             // sorted sub-folder names, excluding _background_noise_
    std::vector<Clip> clips;                    // sorted by relativePath
    std::vector<std::string> backgroundNoise;   // relative paths of _background_noise_/*.wav
    bool usedListFiles = false;                 // true when validation_list/testing_list decided the split
};

// The original dataset's rule (TensorFlow speech_commands input_data.which_set): the part of the file
// name before "_nohash_" is SHA-1 hashed, (hash mod (2^27 - 1 + 1)) * 100 / (2^27 - 1) < validation% ->
// validation, < validation% + testing% -> testing, else training.
Partition hashPartition(const std::string& fileName, double validationPercent = 10.0,
                        double testingPercent = 10.0);

// Walks the folder. The list files, when present, decide the split (every other clip is training);
// otherwise hashPartition. InputError naming the folder when it does not exist, has no word folders,
// or a list file names a missing clip.
SpeechCommandsIndex indexSpeechCommands(const std::string& root);

}  // namespace gruq
