#pragma once
// The members of a NumPy .npz file (numpy.savez / savez_compressed: a zip archive of .npy files,
// stored or deflated), read with libzip.
#include <map>
#include <string>

namespace gruq {

// Member name without ".npy" -> its bytes. `where` names the archive in errors: not a zip file,
// damaged entries, a member larger than maxMemberBytes, an encrypted member.
std::map<std::string, std::string> readNpzBytes(const std::string& bytes, const std::string& where,
                                                uint64_t maxMemberBytes = uint64_t(8) << 30);
// The same for a file on disk (InputError naming it when it cannot be read).
std::map<std::string, std::string> readNpzFile(const std::string& path, uint64_t maxMemberBytes = uint64_t(8) << 30);

// An .npz (stored members, as numpy.savez writes them) holding these .npy files, for tests and tools.
std::string makeNpz(const std::map<std::string, std::string>& npyByName, bool deflate = false);

}  // namespace gruq
