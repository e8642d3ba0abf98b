#include "gruq/paths.h"

#include "gruq/errors.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace gruq {
namespace {

std::string envOr(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : fallback;
}

std::string homeDir() { return envOr("HOME", "/tmp"); }

}  // namespace

std::string defaultFashionMnistDir() { return "/usr/share/datasets/fashion-mnist"; }

std::string userCacheDir() {
    if (const char* v = std::getenv("GRUQ_CACHE_DIR"); v && *v) return v;
    return envOr("XDG_CACHE_HOME", homeDir() + "/.cache") + "/gruq";
}

std::string userDataDir() { return envOr("XDG_DATA_HOME", homeDir() + "/.local/share") + "/gruq"; }

std::string defaultSpeechCommandsDir() { return userDataDir() + "/speech-commands-espeak"; }

void ensureDirectory(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        throw InputError(dir, "cannot create directory (" + (ec ? ec.message() : std::string("not a directory")) + ")");
    }
}

}  // namespace gruq
