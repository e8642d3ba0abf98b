#include "gruq/data/npy_format.h"

#include "gruq/base/errors.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

namespace gruq {
namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

// One element's bytes (already little-endian, as on every host gruq builds for) as a T.
template <typename T>
T loadAs(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint32_t littleEndian(const std::string& bytes, size_t at, int size) {
    uint32_t v = 0;
    for (int i = size - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + size_t(i)]);
    return v;
}

// The header is a Python dict literal written by numpy: {'descr': '<f4', 'fortran_order': False,
// 'shape': (3, 4), }. This reads exactly that grammar: quoted keys, and values that are quoted
// strings, True / False, or tuples of non-negative integers.
class HeaderParser {
public:
    HeaderParser(const std::string& text, const std::string& where) : text_(text), where_(where) {}

    void parse(std::string& descr, bool& fortranOrder, std::vector<int64_t>& shape) {
        bool haveDescr = false, haveOrder = false, haveShape = false;
        expect('{');
        for (;;) {
            skipSpace();
            if (peek() == '}') break;
            const std::string key = quoted();
            expect(':');
            skipSpace();
            if (key == "descr") {
                if (peek() != '\'' && peek() != '"') fail("'descr' is not a simple type (structured arrays are not supported)");
                descr = quoted();
                haveDescr = true;
            } else if (key == "fortran_order") {
                fortranOrder = boolean();
                haveOrder = true;
            } else if (key == "shape") {
                shape = tuple();
                haveShape = true;
            } else {
                fail("unknown header key '" + key + "'");
            }
            skipSpace();
            if (peek() == ',') ++pos_;
        }
        if (!haveDescr || !haveOrder || !haveShape) fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    }

private:
    [[noreturn]] void fail(const std::string& what) const { throw InputError(where_, "malformed .npy header: " + what); }
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    void skipSpace() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    void expect(char c) {
        skipSpace();
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    std::string quoted() {
        skipSpace();
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a quoted string");
        const size_t end = text_.find(q, pos_ + 1);
        if (end == std::string::npos || end - pos_ > 64) fail("unterminated string");
        std::string s = text_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return s;
    }
    bool boolean() {
        if (text_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
        if (text_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
        fail("'fortran_order' is not True or False");
    }
    std::vector<int64_t> tuple() {
        if (peek() != '(') fail("'shape' is not a tuple");
        ++pos_;
        std::vector<int64_t> dims;
        for (;;) {
            skipSpace();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("'shape' holds something other than sizes");
            int64_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) fail("a dimension is too large");
                v = v * 10 + (text_[pos_++] - '0');
            }
            // numpy writes Python ints; a long suffix 'L' appears in files from Python 2.
            if (peek() == 'L') ++pos_;
            dims.push_back(v);
            if (dims.size() > 32) fail("more than 32 dimensions");
            skipSpace();
            if (peek() == ',') ++pos_;
            else if (peek() != ')') fail("'shape' is not a tuple of sizes");
        }
        ++pos_;
        return dims;
    }

    const std::string& text_;
    const std::string& where_;
    size_t pos_ = 0;
};

void checkDescr(NpyArray& a, const std::string& where) {
    const std::string& d = a.descr;
    if (d.size() >= 2 && d[1] == 'O') {
        throw InputError(where, "element type '" + d + "' is a Python object array; object arrays are not read "
                                "(save numbers, or strings with dtype=str)");
    }
    if (d.size() < 3 || std::string("<>|=").find(d[0]) == std::string::npos)
        throw InputError(where, "unsupported element type '" + d + "' (expected e.g. '<f4', '<i8', '|u1', '<U8')");
    a.kind = d[1];
    const std::string digits = d.substr(2);
    if (digits.empty() || digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
        throw InputError(where, "unsupported element type '" + d + "'");
    const int n = std::stoi(digits);
    bool ok = false;
    switch (a.kind) {
        case 'f': ok = n == 4 || n == 8; a.itemSize = n; break;
        case 'i':
        case 'u': ok = n == 1 || n == 2 || n == 4 || n == 8; a.itemSize = n; break;
        case 'b': ok = n == 1; a.itemSize = 1; break;
        case 'U': ok = n >= 1 && n <= 4096; a.itemSize = 4 * n; break;
        default: break;
    }
    if (!ok) {
        throw InputError(where, "unsupported element type '" + d +
                                    "' (numbers: float32/64, (u)int8/16/32/64, bool; text: fixed-width unicode; "
                                    "object arrays are not read)");
    }
}

// Reverses the bytes of every number of a big-endian array (a 'U' element: of every character).
void toLittleEndian(NpyArray& a) {
    const bool big = a.descr[0] == '>';
    const int unit = a.kind == 'U' ? 4 : a.itemSize;
    if (!big || unit == 1) return;
    for (size_t i = 0; i + size_t(unit) <= a.data.size(); i += size_t(unit)) std::reverse(a.data.begin() + long(i), a.data.begin() + long(i) + unit);
}

void appendUtf8(std::string& out, uint32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xc0 | (c >> 6));
        out += char(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        out += char(0xe0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3f));
        out += char(0x80 | (c & 0x3f));
    } else {
        out += char(0xf0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3f));
        out += char(0x80 | ((c >> 6) & 0x3f));
        out += char(0x80 | (c & 0x3f));
    }
}

}  // namespace

