#pragma once
// File permission checks of the calling thread as nobody, for tests of read-only folders and files:
// root ignores permission bits, and CI runs as root. setfsuid changes nothing else (per thread, file
// access checks only) and is a no-op for an unprivileged user, whose own checks already apply.
#include <sys/fsuid.h>
#include <unistd.h>

namespace gruq::test {

class UnprivilegedFiles {
public:
    UnprivilegedFiles() : active_(::geteuid() == 0) {
        if (active_) ::setfsuid(kNobody), ::setfsgid(kNobody);
    }
    ~UnprivilegedFiles() {
        if (active_) ::setfsuid(0), ::setfsgid(0);
    }
    UnprivilegedFiles(const UnprivilegedFiles&) = delete;
    UnprivilegedFiles& operator=(const UnprivilegedFiles&) = delete;

    static constexpr unsigned kNobody = 65534;

private:
    bool active_;
};

}  // namespace gruq::test
