/* libFuzzer target for the C runtime's blob parser (resources/runtime/gruq_runtime.c).
 *
 * The input is a candidate blob. gruq_model_init must reject it with one of the documented codes or
 * accept it without reading outside the buffer; an accepted model is then run for a few steps (the
 * inference must not read outside the blob or the workspace either) with input codes taken from the
 * input bytes. Input codes are clamped to the x quantizer's range, as the API requires; one extra step
 * with unclamped codes (up to 255) checks that out-of-contract codes cannot cause out-of-bounds reads.
 *
 * Each input is parsed twice: as it is (every check, including the CRC), then with its blob-bytes and
 * payload-bytes fields (version 3: layer-section-bytes field) set to fit the input's length and its CRC
 * recomputed, so that mutations reach the
 * shape, bits and parameter checks and the inference instead of dying at the checksum. The valid seeds
 * of scripts/fuzz.sh give the fuzzer well-formed blobs to mutate. Build: see scripts/fuzz.sh.
 */
#include "gruq_runtime.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKSPACE (64u * 1024u)
#define MAX_STEPS 3u

static uint8_t workspace[MAX_WORKSPACE];
static uint8_t codes[MAX_STEPS * 2048u];

static uint32_t crc32_bitwise(const uint8_t* p, size_t n) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; ++i) {
        crc ^= p[i];
        for (k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

static void put_u32(uint8_t* p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t* p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int checked_init(gruq_model* model, const uint8_t* blob, size_t size) {
    const int rc = gruq_model_init(model, blob, (uint32_t)size);
    /* not a documented init result (GRUQ_ERR_WORKSPACE is not one either) */
    if (rc > 0 || rc < GRUQ_ERR_LAYER_SECTION || rc == GRUQ_ERR_ARGUMENT || rc == GRUQ_ERR_WORKSPACE) abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    gruq_model model;
    gruq_state state;
    int32_t logits[1024];
    uint8_t* copy;
    uint32_t F, xmax, i, steps, ws;
    int rc, cls;

    if (size > 0xFFFFFFFFu) return 0;
    /* An exact-size heap copy, so that AddressSanitizer catches a read of even one byte past the end. */
    copy = (uint8_t*)malloc(size ? size : 1);
    if (copy == NULL) return 0;
    if (size) memcpy(copy, data, size);

    rc = checked_init(&model, copy, size);
    if (rc != GRUQ_OK && size >= 16u) {
        put_u32(copy + 8, (uint32_t)size);
        /* One layer (versions 1 and 2, or byte 612 <= 1): the payload takes the rest, so that cuts and growths
         * reach the parameter checks. A stacked version-3 blob: the layer section does (its payload and
         * normalisation fields kept), so that they reach the layer checks. */
        if (size >= GRUQ_HEADER_BYTES) {
            if (copy[4] == 3u && copy[612] > 1u) {
                const uint64_t used = (uint64_t)GRUQ_HEADER_BYTES + get_u32(copy + 604) + get_u32(copy + 608);
                if (used <= size) put_u32(copy + 616, (uint32_t)(size - used));
            } else {
                put_u32(copy + 604, (uint32_t)(size - GRUQ_HEADER_BYTES));
            }
        }
        put_u32(copy + 12, crc32_bitwise(copy + 16, size - 16u));
        rc = checked_init(&model, copy, size);
    }
    if (rc != GRUQ_OK) {
        free(copy);
        return 0;
    }
    ws = gruq_workspace_bytes(&model);
    if (ws > MAX_WORKSPACE) {
        free(copy);
        return 0;
    }
    if (gruq_state_init(&state, &model, workspace, ws - 1u) != GRUQ_ERR_WORKSPACE) abort();
    if (gruq_state_init(&state, &model, workspace, ws) != GRUQ_OK) abort();

    F = model.input_features;
    xmax = (1u << model.bits[GRUQ_X]) - 1u;
    steps = MAX_STEPS;
    for (i = 0; i < steps * F; ++i) codes[i] = (uint8_t)((size ? data[(i * 7u) % size] : 0u) & xmax);
    cls = gruq_classify(&state, codes, steps, logits);
    if (cls < 0 || cls >= (int)model.classes) abort();
    for (i = 0; i < model.classes; ++i) {
        if (logits[i] < 0 || logits[i] > (int32_t)((1u << model.bits[GRUQ_FC]) - 1u)) abort();
        if (logits[i] > logits[cls] || (logits[i] == logits[cls] && (int)i < cls)) abort(); /* argmax rule */
    }
    /* Out-of-contract input codes: must stay in bounds. */
    for (i = 0; i < F; ++i) codes[i] = (uint8_t)(255u - (i & 3u));
    gruq_step(&state, codes);
    cls = gruq_logits(&state, NULL);
    if (cls < 0 || cls >= (int)model.classes) abort();
    free(copy);
    return 0;
}
