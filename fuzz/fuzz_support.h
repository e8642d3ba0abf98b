// Shared by the C++ libFuzzer targets (fuzz/fuzz_*.cpp): a private scratch folder for readers that
// take a path, whole-file writes into it, and the one rule every target enforces: a reader either
// returns or throws gruq::InputError (BlobError is one). Any other exception escapes
// LLVMFuzzerTestOneInput, terminates the process and so becomes a libFuzzer finding, like a crash, a
// sanitizer report, a leak, a timeout or running out of memory.
#pragma once

#include "gruq/base/errors.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace fuzz {

// /dev/shm/gruq-fuzz-<target>-<pid> (tmpfs: a file per execution costs microseconds, not disk
// writes), or $TMPDIR / /tmp when there is no /dev/shm. Removed when the process exits normally.
inline const std::string& scratchDir(const char* target) {
    static const std::string dir = [target] {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::path base = "/dev/shm";
        if (!fs::is_directory(base, ec) || access(base.c_str(), W_OK) != 0) {
            const char* tmp = std::getenv("TMPDIR");
            base = tmp && *tmp ? tmp : "/tmp";
        }
        const fs::path made = base / ("gruq-fuzz-" + std::string(target) + "-" + std::to_string(getpid()));
        fs::remove_all(made, ec);
        fs::create_directories(made);
        static const std::string removeAtExit = made.string();
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(removeAtExit, ignored);
        });
        return made.string();
    }();
    return dir;
}

inline void writeFile(const std::string& path, const uint8_t* data, size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();  // the scratch folder is ours: failing here is a harness problem, not a finding to hide
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    if (std::fclose(f) != 0) std::abort();
}

// Runs fn; true when it returned, false when it threw InputError. Anything else propagates.
template <typename Fn>
bool acceptedOrInputError(Fn&& fn) {
    try {
        fn();
        return true;
    } catch (const gruq::InputError&) {
        return false;
    }
}

// A violated invariant of an accepted input: printed, then abort() so that libFuzzer saves the input.
[[noreturn]] inline void invariantBroken(const char* what) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

}  // namespace fuzz
