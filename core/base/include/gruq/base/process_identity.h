#pragma once
// Which process is writing a search archive. The search stores "host:pid" beside its "running" status,
// so that a reader on the same host can tell a search still running from one whose process died
// without finishing (killed, crashed, machine rebooted); elsewhere the answer is "unknown".
#include <string>

namespace gruq {

// "host:pid" of this process.
std::string thisProcessIdentity();

enum class ProcessLiveness { Alive, Gone, Unknown };

// Unknown for another host's process or an identity that does not parse. A pid reused by an unrelated
// process reads as Alive: the safe side (the reader keeps waiting, as it would without this check).
ProcessLiveness livenessOf(const std::string& identity);

}  // namespace gruq
