/* gruq runtime: integer-only inference of a gruq GRU classifier blob. See gruq_runtime.h,
 * docs/blob-format.md (the bytes) and docs/quantization.md (the arithmetic).
 *
 * C99, no malloc, no floating point. Reproduces gruq::IntegerGruEngine::run (core/quant/src/integer_engine.cpp)
 * bit for bit, for 1 to GRUQ_MAX_LAYERS stacked layers. Every read stays inside [blob, blob + blob_bytes),
 * also for hostile blobs: the header is read only once the buffer is known to hold 640 bytes, the payload
 * and the layer section only once their sizes have been checked against what shape and bits imply
 * (computed in 64 bits), a layer record only once it is known to lie inside the section, and lookup tables
 * are indexed only by clamped codes. Input codes are never used as indices.
 */
#include "gruq_runtime.h"

#include <string.h>

/* ------------------------------------------------------------------------------------------------ */
/* Header layout (docs/blob-format.md)                                                              */

#define GRUQ_TEXT_OF(x) #x
#define GRUQ_LAYERS_TEXT_OF(x) GRUQ_TEXT_OF(x)
#define GRUQ_LAYERS_TEXT GRUQ_LAYERS_TEXT_OF(GRUQ_MAX_LAYERS) /* "3", or the build's setting */

#define OFF_MAGIC 0u
#define OFF_VERSION 4u
#define OFF_HEADER_BYTES 6u
#define OFF_BLOB_BYTES 8u
#define OFF_CRC 12u
#define OFF_F 16u
#define OFF_H 18u
#define OFF_C 20u
#define OFF_LAYOUT 22u
#define OFF_GENE_COUNT 23u
#define OFF_GENOME 24u
#define OFF_POINT_BITS 56u
#define OFF_ZERO_POINTS 88u
#define OFF_SCALES 188u /* f64[25] then f64[7] weight scales: host information, never used as numbers */
#define SCALE_COUNT 32u
#define OFF_MULTIPLIERS 444u
#define OFF_ADDS 524u
#define OFF_TASK 572u
#define TASK_BYTES 32u
#define OFF_PAYLOAD_BYTES 604u
#define OFF_NORMALIZATION_BYTES 608u /* version 2; reserved (0) in version 1 */
#define OFF_RESERVED 612u            /* versions 1 and 2: 612..639 reserved */
#define OFF_LAYERS 612u              /* version 3: u8 layer count, 613..615 reserved */
#define OFF_LAYER_SECTION_BYTES 616u /* version 3: u32 */
#define OFF_RESERVED_V3 620u         /* version 3: 620..639 reserved */
#define HEADER_GENES 32u

/* The layer section (version 3, layers 2..L): genes 32..95, then per layer a record and its payload. */
#define GENE_EXTENSION_BYTES 64u
#define RECORD_BYTES 512u
#define REC_POINT_BITS 0u
#define REC_ZERO_POINTS 32u
#define REC_SCALES 132u /* f64[25] then f64[6] weight scales */
#define REC_SCALE_COUNT 31u
#define REC_MULTIPLIERS 380u /* ih_r ih_z ih_n hh_r hh_z hh_n mul_rn mul_zn mul_zh */
#define REC_ADDS 452u
#define REC_PAYLOAD_BYTES 500u
#define REC_RESERVED 504u

#define MAX_FEATURES_PLUS_HIDDEN 2048u
#define MAX_CLASSES 1024u
#define MIN_BITS 2u
#define MAX_BITS 8u
#define MIN_SHIFT 1
#define MAX_SHIFT 62
#define BIAS_LIMIT INT32_C(1073741824) /* 2^30 */

/* ------------------------------------------------------------------------------------------------ */
/* Little-endian fields                                                                             */

static uint32_t rd_u16(const uint8_t* p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }

static uint32_t rd_u32(const uint8_t* p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Two's-complement reinterpretation without implementation-defined conversions. */
static int32_t to_i32(uint32_t u) { return u < 0x80000000u ? (int32_t)u : -(int32_t)(~u) - 1; }

static int32_t rd_i32(const uint8_t* p) { return to_i32(rd_u32(p)); }

/* ------------------------------------------------------------------------------------------------ */
/* Arithmetic (docs/quantization.md, "The one rounding rule")                                      */

/* floor(x / 2^n + 1/2) for n in [1, 62], for every int64 x, without overflow and without relying on
 * the implementation-defined right shift of negative values: floor(x / 2^n) plus bit n-1 of x (the
 * fraction is >= 1/2 exactly when that bit of the two's-complement representation is set). */
static int64_t round_shift(int64_t x, int n) {
    const int64_t q = x >= 0 ? (x >> n) : -((-(x + 1)) >> n) - 1;
    return q + (int64_t)(((uint64_t)x >> (n - 1)) & 1u);
}

static int32_t clamp_code(int64_t v, int32_t qmax) { return (int32_t)(v < 0 ? 0 : (v > qmax ? qmax : v)); }

/* clamp(Z + floor(v * M / 2^n + 1/2), 0, qmax). |v| < 2^32 always holds here, so v * M fits int64. */
static int32_t requant(int64_t v, const gruq_multiplier* m, int32_t zero_point, int32_t qmax) {
    return clamp_code(zero_point + round_shift(v * m->mantissa, m->shift), qmax);
}

/* clamp(Z + floor((a A + b B) / 2^n + 1/2), 0, qmax), a and b already minus their zero points. */
static int32_t add_codes(int32_t a, int32_t b, const gruq_add_multiplier* m, int32_t zero_point, int32_t qmax) {
    const int64_t sum = (int64_t)a * m->mantissa_a + (int64_t)b * m->mantissa_b;
    return clamp_code(zero_point + round_shift(sum, m->shift), qmax);
}

static int32_t qmax_of(const gruq_layer* l, int point) { return (int32_t)((1u << l->bits[point]) - 1u); }

/* ------------------------------------------------------------------------------------------------ */
/* CRC-32 (zlib): reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF, a nibble at a time. */

static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};

static uint32_t crc32_of(const uint8_t* p, uint32_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    uint32_t i;
    for (i = 0; i < n; ++i) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
        crc = (crc >> 4) ^ crc_nibble[crc & 15u];
    }
    return crc ^ 0xFFFFFFFFu;
}

/* ------------------------------------------------------------------------------------------------ */
/* LSB-first bit stream                                                                             */

/* Sequential reader. It fetches a byte only when the next field needs bits from it, so it never
 * touches the byte after the one holding the last bit it returns. */
typedef struct {
    const uint8_t* p; /* next byte to fetch */
    uint32_t buf;     /* buffered bits, LSB first */
    uint32_t n;       /* number of buffered bits, 0..7 between reads */
} bit_reader;

static void br_init(bit_reader* r, const uint8_t* stream, uint32_t bit) {
    const uint32_t skip = bit & 7u;
    r->p = stream + (bit >> 3);
    r->buf = 0;
    r->n = 0;
    if (skip != 0) {
        r->buf = (uint32_t)(*r->p++) >> skip;
        r->n = 8u - skip;
    }
}

/* Next b-bit field (b in 2..8), unsigned. */
static uint32_t br_get(bit_reader* r, uint32_t b) {
    uint32_t v;
    if (r->n < b) {
        r->buf |= (uint32_t)(*r->p++) << r->n;
        r->n += 8u;
    }
    v = r->buf & ((1u << b) - 1u);
    r->buf >>= b;
    r->n -= b;
    return v;
}

