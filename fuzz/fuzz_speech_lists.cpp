// libFuzzer target for the Speech Commands list files (core/data/src/speech_commands.cpp): the parsing of
// validation_list.txt and testing_list.txt by indexSpeechCommands.
//
// A small fixed folder tree (two words, five clips, background noise, a hidden folder) is made once;
// each input then becomes its list files. Byte 0 says which exist (bit 0: validation_list.txt, bit 1:
// testing_list.txt); the rest is split at its first NUL byte: before it is the validation list, after
// it the testing list. Acceptable: InputError, or an index of the five clips in which list files were
// used exactly when one exists, clips are partitioned only into sets whose list exists, and without
// list files every clip has its hash partition. Anything else is a finding.
// Build and seeds: scripts/fuzz.sh (target fuzz_speech_lists).
#include "fuzz_support.h"

#include "gruq/data/speech_commands.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace fs = std::filesystem;

namespace {

const char* const kClips[] = {"yes/0a7c2a8d_nohash_0.wav", "yes/0a7c2a8d_nohash_1.wav", "yes/9e3779b1_nohash_0.wav",
                              "no/c6ef3620_nohash_0.wav", "no/daa66d13_nohash_0.WAV"};
constexpr size_t kClipCount = sizeof kClips / sizeof kClips[0];

const std::string& speechRoot() {
    static const std::string root = [] {
        const fs::path r = fs::path(fuzz::scratchDir("speech_lists")) / "speech";
        const uint8_t riff[] = {'R', 'I', 'F', 'F'};  // contents are never read by the index
        for (const char* clip : kClips) {
            fs::create_directories((r / clip).parent_path());
            fuzz::writeFile((r / clip).string(), riff, sizeof riff);
        }
        for (const char* other : {"_background_noise_/white_noise.wav", ".hidden/x.wav", "yes/README.txt"}) {
            fs::create_directories((r / other).parent_path());
            fuzz::writeFile((r / other).string(), riff, sizeof riff);
        }
        return r.string();
    }();
    return root;
}

void placeList(const fs::path& path, bool present, const uint8_t* data, size_t size) {
    if (present) {
        fuzz::writeFile(path.string(), data, size);
    } else {
        std::error_code ignored;
        fs::remove(path, ignored);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const fs::path root = speechRoot();
    const bool validationPresent = size > 0 && (data[0] & 1);
    const bool testingPresent = size > 0 && (data[0] & 2);
    const uint8_t* rest = size > 0 ? data + 1 : data;
    const size_t restSize = size > 0 ? size - 1 : 0;
    const auto* nul = static_cast<const uint8_t*>(std::memchr(rest, 0, restSize));
    const size_t validationSize = nul ? size_t(nul - rest) : restSize;
    placeList(root / "validation_list.txt", validationPresent, rest, validationSize);
    placeList(root / "testing_list.txt", testingPresent, nul ? nul + 1 : rest + restSize,
              nul ? restSize - validationSize - 1 : 0);

    gruq::SpeechCommandsIndex index;
    if (!fuzz::acceptedOrInputError([&] { index = gruq::indexSpeechCommands(root.string()); })) return 0;

    if (index.clips.size() != kClipCount) fuzz::invariantBroken("index does not hold the five clips");
    if (index.words != std::vector<std::string>{"no", "yes"}) fuzz::invariantBroken("word folders misread");
    if (index.usedListFiles != (validationPresent || testingPresent)) fuzz::invariantBroken("usedListFiles is wrong");
    for (const gruq::Clip& clip : index.clips) {
        if (std::find(std::begin(kClips), std::end(kClips), clip.relativePath) == std::end(kClips)) {
            fuzz::invariantBroken("a clip that is not in the folder");
        }
        if (clip.partition == gruq::Partition::Validation && index.usedListFiles && !validationPresent) {
            fuzz::invariantBroken("validation clip without validation_list.txt");
        }
        if (clip.partition == gruq::Partition::Testing && index.usedListFiles && !testingPresent) {
            fuzz::invariantBroken("testing clip without testing_list.txt");
        }
        if (!index.usedListFiles && clip.partition != gruq::hashPartition(clip.relativePath)) {
            fuzz::invariantBroken("without list files a clip's partition is not its hash partition");
        }
    }
    return 0;
}
