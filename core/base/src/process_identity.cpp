#include "gruq/base/process_identity.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <unistd.h>

namespace gruq {
namespace {

std::string hostName() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "localhost";
    return name;
}

}  // namespace

std::string thisProcessIdentity() { return hostName() + ":" + std::to_string(::getpid()); }

ProcessLiveness livenessOf(const std::string& identity) {
    const size_t colon = identity.rfind(':');
    if (colon == std::string::npos || colon == 0 || identity.substr(0, colon) != hostName()) return ProcessLiveness::Unknown;
    const std::string digits = identity.substr(colon + 1);
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        return ProcessLiveness::Unknown;
    const long pid = std::strtol(digits.c_str(), nullptr, 10);
    if (pid <= 0) return ProcessLiveness::Unknown;
    // Signal 0 checks existence only; EPERM means it exists under another user.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return ProcessLiveness::Alive;
    return errno == ESRCH ? ProcessLiveness::Gone : ProcessLiveness::Unknown;
}

}  // namespace gruq
