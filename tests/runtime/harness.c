/* Test driver for the C runtime (resources/runtime/gruq_runtime.c), on the host or under qemu.
 *
 *     harness MODEL.bin CODES.bin OUT.bin      run every sequence, write count x C int32 LE logits
 *     harness --check MODEL.bin                print gruq_model_init's result code; exit 0 if OK, 2 otherwise
 *
 * Built with -DGRUQ_HARNESS_EMBEDDED it uses the blob of an exported model source instead of a file
 * ("gruq_model.h": gruq_model_blob, gruq_model_blob_bytes, GRUQ_MODEL_WORKSPACE_BYTES) and a static
 * workspace of GRUQ_MODEL_WORKSPACE_BYTES bytes:
 *
 *     harness CODES.bin OUT.bin
 *     harness --check                          (checks the embedded blob)
 *
 * CODES.bin: u32 count, u32 steps, u32 features (little-endian), then count*steps*features u8 codes,
 * optionally followed by count u32 valid lengths (zero-padded sequences: each runs its first n steps).
 * Exit codes: 0 OK; 1 usage or I/O error; 2 model rejected (stderr "error <code>: <message>");
 * 3 features != F; 4 workspace too small (embedded build).
 */
#include "gruq_runtime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GRUQ_HARNESS_EMBEDDED
#include "gruq_model.h"
static uint8_t workspace[GRUQ_MODEL_WORKSPACE_BYTES];
#endif

/* Whole file into a malloc'd buffer; NULL (message printed) on failure. */
static uint8_t* read_file(const char* path, uint32_t* size) {
    FILE* f = fopen(path, "rb");
    uint8_t* data = NULL;
    size_t capacity = 0, used = 0;
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    for (;;) {
        size_t got;
        if (used == capacity) {
            uint8_t* bigger;
            capacity = capacity ? capacity * 2 : 65536;
            bigger = (uint8_t*)realloc(data, capacity);
            if (bigger == NULL) {
                fprintf(stderr, "out of memory reading %s\n", path);
                free(data);
                fclose(f);
                return NULL;
            }
            data = bigger;
        }
        got = fread(data + used, 1, capacity - used, f);
        used += got;
        if (got == 0) break;
    }
    if (ferror(f) || used > 0xFFFFFFFFu) {
        fprintf(stderr, "cannot read %s\n", path);
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (uint32_t)used;
    return data;
}

static uint32_t le32(const uint8_t* p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int init_model(gruq_model* model, const uint8_t* blob, uint32_t bytes) {
    const int rc = gruq_model_init(model, blob, bytes);
    if (rc != GRUQ_OK) fprintf(stderr, "error %d: %s\n", rc, gruq_error_string(rc));
    return rc;
}

/* Runs every sequence of codes_path through the model and writes the logits to out_path. */
static int run(const gruq_model* model, void* ws, uint32_t ws_bytes, const char* codes_path, const char* out_path) {
    gruq_state state;
    uint32_t codes_bytes = 0, count, steps, features, i, c, n;
    uint64_t expected;
    uint8_t* codes;
    const uint8_t* lengths = NULL;
    int32_t* logits;
    FILE* out;
    int rc;

    rc = gruq_state_init(&state, model, ws, ws_bytes);
    if (rc != GRUQ_OK) {
        fprintf(stderr, "error %d: %s\n", rc, gruq_error_string(rc));
        return rc == GRUQ_ERR_WORKSPACE ? 4 : 1;
    }
    codes = read_file(codes_path, &codes_bytes);
    if (codes == NULL) return 1;
    if (codes_bytes < 12) {
        fprintf(stderr, "%s: shorter than its 12-byte header\n", codes_path);
        free(codes);
        return 1;
    }
    count = le32(codes);
    steps = le32(codes + 4);
    features = le32(codes + 8);
    if (features != model->input_features) {
        fprintf(stderr, "%s: %u features, the model expects %u\n", codes_path, (unsigned)features,
                (unsigned)model->input_features);
        free(codes);
        return 3;
    }
    expected = 12u + (uint64_t)count * steps * features;
    if ((uint64_t)codes_bytes == expected + 4u * (uint64_t)count) lengths = codes + expected;
    else if ((uint64_t)codes_bytes != expected) {
        fprintf(stderr, "%s: %u bytes, the header implies %llu\n", codes_path, (unsigned)codes_bytes,
                (unsigned long long)expected);
        free(codes);
        return 1;
    }
    logits = (int32_t*)malloc(sizeof(int32_t) * model->classes);
    out = fopen(out_path, "wb");
    if (logits == NULL || out == NULL) {
        fprintf(stderr, "cannot write %s\n", out_path);
        free(logits);
        free(codes);
        if (out) fclose(out);
        return 1;
    }
    for (i = 0; i < count; ++i) {
        n = lengths != NULL ? le32(lengths + 4u * i) : steps;
        if (n > steps) {
            fprintf(stderr, "%s: length %u of sequence %u exceeds %u steps\n", codes_path, (unsigned)n, (unsigned)i,
                    (unsigned)steps);
            fclose(out);
            free(logits);
            free(codes);
            return 1;
        }
        gruq_classify(&state, codes + 12 + (size_t)i * steps * features, n, logits);
        for (c = 0; c < model->classes; ++c) {
            const uint32_t v = (uint32_t)logits[c];
            const uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
            if (fwrite(le, 1, 4, out) != 4) {
                fprintf(stderr, "cannot write %s\n", out_path);
                fclose(out);
                free(logits);
                free(codes);
                return 1;
            }
        }
    }
    rc = fclose(out) == 0 ? 0 : 1;
    if (rc) fprintf(stderr, "cannot write %s\n", out_path);
    free(logits);
    free(codes);
    return rc;
}

#ifdef GRUQ_HARNESS_EMBEDDED

int main(int argc, char** argv) {
    gruq_model model;
    if (argc == 2 && strcmp(argv[1], "--check") == 0) {
        const int rc = gruq_model_init(&model, gruq_model_blob, gruq_model_blob_bytes);
        printf("%d\n", rc);
        return rc == GRUQ_OK ? 0 : 2;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s CODES.bin OUT.bin | %s --check\n", argv[0], argv[0]);
        return 1;
    }
    if (init_model(&model, gruq_model_blob, gruq_model_blob_bytes) != GRUQ_OK) return 2;
    return run(&model, workspace, (uint32_t)sizeof workspace, argv[1], argv[2]);
}

#else

int main(int argc, char** argv) {
    gruq_model model;
    uint8_t* blob;
    uint32_t blob_bytes = 0;
    void* ws;
    int rc;
    if (argc == 3 && strcmp(argv[1], "--check") == 0) {
        blob = read_file(argv[2], &blob_bytes);
        if (blob == NULL) return 1;
        rc = gruq_model_init(&model, blob, blob_bytes);
        printf("%d\n", rc);
        free(blob);
        return rc == GRUQ_OK ? 0 : 2;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL.bin CODES.bin OUT.bin | %s --check MODEL.bin\n", argv[0], argv[0]);
        return 1;
    }
    blob = read_file(argv[1], &blob_bytes);
    if (blob == NULL) return 1;
    if (init_model(&model, blob, blob_bytes) != GRUQ_OK) {
        free(blob);
        return 2;
    }
    ws = malloc(gruq_workspace_bytes(&model));
    if (ws == NULL) {
        fprintf(stderr, "out of memory\n");
        free(blob);
        return 1;
    }
    rc = run(&model, ws, gruq_workspace_bytes(&model), argv[2], argv[3]);
    free(ws);
    free(blob);
    return rc;
}

#endif
