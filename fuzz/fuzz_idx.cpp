// libFuzzer target for the IDX reader (core/data/src/idx_reader.cpp): MNIST-format dataset files, raw or
// gzip-compressed (zlib decides by the magic bytes, so mutations reach both paths).
//
// The input is written as a file and read with readIdxFile. Acceptable: InputError, or an array whose
// data holds exactly product(dims) bytes with 1..4 positive dimensions; an accepted plain (not gzip)
// file must be byte for byte what writeIdxFile writes for that array. Anything else is a finding.
// Build and seeds: scripts/fuzz.sh (target fuzz_idx).
#include "fuzz_support.h"

#include "gruq/data/idx_reader.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string dir = fuzz::scratchDir("idx");
    const std::string path = dir + "/input-idx3-ubyte";
    fuzz::writeFile(path, data, size);

    gruq::IdxArray array;
    if (!fuzz::acceptedOrInputError([&] { array = gruq::readIdxFile(path); })) return 0;

    if (array.dims.empty() || array.dims.size() > 4) fuzz::invariantBroken("accepted IDX with 0 or more than 4 dims");
    int64_t total = 1;
    for (int64_t d : array.dims) {
        if (d <= 0) fuzz::invariantBroken("accepted IDX with a non-positive dimension");
        total *= d;
    }
    if (total != static_cast<int64_t>(array.data.size())) fuzz::invariantBroken("IDX data size != product(dims)");

    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    if (!gzip) {
        const std::string again = dir + "/rewritten-idx3-ubyte";
        gruq::writeIdxFile(again, array, false);
        std::ifstream in(again, std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (bytes.size() != size || std::memcmp(bytes.data(), data, size) != 0) {
            fuzz::invariantBroken("an accepted plain IDX file differs from its rewrite");
        }
    }
    return 0;
}
