#include "gruq/data/speech_commands.h"

#include "gruq/base/errors.h"
#include "gruq/base/hashing.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

namespace fs = std::filesystem;

namespace gruq {
namespace {

const char* const kBackgroundNoiseFolder = "_background_noise_";

// TensorFlow's MAX_NUM_WAVS_PER_CLASS: fixes the hash → percentage mapping of the original split.
constexpr uint64_t kMaxWavsPerClass = (uint64_t{1} << 27) - 1;

bool hasWavExtension(const fs::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".wav";
}

// Remainder of a big hexadecimal number, one digit at a time (the SHA-1 digest has 160 bits).
uint64_t hexModulo(const std::string& hex, uint64_t modulus) {
    uint64_t remainder = 0;
    for (char c : hex) {
        const int digit = (c >= '0' && c <= '9') ? c - '0' : (std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
        remainder = (remainder * 16 + static_cast<uint64_t>(digit)) % modulus;
    }
    return remainder;
}

std::string trim(const std::string& s) {
    size_t begin = 0, end = s.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(s[begin]))) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
    return s.substr(begin, end - begin);
}

std::vector<std::string> sortedWavFiles(const fs::path& folder, const std::string& prefix) {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code typeEc;
        if (!it->is_regular_file(typeEc) || !hasWavExtension(it->path())) continue;
        files.push_back(prefix + it->path().filename().string());
    }
    if (ec) throw InputError(folder.string(), "cannot list folder (" + ec.message() + ")");
    std::sort(files.begin(), files.end());
    return files;
}

// Marks every clip named in a list file with `partition`. Returns false when the file is absent.
bool applyListFile(const fs::path& listPath, Partition partition, std::map<std::string, Clip*>& byPath) {
    std::error_code ec;
    if (!fs::exists(listPath, ec)) return false;
    // An ifstream opens a folder and reads it as empty: the split would silently change.
    if (fs::is_directory(listPath, ec)) throw InputError(listPath.string(), "is a folder, expected a list file");
    std::ifstream in(listPath);
    if (!in) throw InputError(listPath.string(), "cannot read list file");
    std::string line;
    int lineNumber = 0;
    while (std::getline(in, line)) {
        ++lineNumber;
        std::string entry = trim(line);
        if (entry.empty()) continue;
        std::replace(entry.begin(), entry.end(), '\\', '/');
        const auto it = byPath.find(entry);
        if (it == byPath.end()) {
            throw InputError(listPath.string(), "line " + std::to_string(lineNumber) + " names \"" + entry +
                                                    "\", which is not a clip in the folder");
        }
        if (it->second->partition != Partition::Training && it->second->partition != partition) {
            throw InputError(listPath.string(), "line " + std::to_string(lineNumber) + ": \"" + entry +
                                                    "\" is listed for both validation and testing");
        }
        it->second->partition = partition;
    }
    return true;
}

}  // namespace

Partition hashPartition(const std::string& fileName, double validationPercent, double testingPercent) {
    // Same steps as TensorFlow's input_data.which_set: basename, drop "_nohash_..." so that all clips
    // of one speaker share a partition, SHA-1, then map the hash to a percentage.
    std::string baseName = fileName;
    const size_t slash = baseName.find_last_of("/\\");
    if (slash != std::string::npos) baseName = baseName.substr(slash + 1);
    const size_t nohash = baseName.find("_nohash_");
    const std::string hashName = nohash == std::string::npos ? baseName : baseName.substr(0, nohash);

    const uint64_t bucket = hexModulo(sha1Hex(hashName), kMaxWavsPerClass + 1);
    const double percentage = static_cast<double>(bucket) * (100.0 / static_cast<double>(kMaxWavsPerClass));
    if (percentage < validationPercent) return Partition::Validation;
    if (percentage < testingPercent + validationPercent) return Partition::Testing;
    return Partition::Training;
}

SpeechCommandsIndex indexSpeechCommands(const std::string& root) {
    std::error_code ec;
    if (!fs::exists(root, ec)) throw InputError(root, "Speech Commands folder does not exist");
    if (!fs::is_directory(root, ec)) throw InputError(root, "not a folder");

    SpeechCommandsIndex index;
    index.root = root;
    std::vector<std::string> folders;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code typeEc;
        if (!it->is_directory(typeEc)) continue;
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.') continue;  // hidden folders are not words
        folders.push_back(name);
    }
    if (ec) throw InputError(root, "cannot list folder (" + ec.message() + ")");
    std::sort(folders.begin(), folders.end());

    const fs::path rootPath(root);
    for (const std::string& name : folders) {
        if (name == kBackgroundNoiseFolder) {
            index.backgroundNoise = sortedWavFiles(rootPath / name, name + "/");
            continue;
        }
        index.words.push_back(name);
        for (std::string& rel : sortedWavFiles(rootPath / name, name + "/")) {
            Clip clip;
            clip.relativePath = std::move(rel);
            clip.word = name;
            index.clips.push_back(std::move(clip));
        }
    }
    if (index.words.empty()) {
        throw InputError(root, "no word sub-folders (expected Speech Commands layout: <word>/<clip>.wav)");
    }
    std::sort(index.clips.begin(), index.clips.end(),
              [](const Clip& a, const Clip& b) { return a.relativePath < b.relativePath; });

    std::map<std::string, Clip*> byPath;
    for (Clip& clip : index.clips) byPath[clip.relativePath] = &clip;
    const bool validationList = applyListFile(rootPath / "validation_list.txt", Partition::Validation, byPath);
    const bool testingList = applyListFile(rootPath / "testing_list.txt", Partition::Testing, byPath);
    index.usedListFiles = validationList || testingList;
    if (!index.usedListFiles) {
        for (Clip& clip : index.clips) clip.partition = hashPartition(clip.relativePath);
    }
    return index;
}

}  // namespace gruq
