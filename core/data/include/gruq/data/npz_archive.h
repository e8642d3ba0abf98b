#pragma once
// Zip archives read with libzip: NumPy .npz files (numpy.savez / savez_compressed: .npy members,
// stored or deflated) and PyTorch's torch.save / torch.jit.save files (a folder of stored members).
#include <map>
#include <string>

namespace gruq {

// Member name without ".npy" -> its bytes. `where` names the archive in errors: not a zip file,
// damaged entries, a member larger than maxMemberBytes, an encrypted member.
std::map<std::string, std::string> readNpzBytes(const std::string& bytes, const std::string& where,
                                                uint64_t maxMemberBytes = uint64_t(8) << 30);
// The same for a file on disk (InputError naming it when it cannot be read).
std::map<std::string, std::string> readNpzFile(const std::string& path, uint64_t maxMemberBytes = uint64_t(8) << 30);

// Every member of a zip archive by its full name; `kind` names the expected file type in errors
// ("not a valid <kind> (zip) file"). The same checks as readNpzBytes.
std::map<std::string, std::string> readZipMembers(const std::string& bytes, const std::string& where,
                                                  const std::string& kind, uint64_t maxMemberBytes);

// A zip archive (stored or deflated members) holding these members by full name, for tests and tools.
std::string makeZip(const std::map<std::string, std::string>& bytesByName, bool deflate = false);

// An .npz (stored members, as numpy.savez writes them) holding these .npy files, for tests and tools.
std::string makeNpz(const std::map<std::string, std::string>& npyByName, bool deflate = false);

}  // namespace gruq
