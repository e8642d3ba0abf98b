/* The C runtime's word-at-a-time dot products (8-, 4- and 2-bit rows) against its field-by-field
 * reference, on every width 2..8, every starting bit offset 0..7, row lengths 1..80 and whole matrices
 * of consecutive rows (so rows start at every alignment a real blob produces): the sums and the bit
 * reader's state after each row must be identical. Built for the host (portable lanes), 32-bit ARM
 * Linux (qemu-arm: the DSP instructions) and the Cortex-M4 (QEMU mps2-an386) by test_firmware_export.
 * Prints "kernels: N rows, all equal" and exits 0, or names the first difference and exits 1. */
#include "gruq_runtime.c"

#include <stdio.h>

#define MAX_COLS 80u
#define MAX_ROWS 5u

static uint32_t rng_state = 12345u;
static uint32_t next_random(void) { /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Writes the b-bit field v at stream bit `bit`. */
static void put_field(uint8_t* stream, uint32_t bit, uint32_t b, uint32_t v) {
    uint32_t i;
    for (i = 0; i < b; ++i, ++bit) {
        if ((v >> i) & 1u) stream[bit >> 3] |= (uint8_t)(1u << (bit & 7u));
    }
}

static uint8_t stream[MAX_ROWS * MAX_COLS + 8u];
static uint8_t codes[MAX_COLS];
static uint8_t offsets[2u * (MAX_COLS + OFFSET_PADDING)];

int main(void) {
    uint32_t b, start, cols, rows, j, k, compared = 0;
    for (b = 2; b <= 8u; ++b) {
        for (start = 0; start < 8u; ++start) {
            for (cols = 1; cols <= MAX_COLS; ++cols) {
                const uint32_t forbidden = 1u << (b - 1u);
                const int32_t zin = (int32_t)(next_random() % 256u);
                bit_reader fast, reference;
                rows = 1u + next_random() % MAX_ROWS;
                memset(stream, 0, sizeof stream);
                for (k = 0; k < rows * cols; ++k) {
                    uint32_t v;
                    do {
                        v = next_random() & ((1u << b) - 1u);
                    } while (v == forbidden);
                    put_field(stream, start + k * b, b, v);
                }
                for (k = 0; k < cols; ++k) codes[k] = (uint8_t)(next_random() % 256u);
                /* extreme inputs and weights now and then */
                if (cols % 7u == 0u) memset(codes, 0, cols);
                if (cols % 11u == 0u) memset(codes, 255, cols);
                write_offsets(offsets, codes, zin, cols);
                br_init(&fast, stream, start);
                br_init(&reference, stream, start);
                for (j = 0; j < rows; ++j, ++compared) {
                    const int32_t got = dot_row(&fast, b, offsets, cols);
                    const int32_t want = dot_fields(&reference, b, offsets, 0, cols);
                    if (got != want || fast.p != reference.p || fast.n != reference.n || fast.buf != reference.buf) {
                        printf("kernels: DIFFERENCE at %lu bits, start bit %lu, %lu columns, row %lu: %ld against %ld "
                               "(reader %ld/%lu/%lu against %ld/%lu/%lu)\n",
                               (unsigned long)b, (unsigned long)start, (unsigned long)cols, (unsigned long)j,
                               (long)got, (long)want, (long)(fast.p - stream), (unsigned long)fast.n,
                               (unsigned long)fast.buf, (long)(reference.p - stream), (unsigned long)reference.n,
                               (unsigned long)reference.buf);
                        return 1;
                    }
                }
            }
        }
    }
    printf("kernels: %lu rows, all equal\n", (unsigned long)compared);
    return 0;
}