int64_t NpyArray::elementCount() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

double NpyArray::asDouble(int64_t i) const {
    const char* p = data.data() + i * itemSize;
    if (kind == 'f') return itemSize == 4 ? loadAs<float>(p) : loadAs<double>(p);
    return static_cast<double>(asInteger(i));
}

int64_t NpyArray::asInteger(int64_t i) const {
    const char* p = data.data() + i * itemSize;
    if (kind == 'b') return p[0] != 0;
    if (kind == 'i') {
        switch (itemSize) {
            case 1: return loadAs<int8_t>(p);
            case 2: return loadAs<int16_t>(p);
            case 4: return loadAs<int32_t>(p);
            default: return loadAs<int64_t>(p);
        }
    }
    switch (itemSize) {
        case 1: return loadAs<uint8_t>(p);
        case 2: return loadAs<uint16_t>(p);
        case 4: return loadAs<uint32_t>(p);
        default: {  // u8: values above int64's range are reported as -1 (every caller rejects negatives)
            const uint64_t v = loadAs<uint64_t>(p);
            return v > uint64_t(std::numeric_limits<int64_t>::max()) ? -1 : int64_t(v);
        }
    }
}

std::string NpyArray::asString(int64_t i) const {
    std::string out;
    const char* p = data.data() + i * itemSize;
    for (int k = 0; k < itemSize / 4; ++k) {
        const uint32_t c = loadAs<uint32_t>(p + 4 * k);
        if (c == 0) break;
        appendUtf8(out, c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ? 0xfffd : c);
    }
    return out;
}

NpyArray parseNpy(const std::string& bytes, const std::string& where, int64_t maxElements) {
    if (bytes.size() < kMagicSize + 4 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
        throw InputError(where, "not a NumPy .npy array (no \\x93NUMPY magic)");
    }
    const int major = static_cast<unsigned char>(bytes[6]);
    if (major < 1 || major > 3) throw InputError(where, ".npy format version " + std::to_string(major) + " is not supported (1..3)");
    const int lengthSize = major == 1 ? 2 : 4;
    if (bytes.size() < 8 + size_t(lengthSize)) throw InputError(where, "truncated .npy header");
    const uint32_t headerLength = littleEndian(bytes, 8, lengthSize);
    const size_t dataStart = 8 + size_t(lengthSize) + headerLength;
    if (headerLength > (1u << 20) || dataStart > bytes.size()) throw InputError(where, "truncated .npy header");

    NpyArray a;
    bool fortranOrder = false;
    HeaderParser(bytes.substr(8 + size_t(lengthSize), headerLength), where).parse(a.descr, fortranOrder, a.shape);
    checkDescr(a, where);
    int64_t count = 1;
    for (int64_t d : a.shape) {
        if (d != 0 && count > maxElements / d) throw InputError(where, "the array is too large (more than " + std::to_string(maxElements) + " elements)");
        count *= d;
    }
    if (count > maxElements) throw InputError(where, "the array is too large (more than " + std::to_string(maxElements) + " elements)");
    // A Fortran-order array of 0 or 1 dimension has the same bytes as C order.
    if (fortranOrder && a.shape.size() > 1) {
        throw InputError(where, "Fortran-order arrays are not supported (save np.ascontiguousarray(x))");
    }
    const uint64_t expected = uint64_t(count) * uint64_t(a.itemSize);
    const uint64_t present = bytes.size() - dataStart;
    if (present != expected) {
        throw InputError(where, "the data holds " + std::to_string(present) + " bytes, the header promises " +
                                    std::to_string(expected) + (present < expected ? " (truncated file)" : " (trailing bytes)"));
    }
    a.data = bytes.substr(dataStart);
    toLittleEndian(a);
    return a;
}

std::string makeNpy(const std::string& descr, const std::vector<int64_t>& shape, const std::string& data) {
    std::string dims;
    for (int64_t d : shape) dims += std::to_string(d) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    // numpy pads the header with spaces so that the data starts at a multiple of 64 bytes.
    const size_t total = 10 + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
    std::string out(kMagic, kMagicSize);
    out += '\x01';
    out += '\x00';
    out += char(header.size() & 0xff);
    out += char((header.size() >> 8) & 0xff);
    return out + header + data;
}

}  // namespace gruq
