#pragma once
// Reader (and a small writer, for tests and tools) of NumPy's .npy format, versions 1.0-3.0
// (numpy.lib.format): a magic string, a header dict {'descr', 'fortran_order', 'shape'} and the raw
// C-order array. Numbers in either byte order; strings as NumPy's fixed-width unicode ('<U8').
#include <cstdint>
#include <string>
#include <vector>

namespace gruq {

struct NpyArray {
    char kind = 'f';              // 'f' float, 'i' signed integer, 'u' unsigned integer, 'U' unicode, 'b' bool
    int itemSize = 4;             // bytes per element (a 'U' element: 4 bytes per character)
    std::vector<int64_t> shape;   // () for a scalar
    std::string data;             // elements, C order, little-endian after reading
    std::string descr;            // as written, e.g. "<f4", for messages

    int64_t elementCount() const;
    bool isInteger() const { return kind == 'i' || kind == 'u' || kind == 'b'; }
    // Element i converted; the caller checks the kind. asDouble: any number; asInteger: integer kinds.
    double asDouble(int64_t i) const;
    int64_t asInteger(int64_t i) const;
    std::string asString(int64_t i) const;  // 'U' element as UTF-8, trailing NULs dropped
};

// Parses the bytes of one .npy file. `where` names it in errors (InputError(where, problem)): bad magic,
// unknown version, malformed header, object / structured / Fortran-order arrays, sizes that disagree
// with the data, more than maxElements elements.
NpyArray parseNpy(const std::string& bytes, const std::string& where, int64_t maxElements = int64_t(1) << 31);

// The bytes of a version-1.0 .npy file holding `data` (C order, little-endian) with this descr and shape.
std::string makeNpy(const std::string& descr, const std::vector<int64_t>& shape, const std::string& data);

}  // namespace gruq
