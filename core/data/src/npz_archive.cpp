#include "gruq/data/npz_archive.h"

#include "gruq/base/errors.h"

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>

namespace gruq {
namespace {

struct ArchiveCloser {
    void operator()(zip_t* z) const { zip_discard(z); }
};
struct FileCloser {
    void operator()(zip_file_t* f) const { zip_fclose(f); }
};
using Archive = std::unique_ptr<zip_t, ArchiveCloser>;

std::string zipErrorText(int code) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return text;
}

// Reads one member in chunks: the size in the directory is only a claim, so memory grows with the
// bytes that really decompress, and a member that inflates past its claim or the limit is refused.
std::string readMember(zip_t* archive, zip_uint64_t index, const zip_stat_t& stat, uint64_t maxBytes,
                       const std::string& where) {
    const std::string name = stat.name ? stat.name : "?";
    if (stat.size > maxBytes) throw InputError(where, "member " + name + " is larger than " + std::to_string(maxBytes) + " bytes");
    std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive, index, 0));
    if (!file) throw InputError(where, "cannot read member " + name + ": " + zip_strerror(archive));
    std::string out;
    std::string chunk(1 << 16, '\0');
    for (;;) {
        const zip_int64_t n = zip_fread(file.get(), chunk.data(), chunk.size());
        if (n < 0) throw InputError(where, "member " + name + " is damaged: " + zip_file_strerror(file.get()));
        if (n == 0) break;
        if (out.size() + uint64_t(n) > stat.size) throw InputError(where, "member " + name + " holds more than its recorded size");
        out.append(chunk.data(), size_t(n));
    }
    if (out.size() != stat.size) throw InputError(where, "member " + name + " is truncated");
    return out;
}

std::map<std::string, std::string> readMembers(zip_t* archive, uint64_t maxMemberBytes, const std::string& where,
                                               bool stripNpy) {
    std::map<std::string, std::string> members;
    const zip_int64_t count = zip_get_num_entries(archive, 0);
    for (zip_int64_t i = 0; i < count; ++i) {
        zip_stat_t stat;
        if (zip_stat_index(archive, zip_uint64_t(i), 0, &stat) != 0 || !(stat.valid & ZIP_STAT_NAME) ||
            !(stat.valid & ZIP_STAT_SIZE)) {
            throw InputError(where, "damaged zip directory entry " + std::to_string(i));
        }
        std::string name = stat.name;
        if (!name.empty() && name.back() == '/') continue;  // a folder entry
        if ((stat.valid & ZIP_STAT_ENCRYPTION_METHOD) && stat.encryption_method != ZIP_EM_NONE)
            throw InputError(where, "member " + name + " is encrypted");
        if (stripNpy && name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
        if (members.count(name)) throw InputError(where, "member " + name + " appears twice");
        members[name] = readMember(archive, zip_uint64_t(i), stat, maxMemberBytes, where);
    }
    return members;
}

std::map<std::string, std::string> openAndReadMembers(const std::string& bytes, const std::string& where,
                                                      const std::string& kind, uint64_t maxMemberBytes, bool stripNpy) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (!source) {
        zip_error_fini(&error);
        throw InputError(where, "cannot read the archive");
    }
    Archive archive(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
    if (!archive) {
        zip_source_free(source);
        const std::string text = zip_error_strerror(&error);
        zip_error_fini(&error);
        throw InputError(where, "not a valid " + kind + " (zip) file: " + text);
    }
    zip_error_fini(&error);
    return readMembers(archive.get(), maxMemberBytes, where, stripNpy);
}

}  // namespace

std::map<std::string, std::string> readNpzBytes(const std::string& bytes, const std::string& where, uint64_t maxMemberBytes) {
    return openAndReadMembers(bytes, where, ".npz", maxMemberBytes, true);
}

std::map<std::string, std::string> readZipMembers(const std::string& bytes, const std::string& where,
                                                  const std::string& kind, uint64_t maxMemberBytes) {
    return openAndReadMembers(bytes, where, kind, maxMemberBytes, false);
}

std::map<std::string, std::string> readNpzFile(const std::string& path, uint64_t maxMemberBytes) {
    int code = 0;
    Archive archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
    if (!archive) {
        if (code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_READ) {
            std::ifstream probe(path);
            if (!probe) throw InputError(path, "cannot open the file (missing or not readable)");
        }
        throw InputError(path, "not a valid .npz (zip) file: " + zipErrorText(code));
    }
    return readMembers(archive.get(), maxMemberBytes, path, true);
}

std::string makeZip(const std::map<std::string, std::string>& bytesByName, bool deflate) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* target = zip_source_buffer_create(nullptr, 0, 0, &error);
    zip_t* archive = target ? zip_open_from_source(target, ZIP_TRUNCATE, &error) : nullptr;
    if (!archive) throw std::runtime_error("makeZip: cannot create an archive in memory");
    zip_source_keep(target);
    for (const auto& [name, bytes] : bytesByName) {
        zip_source_t* member = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
        const zip_int64_t index = zip_file_add(archive, name.c_str(), member, ZIP_FL_OVERWRITE);
        if (index < 0) throw std::runtime_error("makeZip: cannot add " + name);
        zip_set_file_compression(archive, zip_uint64_t(index), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
    }
    if (zip_close(archive) != 0) throw std::runtime_error("makeZip: cannot write the archive");
    std::string out;
    zip_stat_t stat;
    if (zip_source_stat(target, &stat) == 0 && zip_source_open(target) == 0) {
        out.resize(stat.size);
        zip_source_read(target, out.data(), stat.size);
        zip_source_close(target);
    }
    zip_source_free(target);
    zip_error_fini(&error);
    return out;
}

std::string makeNpz(const std::map<std::string, std::string>& npyByName, bool deflate) {
    std::map<std::string, std::string> members;
    for (const auto& [name, bytes] : npyByName) members[name + ".npy"] = bytes;
    return makeZip(members, deflate);
}

}  // namespace gruq