/* b-bit two's complement field value -> signed value. */
static int32_t sign_extend(uint32_t v, uint32_t b) {
    return (v & (1u << (b - 1u))) ? (int32_t)v - (int32_t)(1u << b) : (int32_t)v;
}

/* The b-bit unsigned field at stream bit `bit` (random access, for the lookup tables). */
static uint32_t read_field(const uint8_t* stream, uint32_t bit, uint32_t b) {
    const uint8_t* p = stream + (bit >> 3);
    const uint32_t off = bit & 7u;
    uint32_t v = (uint32_t)p[0] >> off;
    if (off + b > 8u) v |= (uint32_t)p[1] << (8u - off);
    return v & ((1u << b) - 1u);
}

static int32_t lut(const gruq_layer* l, uint32_t first_bit, int out_point, int32_t index) {
    const uint32_t b = l->bits[out_point];
    return (int32_t)read_field(l->bitstream, first_bit + (uint32_t)index * b, b);
}

/* ------------------------------------------------------------------------------------------------ */
/* Dot products (docs/latency.md)                                                                   */

/* The inner loops' helpers must be inlined, or a call per four products costs more than the products. */
#if defined(__GNUC__)
#define GRUQ_INLINE static __inline__ __attribute__((always_inline))
#else
#define GRUQ_INLINE static
#endif

/* The input of a matrix product, minus its zero point, as little-endian int16 pairs in the workspace
 * ("offsets"): written once per input vector and read by every row of the three gates, so that the inner
 * loops multiply two halfword lanes at a time (SMLAD on a Cortex-M4). Followed by zeros, so that a row's
 * last partial word of up to 16 weights can be computed as a whole one. */
#define OFFSET_PADDING 16u
static void write_offsets(uint8_t* offsets, const uint8_t* in, int32_t zin, uint32_t cols) {
    uint32_t k;
    for (k = 0; k < cols; ++k) {
        const uint32_t v = (uint32_t)((int32_t)in[k] - zin);
        offsets[2u * k] = (uint8_t)(v & 0xFFu);
        offsets[2u * k + 1u] = (uint8_t)((v >> 8) & 0xFFu);
    }
    memset(offsets + 2u * cols, 0, 2u * OFFSET_PADDING);
}

GRUQ_INLINE int32_t offset_at(const uint8_t* offsets, uint32_t k) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    int16_t v; /* one halfword load */
    memcpy(&v, offsets + 2u * k, sizeof v);
    return v;
#else
    const uint32_t v = (uint32_t)offsets[2u * k] | ((uint32_t)offsets[2u * k + 1u] << 8);
    return (int32_t)(v ^ 0x8000u) - 0x8000;
#endif
}

/* Four little-endian bytes (compilers fuse this into one load on little-endian targets). */
GRUQ_INLINE uint32_t load_le32(const uint8_t* p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Halfword-lane primitives: the Cortex-M4 DSP instructions where the compiler offers them (ACLE), the
 * same arithmetic in portable C elsewhere, so every target runs the one kernel below. */
#if defined(__ARM_FEATURE_SIMD32) && !defined(GRUQ_PORTABLE_LANES)
#include <arm_acle.h>
GRUQ_INLINE uint32_t lanes_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }
GRUQ_INLINE int32_t lanes_smlad(uint32_t a, uint32_t b, int32_t acc) { return __smlad((int32_t)a, (int32_t)b, acc); }
#else
GRUQ_INLINE int32_t lane_of(uint32_t x, uint32_t shift, uint32_t bits) { /* sign-extended field of x */
    const uint32_t sign = 1u << (bits - 1u), field = (x >> shift) & ((sign << 1) - 1u);
    return (int32_t)(field ^ sign) - (int32_t)sign;
}
/* [byte 0, byte 2] of x, each sign-extended to a halfword. */
GRUQ_INLINE uint32_t lanes_sxtb16(uint32_t x) {
    return ((uint32_t)lane_of(x, 0, 8) & 0xFFFFu) | (((uint32_t)lane_of(x, 16, 8) & 0xFFFFu) << 16);
}
/* acc + lo(a) lo(b) + hi(a) hi(b), halfwords signed. */
GRUQ_INLINE int32_t lanes_smlad(uint32_t a, uint32_t b, int32_t acc) {
    return acc + lane_of(a, 0, 16) * lane_of(b, 0, 16) + lane_of(a, 16, 16) * lane_of(b, 16, 16);
}
#endif

/* [lo(a), lo(b)] and [hi(a), hi(b)]: two lane pairs back in input order (PKHBT / PKHTB), and the lanes of
 * x rotated right by a byte (SXTB16 with ROR #8). GCC and Clang offer no intrinsic for these forms. */
