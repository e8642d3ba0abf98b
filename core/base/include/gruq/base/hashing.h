#pragma once
// Hashes used for stable keys: SHA-1 (the Speech Commands split rule) and FNV-1a (cache keys).
#include <cstdint>
#include <string>

namespace gruq {

std::string sha1Hex(const std::string& bytes);     // 40 lowercase hex digits
uint64_t fnv1a64(const std::string& bytes, uint64_t seed = 0xcbf29ce484222325ULL);
std::string hex64(uint64_t value);                 // 16 lowercase hex digits

}  // namespace gruq
