#include "gruq/base/paths.h"

#include "gruq/base/errors.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <unistd.h>

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
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec)) {
        throw InputError(dir, "exists and is not a folder");
    }
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir)) {
        throw InputError(dir, "cannot create directory (" + (ec ? ec.message() : std::string("not a directory")) + ")");
    }
}

std::string readWholeFile(const std::string& path) {
    errno = 0;
    std::FILE* in = std::fopen(path.c_str(), "rb");
    if (!in) throw InputError(path, std::string("cannot read the file: ") + std::strerror(errno));
    std::string bytes;
    char chunk[1 << 16];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, in)) > 0) bytes.append(chunk, n);
    const int error = std::ferror(in) ? errno : 0;
    std::fclose(in);
    if (error != 0) throw InputError(path, std::string("cannot read the file: ") + std::strerror(error));
    return bytes;
}

void writeWholeFile(const std::string& path, const std::string& content) {
    errno = 0;
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) throw InputError(path, std::strerror(errno));
    errno = 0;
    const bool written = std::fwrite(content.data(), 1, content.size(), out) == content.size();
    int error = errno;
    errno = 0;
    const bool closed = std::fclose(out) == 0;  // buffered bytes reach the disk here
    if (written && !closed) error = errno;
    if (!written || !closed) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
        throw InputError(path, error != 0 ? std::strerror(error) : "write error");
    }
}

void replaceFile(const std::string& path, const std::string& content) {
    static std::atomic<unsigned> counter{0};
    const std::string temp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    try {
        writeWholeFile(temp, content);
    } catch (const InputError& e) {
        throw InputError(path, e.problem());
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw InputError(path, ec.message());
    }
}

}  // namespace gruq