#if defined(__ARM_FEATURE_SIMD32) && !defined(GRUQ_PORTABLE_LANES) && defined(__GNUC__)
GRUQ_INLINE uint32_t pack_lo(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
GRUQ_INLINE uint32_t pack_hi(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}
GRUQ_INLINE uint32_t lanes_sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#else
GRUQ_INLINE uint32_t pack_lo(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
GRUQ_INLINE uint32_t pack_hi(uint32_t a, uint32_t b) { return (b & 0xFFFF0000u) | (a >> 16); }
GRUQ_INLINE uint32_t lanes_sxtb16_ror8(uint32_t x) { return lanes_sxtb16((x >> 8) | (x << 24)); }
#endif

/* acc + sum of four products. e = [w_a, w_c] and o = [w_b, w_d], halfword lanes of four weights of a word
 * (sub-byte weights scaled by a power of two); [w_a, w_b] meets the offsets at x_ab, [w_c, w_d] those at
 * x_cd (each two consecutive inputs). */
GRUQ_INLINE int32_t mac_pairs(uint32_t e, uint32_t o, const uint8_t* x_ab, const uint8_t* x_cd, int32_t acc) {
    acc = lanes_smlad(pack_lo(e, o), load_le32(x_ab), acc);
    return lanes_smlad(pack_hi(e, o), load_le32(x_cd), acc);
}

/* One field at a time: any width, any bit position. The reference the packed paths are tested against
 * (tests/runtime/kernel_test.c) and the path for 3, 5, 6 and 7 bits. */
static int32_t dot_fields(bit_reader* r, uint32_t b, const uint8_t* offsets, uint32_t first, uint32_t cols) {
    int32_t acc = 0;
    uint32_t k;
    for (k = first; k < cols; ++k) acc += sign_extend(br_get(r, b), b) * offset_at(offsets, k);
    return acc;
}

/* Products of one word of weights with the offsets at x: 4 weights of 8 bits; 8 of 4 bits, each times 16
 * (its nibble moved to the top of its byte); 16 of 2 bits, each times 64. */
GRUQ_INLINE int32_t word_dot8(uint32_t w, const uint8_t* x, int32_t acc) {
    return mac_pairs(lanes_sxtb16(w), lanes_sxtb16_ror8(w), x, x + 4, acc); /* [w0, w2] [w1, w3] */
}

GRUQ_INLINE int32_t word_dot4(uint32_t w, const uint8_t* x, int32_t acc) {
    const uint32_t even = (w << 4) & 0xF0F0F0F0u, odd = w & 0xF0F0F0F0u;
    acc = mac_pairs(lanes_sxtb16(even), lanes_sxtb16(odd), x, x + 8, acc); /* [w0, w4] [w1, w5] */
    return mac_pairs(lanes_sxtb16_ror8(even), lanes_sxtb16_ror8(odd), x + 4, x + 12, acc); /* [w2, w6] [w3, w7] */
}

GRUQ_INLINE int32_t word_dot2(uint32_t w, const uint8_t* x, int32_t acc) {
    const uint32_t f0 = (w << 6) & 0xC0C0C0C0u, f1 = (w << 4) & 0xC0C0C0C0u;
    const uint32_t f2 = (w << 2) & 0xC0C0C0C0u, f3 = w & 0xC0C0C0C0u;
    /* lanes of f_j: weights j and 8 + j; rotated by a byte: 4 + j and 12 + j */
    acc = mac_pairs(lanes_sxtb16(f0), lanes_sxtb16(f1), x, x + 16, acc);
    acc = mac_pairs(lanes_sxtb16(f2), lanes_sxtb16(f3), x + 4, x + 20, acc);
    acc = mac_pairs(lanes_sxtb16_ror8(f0), lanes_sxtb16_ror8(f1), x + 8, x + 24, acc);
    return mac_pairs(lanes_sxtb16_ror8(f2), lanes_sxtb16_ror8(f3), x + 12, x + 28, acc);
}

GRUQ_INLINE int32_t word_dot(uint32_t b, uint32_t w, const uint8_t* x, int32_t acc) {
    return b == 8u ? word_dot8(w, x, acc) : (b == 4u ? word_dot4(w, x, acc) : word_dot2(w, x, acc));
}

/* Eight fields of b = 3, 5, 6 or 7 bits fill exactly b bytes: fields 0-3 are the low 4b bits of the word
 * at p, fields 4-7 the 4b bits from bit 4b, in the word at p + b/2 shifted right by 4b % 8. Reads
 * b/2 + 4 bytes from p. With b a constant each field is one signed bit-field extract (SBFX). */
GRUQ_INLINE int32_t signed_field(uint32_t w, uint32_t shift, uint32_t b) {
    const uint32_t sign = 1u << (b - 1u);
    return (int32_t)(((w >> shift) & ((sign << 1) - 1u)) ^ sign) - (int32_t)sign;
}

GRUQ_INLINE int32_t group_dot(const uint8_t* p, const uint8_t* x, uint32_t b, int32_t acc) {
    const uint32_t lo = load_le32(p), hi = load_le32(p + b / 2u) >> ((4u * b) % 8u);
    /* written out: -O2 does not unroll, and a loop would cost a shift per field */
    acc += signed_field(lo, 0u, b) * offset_at(x, 0u) + signed_field(lo, b, b) * offset_at(x, 1u);
    acc += signed_field(lo, 2u * b, b) * offset_at(x, 2u) + signed_field(lo, 3u * b, b) * offset_at(x, 3u);
    acc += signed_field(hi, 0u, b) * offset_at(x, 4u) + signed_field(hi, b, b) * offset_at(x, 5u);
    return acc + signed_field(hi, 2u * b, b) * offset_at(x, 6u) + signed_field(hi, 3u * b, b) * offset_at(x, 7u);
}

/* sum_k w[k] (in[k] - zin) for b = 3, 5, 6, 7: fields one by one up to the first byte boundary, then
 * groups of eight while the row still holds the bytes a group reads, then the rest one by one. A 6-bit
 * row starting at an odd bit never reaches a byte boundary and goes field by field. */
static int32_t dot_groups(bit_reader* r, uint32_t b, const uint8_t* offsets, uint32_t cols) {
    const uint32_t need = b / 2u + 4u;
    int32_t acc = 0;
    uint32_t k = 0, groups;
    const uint8_t *p, *x;
    for (; r->n != 0u && k < cols && k < 8u; ++k) acc += sign_extend(br_get(r, b), b) * offset_at(offsets, k);
    if (r->n != 0u) return acc + dot_fields(r, b, offsets, k, cols);
    groups = (cols - k) / 8u;
    while (groups > 0u && ((cols - k - 8u * (groups - 1u)) * b + 7u) / 8u < need) --groups;
    p = r->p;
    x = offsets + 2u * k;
    k += 8u * groups;
    switch (b) { /* b a constant in each loop */
    case 3u: for (; groups != 0u; --groups, p += 3, x += 16) acc = group_dot(p, x, 3u, acc); break;
    case 5u: for (; groups != 0u; --groups, p += 5, x += 16) acc = group_dot(p, x, 5u, acc); break;
    case 6u: for (; groups != 0u; --groups, p += 6, x += 16) acc = group_dot(p, x, 6u, acc); break;
    default: for (; groups != 0u; --groups, p += 7, x += 16) acc = group_dot(p, x, 7u, acc); break;
    }
    r->p = p;
    return acc + dot_fields(r, b, offsets, k, cols);
}

/* sum_k w[k] (in[k] - zin) over the next `cols` b-bit weights of the reader. |w| <= 127, |in - zin| <= 255
 * and cols < 2048 keep it far inside int32, also with the weights scaled by 16 or 64. 8-, 4- and 2-bit rows
 * whose fields do not straddle bytes go a word at a time: the fields before the first byte boundary one by
 * one, the last partial word masked (its zero fields meet the offsets' zero padding). Reads no byte past
 * the one holding the row's last bit, and leaves the reader as br_get would. */
static int32_t dot_row(bit_reader* r, uint32_t b, const uint8_t* offsets, uint32_t cols) {
    int32_t head = 0, packed = 0;
    uint32_t k = 0, per_word, words, tail_bits;
    const uint8_t *p, *x;
    if (b != 8u && b != 4u && b != 2u) return dot_groups(r, b, offsets, cols);
    if ((r->n & (b - 1u)) != 0u) return dot_fields(r, b, offsets, 0, cols);
    for (; r->n != 0u && k < cols; ++k) head += sign_extend(br_get(r, b), b) * offset_at(offsets, k);
    if (k == cols) return head;
    per_word = 32u / b;
    words = (cols - k) / per_word;
    tail_bits = (cols - k - words * per_word) * b;
    p = r->p; /* a local copy: stores through r would be reloaded after every word */
    x = offsets + 2u * k;
    if (b == 8u) { /* one loop per width: a test on b inside the loop costs as much as a product */
        for (; words != 0u; --words, p += 4, x += 8) packed = word_dot8(load_le32(p), x, packed);
    } else if (b == 4u) {
        for (; words != 0u; --words, p += 4, x += 16) packed = word_dot4(load_le32(p), x, packed);
    } else {
        for (; words != 0u; --words, p += 4, x += 32) packed = word_dot2(load_le32(p), x, packed);
    }
    if (tail_bits != 0u) {
        const uint32_t whole = tail_bits / 8u, rest = tail_bits % 8u;
        uint32_t w = 0, i;
        for (i = 0; i < whole + (rest != 0u); ++i) w |= (uint32_t)p[i] << (8u * i);
        packed = word_dot(b, w & ((1u << tail_bits) - 1u), x, packed);
        p += whole;
        if (rest != 0u) { /* the row ends inside this byte: its other bits start the next row */
            r->buf = (uint32_t)(*p++) >> rest;
            r->n = 8u - rest;
        }
    }
    r->p = p;
    return head + packed / (int32_t)(b == 8u ? 1 : (b == 4u ? 16 : 64)); /* exact: a multiple */
}

/* out[j] = requant(bias[j] + sum_k w[j,k] (in[k] - zin)) for `rows` rows read from r, the input given as
 * offsets (write_offsets). Identical to the C++ engine's form (bias - zin sum_k w) + sum_k w in[k]: no
 * intermediate overflows in either. */
static void mat_vec(bit_reader* r, uint32_t b, const uint8_t* bias, const uint8_t* offsets, uint32_t rows,
                    uint32_t cols, const gruq_multiplier* mul, int32_t zout, int32_t qmax, uint8_t* out) {
    uint32_t j;
    for (j = 0; j < rows; ++j) {
        const int64_t acc = (int64_t)dot_row(r, b, offsets, cols) + rd_i32(bias + 4u * j);
        out[j] = (uint8_t)requant(acc, mul, zout, qmax);
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* Validation                                                                                       */

/* The runtime never computes with the f64 scales, but accepts exactly the blobs the core reader accepts:
 * each must be positive and finite, tested on its IEEE-754 binary64 bit pattern (sign bit clear, exponent
 * not all ones, not +0). */
static int scale_ok(const uint8_t* p) {
    const uint32_t lo = rd_u32(p), hi = rd_u32(p + 4);
    return (hi >> 31) == 0u && ((hi >> 20) & 0x7FFu) != 0x7FFu && (hi | lo) != 0u;
}

static int is_weight_point(int p) { return (p >= GRUQ_W_IR && p <= GRUQ_W_HN) || p == GRUQ_W_FC; }

static int is_head_point(int p) { return p == GRUQ_W_FC || p == GRUQ_FC; }

/* Weight points' scales must be exactly 1.0 (0x3FF0000000000000): their real scales are in the table of 7. */
static int unit_scale(const uint8_t* p) { return rd_u32(p) == 0u && rd_u32(p + 4) == 0x3FF00000u; }

/* A binary32 value that is finite (exponent not all ones); `positive` also demands > 0. */
static int f32_ok(const uint8_t* p, int positive) {
    const uint32_t v = rd_u32(p);
    if (((v >> 23) & 0xFFu) == 0xFFu) return 0;
    return !positive || ((v >> 31) == 0u && (v & 0x7FFFFFFFu) != 0u);
}

/* The gene (index into the genome bytes) that sets each point's width in one layer, per layout id
 * (default17, homogeneous, per-gate; docs/blob-format.md "Genome layouts"). */
static const uint8_t GENE_OF_POINT[3][GRUQ_POINT_COUNT] = {
    {0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24},
};

/* Genes of layout `layout` stacked `layers` high (docs/blob-format.md "Stacked layouts"): the homogeneous
 * gene sets every layer; otherwise the first layer's genes (all but the head's w_fc, fc, which are the last
 * two of every layout), the cell genes (all but x and the head's) of layers 2..L, then the head's. 0 for an
 * unknown layout. */
static uint32_t gene_count(uint32_t layout, uint32_t layers) {
    uint32_t base;
    if (layout == 1u) return 1u;
    if (layout > 2u) return 0u;
    base = layout == 0u ? 17u : 25u;
    return base + (layers - 1u) * (base - 3u);
}

/* The gene that sets point p of layer l (0-based), or -1 where no gene decides it: layer l >= 1's x (layer
 * l-1's h) and the head's points of the layers before the last (the last layer's). */
static int gene_of(uint32_t layout, uint32_t layers, uint32_t l, int p) {
    uint32_t base, g;
    if (p == GRUQ_X && l > 0u) return -1;
    if (is_head_point(p) && l + 1u < layers) return -1;
    if (layout == 1u) return 0;
    base = layout == 0u ? 17u : 25u;
    g = GENE_OF_POINT[layout][p];
    if (is_head_point(p)) return (int)(g + (layers - 1u) * (base - 3u));
    if (l == 0u) return (int)g;
    return (int)((base - 2u) + (l - 1u) * (base - 3u) + (g - 1u));
}

/* 25 widths in 2..8, then 7 zero bytes. */
static int point_bits_ok(const uint8_t* p) {
    uint32_t i;
    for (i = 0; i < 32u; ++i) {
        if (i < (uint32_t)GRUQ_POINT_COUNT ? (p[i] < MIN_BITS || p[i] > MAX_BITS) : p[i] != 0u) return 0;
    }
    return 1;
}

/* Bits of a layer's stream: W_ih [3H x in], W_hh [3H x H], W_fc [C x H] (the first layer only: C > 0),
 * the three LUTs. 64-bit: no overflow for any header values. */
static uint64_t stream_bits_of(const uint8_t* bits, uint32_t in, uint32_t H, uint32_t C) {
    const uint64_t w_ih = (uint64_t)H * in * ((uint64_t)bits[GRUQ_W_IR] + bits[GRUQ_W_IZ] + bits[GRUQ_W_IN]);
    const uint64_t w_hh = (uint64_t)H * H * ((uint64_t)bits[GRUQ_W_HR] + bits[GRUQ_W_HZ] + bits[GRUQ_W_HN]);
    const uint64_t w_fc = (uint64_t)C * H * bits[GRUQ_W_FC];
    const uint64_t luts = ((uint64_t)1u << bits[GRUQ_SUM_R]) * bits[GRUQ_SIG_R] +
                          ((uint64_t)1u << bits[GRUQ_SUM_Z]) * bits[GRUQ_SIG_Z] +
                          ((uint64_t)1u << bits[GRUQ_SUM_N]) * bits[GRUQ_TANH_N];
    return w_ih + w_hh + w_fc + luts;
}

/* Where one layer's quantizers are: the header (the first layer, with the head's fc multiplier as the 7th of
 * 10 and W_fc's scale as the 7th weight scale) or a layer record (9 multipliers, 6 weight scales). */
typedef struct {
    const uint8_t *point_bits, *zero_points, *scales, *multipliers, *adds;
    uint32_t scale_count; /* point scales then weight scales, contiguous */
    int head;
} layer_fields;

static const uint8_t* multiplier_at(const layer_fields* f, uint32_t slot) {
    return f->multipliers + 8u * (f->head && slot >= 6u ? slot + 1u : slot);
}

/* Zero points, scales, multipliers and sums of one layer (GRUQ_ERR_PARAM rules). */
static int quantizers_ok(const layer_fields* f) {
    const uint32_t multiplier_count = f->head ? 10u : 9u;
    uint32_t i;
    int p;
    for (p = 0; p < GRUQ_POINT_COUNT; ++p) {
        const int32_t z = rd_i32(f->zero_points + 4u * (uint32_t)p);
        const uint32_t b = f->point_bits[p];
        if (is_weight_point(p) || p == GRUQ_SIG_R || p == GRUQ_SIG_Z) {
            if (z != 0) return 0;
        } else if (p == GRUQ_TANH_N) {
            if (z != (int32_t)(1u << (b - 1u)) - 1) return 0;
        } else if (z < 0 || z > (int32_t)((1u << b) - 1u)) {
            return 0;
        }
    }
    for (i = 0; i < f->scale_count; ++i) {
        if (!scale_ok(f->scales + 8u * i)) return 0;
        if (i < (uint32_t)GRUQ_POINT_COUNT && is_weight_point((int)i) && !unit_scale(f->scales + 8u * i)) return 0;
    }
    for (i = 0; i < multiplier_count; ++i) {
        const int32_t mant = rd_i32(f->multipliers + 8u * i);
        const int32_t shift = rd_i32(f->multipliers + 8u * i + 4u);
        if (mant < 0 || shift < MIN_SHIFT || shift > MAX_SHIFT) return 0;
    }
    for (i = 0; i < 4u; ++i) {
        const int32_t a = rd_i32(f->adds + 12u * i);
        const int32_t b = rd_i32(f->adds + 12u * i + 4u);
        const int32_t shift = rd_i32(f->adds + 12u * i + 8u);
        if (a < 0 || b < 0 || shift < MIN_SHIFT || shift > MAX_SHIFT) return 0;
    }
    return 1;
}

/* Every weight of a (rows x cols) b-bit matrix must satisfy |w| <= 2^(b-1) - 1, i.e. differ from the
 * field 1 << (b-1) (= -2^(b-1)). */
static int weights_ok(bit_reader* r, uint32_t b, uint32_t rows, uint32_t cols) {
    const uint32_t forbidden = 1u << (b - 1u);
    uint64_t i;
    const uint64_t n = (uint64_t)rows * cols;
    for (i = 0; i < n; ++i) {
        if (br_get(r, b) == forbidden) return 0;
    }
    return 1;
}

/* Biases, weight codes, tanh LUT entries and padding bits of one layer's payload (C > 0: the first layer,
 * with b_fc and W_fc). */
static int payload_ok(const gruq_layer* ly, uint32_t H, uint32_t C, uint64_t stream_bits) {
    uint32_t i;
    bit_reader r;
    int g;
    for (i = 0; i < 6u * H + C; ++i) {
        const int32_t bias = rd_i32(ly->biases + 4u * i);
        if (bias < -BIAS_LIMIT || bias > BIAS_LIMIT) return 0;
    }
    br_init(&r, ly->bitstream, 0);
    for (g = 0; g < 3; ++g) {
        if (!weights_ok(&r, ly->bits[GRUQ_W_IR + g], H, ly->input_size)) return 0;
    }
    for (g = 0; g < 3; ++g) {
        if (!weights_ok(&r, ly->bits[GRUQ_W_HR + g], H, H)) return 0;
    }
    if (C > 0u && !weights_ok(&r, ly->bits[GRUQ_W_FC], C, H)) return 0;
    {
        /* tanh codes stop at 2^b - 2 (real 1 = code 2 Z); the top code has no value. */
        const uint32_t entries = 1u << ly->bits[GRUQ_SUM_N], top = (1u << ly->bits[GRUQ_TANH_N]) - 2u;
        br_init(&r, ly->bitstream, ly->lut_tanh_n_bit);
        for (i = 0; i < entries; ++i) {
            if (br_get(&r, ly->bits[GRUQ_TANH_N]) > top) return 0;
        }
    }
    if (stream_bits % 8u != 0) { /* padding bits of the last stream byte */
        const uint8_t last = ly->bitstream[stream_bits / 8u];
        if ((last >> (uint32_t)(stream_bits % 8u)) != 0) return 0;
    }
    return 1;
}

/* Decodes one layer's fields (validated or not: a rejected model is zeroed) and its stream offsets. */
static void decode_layer(gruq_layer* ly, const layer_fields* f, const uint8_t* biases, uint32_t in, uint32_t H,
                         uint32_t C) {
    gruq_multiplier* muls[9];
    gruq_add_multiplier* adds[4];
    uint32_t i;
    int p;
    ly->input_size = (uint16_t)in;
    for (p = 0; p < GRUQ_POINT_COUNT; ++p) {
        ly->bits[p] = f->point_bits[p];
        ly->zero_point[p] = (uint8_t)rd_i32(f->zero_points + 4u * (uint32_t)p); /* 0..255 once validated */
    }
    muls[0] = &ly->ih[0];
    muls[1] = &ly->ih[1];
    muls[2] = &ly->ih[2];
    muls[3] = &ly->hh[0];
    muls[4] = &ly->hh[1];
    muls[5] = &ly->hh[2];
    muls[6] = &ly->mul_rn;
    muls[7] = &ly->mul_zn;
    muls[8] = &ly->mul_zh;
    for (i = 0; i < 9u; ++i) {
        muls[i]->mantissa = rd_i32(multiplier_at(f, i));
        muls[i]->shift = rd_i32(multiplier_at(f, i) + 4u);
    }
    adds[0] = &ly->sum_r;
    adds[1] = &ly->sum_z;
    adds[2] = &ly->sum_n;
    adds[3] = &ly->h;
    for (i = 0; i < 4u; ++i) {
        adds[i]->mantissa_a = rd_i32(f->adds + 12u * i);
        adds[i]->mantissa_b = rd_i32(f->adds + 12u * i + 4u);
        adds[i]->shift = rd_i32(f->adds + 12u * i + 8u);
    }
    ly->biases = biases;
    ly->bitstream = biases + 4u * (6u * H + C);
    ly->w_hh_bit = H * in * ((uint32_t)ly->bits[GRUQ_W_IR] + ly->bits[GRUQ_W_IZ] + ly->bits[GRUQ_W_IN]);
    ly->lut_sig_r_bit = ly->w_hh_bit + H * H * ((uint32_t)ly->bits[GRUQ_W_HR] + ly->bits[GRUQ_W_HZ] + ly->bits[GRUQ_W_HN]) +
                        C * H * ly->bits[GRUQ_W_FC];
    ly->lut_sig_z_bit = ly->lut_sig_r_bit + (1u << ly->bits[GRUQ_SUM_R]) * ly->bits[GRUQ_SIG_R];
    ly->lut_tanh_n_bit = ly->lut_sig_z_bit + (1u << ly->bits[GRUQ_SUM_Z]) * ly->bits[GRUQ_SIG_Z];
}

static int init_model(gruq_model* model, const uint8_t* blob, uint32_t blob_bytes) {
    uint32_t field_bytes, F, H, C, L, layout, genes, i, l, version, normalization_bytes, section_bytes;
    uint64_t payload, at, stream_bits[GRUQ_MAX_LAYERS];
    const uint8_t* section = NULL;
    const uint8_t* record[GRUQ_MAX_LAYERS];
    layer_fields fields[GRUQ_MAX_LAYERS];
    int p;

    if (blob_bytes < 16u) return GRUQ_ERR_TRUNCATED;
    field_bytes = rd_u32(blob + OFF_BLOB_BYTES);
    /* Identity before length, so a file that is not a blob is reported as such, not as truncated. */
    if (blob[OFF_MAGIC] != 0x47u || blob[OFF_MAGIC + 1] != 0x52u || blob[OFF_MAGIC + 2] != 0x55u ||
        blob[OFF_MAGIC + 3] != 0x51u) {
        return GRUQ_ERR_MAGIC;
    }
    version = rd_u16(blob + OFF_VERSION);
    if (version < GRUQ_OLDEST_FORMAT_VERSION || version > GRUQ_FORMAT_VERSION) return GRUQ_ERR_VERSION;
    if (rd_u16(blob + OFF_HEADER_BYTES) != GRUQ_HEADER_BYTES) return GRUQ_ERR_HEADER;
    if (blob_bytes < field_bytes) return GRUQ_ERR_TRUNCATED;
    if (blob_bytes > field_bytes || field_bytes < GRUQ_HEADER_BYTES) return GRUQ_ERR_SIZE;
    /* From here on blob_bytes == field_bytes >= 640: the whole header is readable. */
    if (crc32_of(blob + 16, blob_bytes - 16u) != rd_u32(blob + OFF_CRC)) return GRUQ_ERR_CRC;

    L = version >= 3u ? blob[OFF_LAYERS] : 1u; /* versions 1 and 2: one layer, byte 612 reserved */
    if (L < 1u || L > (uint32_t)GRUQ_MAX_LAYERS) return GRUQ_ERR_LAYERS;
    F = rd_u16(blob + OFF_F);
    H = rd_u16(blob + OFF_H);
    C = rd_u16(blob + OFF_C);
    if (F < 1u || H < 1u || F + H > MAX_FEATURES_PLUS_HIDDEN || C < 1u || C > MAX_CLASSES) return GRUQ_ERR_SHAPE;

    /* The genes in the header and the first layer's widths. */
    layout = blob[OFF_LAYOUT];
    genes = blob[OFF_GENE_COUNT];
    if (layout > 2u || genes != gene_count(layout, L)) return GRUQ_ERR_BITS;
    for (i = 0; i < HEADER_GENES; ++i) {
        const uint32_t b = blob[OFF_GENOME + i];
        if (i < genes ? (b < MIN_BITS || b > MAX_BITS) : b != 0u) return GRUQ_ERR_BITS;
    }
    if (!point_bits_ok(blob + OFF_POINT_BITS)) return GRUQ_ERR_BITS;
    for (p = 0; p < GRUQ_POINT_COUNT; ++p) { /* the points a gene decides (all of them for one layer) */
        const int g = gene_of(layout, L, 0u, p);
        if (g >= 0 && blob[OFF_POINT_BITS + (uint32_t)p] != blob[OFF_GENOME + (uint32_t)g]) return GRUQ_ERR_BITS;
    }

    /* Sizes implied by shape and bits (64-bit: no overflow for any header values). */
    stream_bits[0] = stream_bits_of(blob + OFF_POINT_BITS, F, H, C);
    payload = 4u * (6u * (uint64_t)H + C) + (stream_bits[0] + 7u) / 8u;
    normalization_bytes = version >= 2u ? rd_u32(blob + OFF_NORMALIZATION_BYTES) : 0u;
    if (normalization_bytes != 0u && normalization_bytes != 8u * F) return GRUQ_ERR_SIZE;
    section_bytes = version >= 3u ? rd_u32(blob + OFF_LAYER_SECTION_BYTES) : 0u;
    if (rd_u32(blob + OFF_PAYLOAD_BYTES) != payload ||
        (uint64_t)blob_bytes != GRUQ_HEADER_BYTES + payload + normalization_bytes + (uint64_t)section_bytes) {
        return GRUQ_ERR_SIZE;
    }
    /* From here on the payload, normalisation and layer sections are known to be inside the buffer. */

    /* The layer section: genes 32.., then per layer 2..L its record and payload, each checked to lie inside
     * the section before it is read. */
    if (L == 1u && section_bytes != 0u) return GRUQ_ERR_LAYER_SECTION;
    for (l = 0; l < (uint32_t)GRUQ_MAX_LAYERS; ++l) {
        record[l] = NULL;
        if (l > 0u) stream_bits[l] = 0u;
    }
    if (L > 1u) {
        section = blob + GRUQ_HEADER_BYTES + (uint32_t)payload + normalization_bytes;
        if (section_bytes < GENE_EXTENSION_BYTES) return GRUQ_ERR_LAYER_SECTION;
        for (i = 0; i < GENE_EXTENSION_BYTES; ++i) {
            const uint32_t b = section[i];
            if (HEADER_GENES + i < genes ? (b < MIN_BITS || b > MAX_BITS) : b != 0u) return GRUQ_ERR_BITS;
        }
        at = GENE_EXTENSION_BYTES;
        for (l = 1; l < L; ++l) {
            uint64_t layer_payload;
            if (at + RECORD_BYTES > section_bytes) return GRUQ_ERR_LAYER_SECTION;
            record[l] = section + (uint32_t)at;
            if (!point_bits_ok(record[l] + REC_POINT_BITS)) return GRUQ_ERR_BITS;
            stream_bits[l] = stream_bits_of(record[l] + REC_POINT_BITS, H, H, 0u);
            layer_payload = 24u * (uint64_t)H + (stream_bits[l] + 7u) / 8u;
            if (rd_u32(record[l] + REC_PAYLOAD_BYTES) != layer_payload) return GRUQ_ERR_LAYER_SECTION;
            at += RECORD_BYTES + layer_payload;
            if (at > section_bytes) return GRUQ_ERR_LAYER_SECTION;
        }
        if (at != section_bytes) return GRUQ_ERR_LAYER_SECTION;
        /* Every width of every layer: its gene's, or layer l-1's h (x), or the last layer's (head points). */
        for (l = 0; l < L; ++l) {
            const uint8_t* bits = l == 0u ? blob + OFF_POINT_BITS : record[l] + REC_POINT_BITS;
            for (p = 0; p < GRUQ_POINT_COUNT; ++p) {
                const int g = gene_of(layout, L, l, p);
                uint32_t expected;
                if (g >= 0) {
                    expected = (uint32_t)g < HEADER_GENES ? blob[OFF_GENOME + (uint32_t)g] : section[(uint32_t)g - HEADER_GENES];
                } else if (p == GRUQ_X && l > 0u) { /* (layer 1's x has a gene: l > 0 here) */
                    expected = (l == 1u ? blob + OFF_POINT_BITS : record[l - 1u] + REC_POINT_BITS)[GRUQ_H];
                } else {
                    expected = record[L - 1u][REC_POINT_BITS + (uint32_t)p];
                }
                if (bits[p] != expected) return GRUQ_ERR_BITS;
            }
        }
        /* Layer l >= 2's x quantizer is layer l-1's h quantizer: the same zero point and scale bytes. */
        for (l = 1; l < L; ++l) {
            const uint8_t* prev_zero = l == 1u ? blob + OFF_ZERO_POINTS : record[l - 1u] + REC_ZERO_POINTS;
            const uint8_t* prev_scale = l == 1u ? blob + OFF_SCALES : record[l - 1u] + REC_SCALES;
            if (memcmp(record[l] + REC_ZERO_POINTS + 4u * GRUQ_X, prev_zero + 4u * GRUQ_H, 4) != 0 ||
                memcmp(record[l] + REC_SCALES + 8u * GRUQ_X, prev_scale + 8u * GRUQ_H, 8) != 0) {
                return GRUQ_ERR_LAYER_SECTION;
            }
        }
    }

    /* Parameters. */
    for (l = 0; l < L; ++l) {
        layer_fields* f = &fields[l];
        const uint8_t* base = l == 0u ? NULL : record[l];
        f->head = l == 0u;
        f->point_bits = l == 0u ? blob + OFF_POINT_BITS : base + REC_POINT_BITS;
        f->zero_points = l == 0u ? blob + OFF_ZERO_POINTS : base + REC_ZERO_POINTS;
        f->scales = l == 0u ? blob + OFF_SCALES : base + REC_SCALES;
        f->scale_count = l == 0u ? SCALE_COUNT : REC_SCALE_COUNT;
        f->multipliers = l == 0u ? blob + OFF_MULTIPLIERS : base + REC_MULTIPLIERS;
        f->adds = l == 0u ? blob + OFF_ADDS : base + REC_ADDS;
        if (!quantizers_ok(f)) return GRUQ_ERR_PARAM;
        if (l > 0u) {
            for (i = REC_RESERVED; i < RECORD_BYTES; ++i) {
                if (base[i] != 0u) return GRUQ_ERR_PARAM;
            }
        }
    }
    {
        /* Task name: printable ASCII, at most 31 characters, NUL after the first NUL. */
        uint32_t ended = 0u;
        for (i = 0; i < TASK_BYTES; ++i) {
            const uint8_t c = blob[OFF_TASK + i];
            if (c == 0u) {
                ended = 1u;
            } else if (ended || i == TASK_BYTES - 1u || c < 32u || c > 126u) {
                return GRUQ_ERR_PARAM;
            }
        }
    }
    for (i = version >= 2u ? OFF_RESERVED : OFF_NORMALIZATION_BYTES; i < GRUQ_HEADER_BYTES; ++i) {
        const int field = version >= 3u && (i == OFF_LAYERS || (i >= OFF_LAYER_SECTION_BYTES && i < OFF_RESERVED_V3));
        if (!field && blob[i] != 0u) return GRUQ_ERR_PARAM;
    }
    model->normalization = normalization_bytes != 0u ? blob + GRUQ_HEADER_BYTES + (uint32_t)payload : NULL;
    if (model->normalization != NULL) {
        for (i = 0; i < F; ++i) {
            if (!f32_ok(model->normalization + 4u * i, 0) || !f32_ok(model->normalization + 4u * (F + i), 1)) {
                return GRUQ_ERR_PARAM;
            }
        }
    }
    for (l = 0; l < L; ++l) {
        gruq_layer* ly = &model->layer[l];
        decode_layer(ly, &fields[l], l == 0u ? blob + GRUQ_HEADER_BYTES : record[l] + RECORD_BYTES, l == 0u ? F : H, H,
                     l == 0u ? C : 0u);
        if (!payload_ok(ly, H, l == 0u ? C : 0u, stream_bits[l])) return GRUQ_ERR_PARAM;
    }

    model->input_features = (uint16_t)F;
    model->hidden_size = (uint16_t)H;
    model->classes = (uint16_t)C;
    model->layers = (uint8_t)L;
    for (p = 0; p < GRUQ_POINT_COUNT; ++p) {
        model->bits[p] = model->layer[0].bits[p];
        model->zero_point[p] = model->layer[0].zero_point[p];
    }
    model->zero_point[GRUQ_FC] = model->layer[L - 1u].zero_point[GRUQ_FC]; /* the logits are the head's */
    model->fc.mantissa = rd_i32(blob + OFF_MULTIPLIERS + 8u * 6u);
    model->fc.shift = rd_i32(blob + OFF_MULTIPLIERS + 8u * 6u + 4u);
    model->fc_biases = blob + GRUQ_HEADER_BYTES + 4u * 6u * H;
    model->w_fc_bit = model->layer[0].lut_sig_r_bit - C * H * model->bits[GRUQ_W_FC];
    model->blob = blob;
    model->blob_bytes = blob_bytes;
    return GRUQ_OK;
}

int gruq_model_init(gruq_model* model, const uint8_t* blob, uint32_t blob_bytes) {
    int rc;
    if (model == NULL) return GRUQ_ERR_ARGUMENT;
    memset(model, 0, sizeof *model);
    if (blob == NULL) return GRUQ_ERR_ARGUMENT;
    rc = init_model(model, blob, blob_bytes);
    if (rc != GRUQ_OK) memset(model, 0, sizeof *model); /* a rejected model cannot be used by accident */
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* Inference                                                                                        */

/* h (L x H), ih and hh (3H each), then the offsets of the wider of x and h (2 bytes each) and their padding. */
uint32_t gruq_workspace_bytes(const gruq_model* model) {
    uint32_t F, H, L;
    if (model == NULL) return 0u;
    F = model->input_features;
    H = model->hidden_size;
    L = model->layers;
    return GRUQ_WORKSPACE_BYTES(F, H, L);
}

int gruq_state_init(gruq_state* state, const gruq_model* model, void* workspace, uint32_t workspace_bytes) {
    uint8_t* ws = (uint8_t*)workspace;
    uint32_t H, L;
    if (state == NULL || model == NULL || workspace == NULL || model->blob == NULL) return GRUQ_ERR_ARGUMENT;
    H = model->hidden_size;
    L = model->layers;
    if (workspace_bytes < gruq_workspace_bytes(model)) return GRUQ_ERR_WORKSPACE;
    state->model = model;
    state->h = ws;
    state->ih = ws + L * H;
    state->hh = ws + (L + 3u) * H;
    state->offsets = ws + (L + 6u) * H;
    gruq_reset(state);
    return GRUQ_OK;
}

void gruq_reset(gruq_state* state) {
    uint32_t l, H;
    if (state == NULL || state->model == NULL) return;
    H = state->model->hidden_size;
    for (l = 0; l < state->model->layers; ++l) {
        memset(state->h + H * l, (int)state->model->layer[l].zero_point[GRUQ_H], H);
    }
}

/* The element-wise part of a layer's step from ih and hh (docs/quantization.md). h[j] is read (old value)
 * before it is overwritten, and only by element j. */
static void update_hidden(const gruq_layer* m, uint32_t H, const uint8_t* ih, const uint8_t* hh, uint8_t* h) {
    const int32_t z_h = m->zero_point[GRUQ_H];
    int32_t z_ih[3], z_hh[3], z_sig_r, z_sig_z, z_tanh, z_rn, z_zn, z_zh, q_sig_z;
    uint32_t j;
    int g;

    for (g = 0; g < 3; ++g) {
        z_ih[g] = m->zero_point[GRUQ_IH_R + g];
        z_hh[g] = m->zero_point[GRUQ_HH_R + g];
    }
    z_sig_r = m->zero_point[GRUQ_SIG_R];
    z_sig_z = m->zero_point[GRUQ_SIG_Z];
    z_tanh = m->zero_point[GRUQ_TANH_N];
    z_rn = m->zero_point[GRUQ_MUL_RN];
    z_zn = m->zero_point[GRUQ_MUL_ZN];
    z_zh = m->zero_point[GRUQ_MUL_ZH];
    q_sig_z = qmax_of(m, GRUQ_SIG_Z);

    for (j = 0; j < H; ++j) {
        const int32_t sr = add_codes((int32_t)ih[j] - z_ih[0], (int32_t)hh[j] - z_hh[0], &m->sum_r,
                                     m->zero_point[GRUQ_SUM_R], qmax_of(m, GRUQ_SUM_R));
        const int32_t sz = add_codes((int32_t)ih[H + j] - z_ih[1], (int32_t)hh[H + j] - z_hh[1], &m->sum_z,
                                     m->zero_point[GRUQ_SUM_Z], qmax_of(m, GRUQ_SUM_Z));
        const int32_t rc = lut(m, m->lut_sig_r_bit, GRUQ_SIG_R, sr);
        const int32_t zc = lut(m, m->lut_sig_z_bit, GRUQ_SIG_Z, sz);
        const int32_t rn = requant((int64_t)(rc - z_sig_r) * ((int32_t)hh[2u * H + j] - z_hh[2]), &m->mul_rn, z_rn,
                                   qmax_of(m, GRUQ_MUL_RN));
        const int32_t sn = add_codes((int32_t)ih[2u * H + j] - z_ih[2], rn - z_rn, &m->sum_n, m->zero_point[GRUQ_SUM_N],
                                     qmax_of(m, GRUQ_SUM_N));
        const int32_t nc = lut(m, m->lut_tanh_n_bit, GRUQ_TANH_N, sn);
        /* 1 - z exactly: the sigmoid quantizer has 1 = qmax S_z, so 1 - z has code qmax + Z_z - z. */
        const int32_t one_minus_z = q_sig_z + z_sig_z - zc;
        const int32_t zn = requant((int64_t)one_minus_z * (nc - z_tanh), &m->mul_zn, z_zn, qmax_of(m, GRUQ_MUL_ZN));
        const int32_t zh = requant((int64_t)(zc - z_sig_z) * ((int32_t)h[j] - z_h), &m->mul_zh, z_zh,
                                   qmax_of(m, GRUQ_MUL_ZH));
        h[j] = (uint8_t)add_codes(zn - z_zn, zh - z_zh, &m->h, z_h, qmax_of(m, GRUQ_H));
    }
}

/* One step of one layer: ih = requant(W_ih in + b_ih), hh = requant(W_hh h + b_hh), gate by gate (r, z, n),
 * then the new h. `in` holds the layer's input codes (x for the first layer, layer l-1's new h after). */
static void layer_step(gruq_state* state, const gruq_layer* m, const uint8_t* in, uint8_t* h) {
    const uint32_t H = state->model->hidden_size;
    const uint8_t* bias_hh = m->biases + 4u * 3u * H;
    bit_reader r;
    int g;

    write_offsets(state->offsets, in, m->zero_point[GRUQ_X], m->input_size);
    br_init(&r, m->bitstream, 0u);
    for (g = 0; g < 3; ++g) {
        mat_vec(&r, m->bits[GRUQ_W_IR + g], m->biases + 4u * H * (uint32_t)g, state->offsets, H, m->input_size, &m->ih[g],
                m->zero_point[GRUQ_IH_R + g], qmax_of(m, GRUQ_IH_R + g), state->ih + H * (uint32_t)g);
    }
    write_offsets(state->offsets, h, m->zero_point[GRUQ_H], H);
    br_init(&r, m->bitstream, m->w_hh_bit);
    for (g = 0; g < 3; ++g) {
        mat_vec(&r, m->bits[GRUQ_W_HR + g], bias_hh + 4u * H * (uint32_t)g, state->offsets, H, H, &m->hh[g],
                m->zero_point[GRUQ_HH_R + g], qmax_of(m, GRUQ_HH_R + g), state->hh + H * (uint32_t)g);
    }
    update_hidden(m, H, state->ih, state->hh, h);
}

void gruq_step(gruq_state* state, const uint8_t* input_codes) {
    const gruq_model* m;
    uint32_t l, H;
    if (state == NULL || state->model == NULL || input_codes == NULL) return;
    m = state->model;
    H = m->hidden_size;
    /* Every layer in turn; layer l >= 1 reads layer l-1's h codes just computed. */
    for (l = 0; l < m->layers; ++l) {
        layer_step(state, &m->layer[l], l == 0u ? input_codes : state->h + H * (l - 1u), state->h + H * l);
    }
}

int gruq_logits(const gruq_state* state, int32_t* logits) {
    const gruq_model* m;
    const gruq_layer* last;
    bit_reader r;
    uint32_t H, C, c;
    int32_t best_value = -1, z_fc, q_fc;
    uint32_t wb;
    int best = 0;

    if (state == NULL || state->model == NULL) return GRUQ_ERR_ARGUMENT;
    m = state->model;
    H = m->hidden_size;
    C = m->classes;
    last = &m->layer[m->layers - 1u];
    z_fc = last->zero_point[GRUQ_FC];
    q_fc = qmax_of(last, GRUQ_FC);
    wb = m->bits[GRUQ_W_FC];
    /* scratch: the hidden state itself is not changed */
    write_offsets(state->offsets, state->h + H * (m->layers - 1u), last->zero_point[GRUQ_H], H);
    br_init(&r, m->layer[0].bitstream, m->w_fc_bit);
    for (c = 0; c < C; ++c) {
        const int64_t acc = (int64_t)dot_row(&r, wb, state->offsets, H) + rd_i32(m->fc_biases + 4u * c);
        const int32_t code = requant(acc, &m->fc, z_fc, q_fc);
        if (logits != NULL) logits[c] = code;
        if (code > best_value) { /* strictly greater: ties go to the lowest index */
            best_value = code;
            best = (int)c;
        }
    }
    return best;
}

int gruq_classify(gruq_state* state, const uint8_t* input_codes, uint32_t steps, int32_t* logits) {
    uint32_t t, F;
    if (state == NULL || state->model == NULL || (input_codes == NULL && steps > 0u)) return GRUQ_ERR_ARGUMENT;
    F = state->model->input_features;
    gruq_reset(state);
    for (t = 0; t < steps; ++t) gruq_step(state, input_codes + (uint64_t)t * F);
    return gruq_logits(state, logits);
}

void gruq_quantize_input(const gruq_model* model, const int32_t* multiplier, const int64_t* offset, int32_t shift,
                         const int16_t* raw, uint8_t* codes) {
    uint32_t f;
    int32_t z, qmax;
    if (model == NULL || multiplier == NULL || offset == NULL || raw == NULL || codes == NULL) return;
    if (shift < MIN_SHIFT) shift = MIN_SHIFT; /* out-of-contract shifts: keep the arithmetic defined */
    if (shift > MAX_SHIFT) shift = MAX_SHIFT;
    z = model->zero_point[GRUQ_X];
    qmax = (int32_t)((1u << model->bits[GRUQ_X]) - 1u);
    for (f = 0; f < model->input_features; ++f) {
        const int64_t product = (int64_t)raw[f] * multiplier[f]; /* |product| < 2^46 */
        const int64_t off = offset[f];
        int64_t sum;
        /* Saturate instead of overflowing: a saturated sum clamps to the same code as the exact one. */
        if (off > 0 && product > INT64_MAX - off) {
            sum = INT64_MAX;
        } else if (off < 0 && product < INT64_MIN - off) {
            sum = INT64_MIN;
        } else {
            sum = product + off;
        }
        codes[f] = (uint8_t)clamp_code(z + round_shift(sum, shift), qmax);
    }
}

const char* gruq_error_string(int code) {
    switch (code) {
    case GRUQ_OK: return "OK: no error.";
    case GRUQ_ERR_ARGUMENT: return "Invalid argument: a required pointer is null or the model is not initialised.";
    case GRUQ_ERR_TRUNCATED: return "Truncated blob: the buffer is shorter than 16 bytes or than its blob-bytes field.";
    case GRUQ_ERR_MAGIC: return "Bad magic: this is not a gruq model blob.";
    case GRUQ_ERR_VERSION: return "Unsupported version: this runtime reads blob format versions 1 to 3.";
    case GRUQ_ERR_HEADER: return "Bad header: the header-size field is not 640.";
    case GRUQ_ERR_SIZE:
        return "Size mismatch: the blob or payload size disagrees with the buffer length or with the shape and bits.";
    case GRUQ_ERR_CRC: return "CRC mismatch: the blob is damaged.";
    case GRUQ_ERR_SHAPE: return "Bad shape: features, hidden size or classes out of range.";
    case GRUQ_ERR_BITS: return "Bad bits: genome layout, gene count or a bit width out of range, or genes that do not give the point widths.";
    case GRUQ_ERR_PARAM:
        return "Bad parameter: a zero point, scale, multiplier, shift, bias, weight code, padding bit or reserved "
               "byte is invalid.";
    case GRUQ_ERR_WORKSPACE:
        return "Workspace too small: it needs gruq_workspace_bytes() bytes ((L + 6) H + 2 max(F, H) + 32).";
    case GRUQ_ERR_LAYERS:
        return "Bad layer count: the blob's GRU has 0 layers or more than this runtime's " GRUQ_LAYERS_TEXT " (GRUQ_MAX_LAYERS).";
    case GRUQ_ERR_LAYER_SECTION:
        return "Bad layer section: the layers after the first are truncated, too long, or do not take the previous "
               "layer's hidden state as their input.";
    default: return "Unknown error code.";
    }
}
