/* gruq runtime: integer-only inference of a gruq GRU classifier blob (docs/blob-format.md): 1 to
 * GRUQ_MAX_LAYERS stacked GRU layers and a linear head on the last layer's hidden state.
 *
 * C99, no malloc, no floating point, only <stdint.h> and <string.h>. The model is read in place from
 * the blob (flash); all mutable state lives in a caller-provided workspace of gruq_workspace_bytes().
 *
 *     gruq_model model;
 *     static uint8_t workspace[GRUQ_MODEL_WORKSPACE_BYTES];        (from the exported model header)
 *     gruq_state state;
 *     if (gruq_model_init(&model, gruq_model_blob, gruq_model_blob_bytes) != GRUQ_OK) ...
 *     gruq_state_init(&state, &model, workspace, sizeof workspace);
 *     int cls = gruq_classify(&state, codes, steps, logits);      (or gruq_reset + gruq_step per frame)
 */
#ifndef GRUQ_RUNTIME_H
#define GRUQ_RUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRUQ_FORMAT_VERSION 3u        /* newest blob format read (gruq writes 3 for stacks, 2 for one layer) */
#define GRUQ_OLDEST_FORMAT_VERSION 1u /* version 1: no normalisation section; versions 1 and 2: one layer */
#define GRUQ_HEADER_BYTES 640u
#define GRUQ_POINT_COUNT 25
/* The most stacked GRU layers a model may have. Firmware that only runs one-layer models can define
 * GRUQ_MAX_LAYERS=1 for every file that includes this header (-DGRUQ_MAX_LAYERS=1): gruq_model then keeps
 * one layer record instead of three (about half its RAM) and a stacked blob is refused with
 * GRUQ_ERR_LAYERS. */
#ifndef GRUQ_MAX_LAYERS
#define GRUQ_MAX_LAYERS 3
#endif
#if GRUQ_MAX_LAYERS < 1 || GRUQ_MAX_LAYERS > 3
#error "GRUQ_MAX_LAYERS must be 1, 2 or 3 (the blob format holds up to 3 layers)"
#endif
/* Files built with different GRUQ_MAX_LAYERS disagree on sizeof(gruq_model) and sizeof(gruq_state), so such
 * a program must not link: below 3, the functions that set up a caller's structs carry the setting in
 * their symbol names (the source keeps calling them gruq_model_init and gruq_state_init). */
#if GRUQ_MAX_LAYERS == 1
#define gruq_model_init gruq_model_init_max1_layer
#define gruq_state_init gruq_state_init_max1_layer
#elif GRUQ_MAX_LAYERS == 2
#define gruq_model_init gruq_model_init_max2_layers
#define gruq_state_init gruq_state_init_max2_layers
#endif

/* Workspace bytes of a model of F features, hidden size H and L layers: L H hidden-state codes, 6 H scratch
 * codes and the int16 offsets of the wider of x and h (+ 16 of padding). The same as gruq_workspace_bytes();
 * a constant expression, for static buffers (e.g. GRUQ_WORKSPACE_BYTES(F, 256, 3) fits every model of F
 * features gruq trains). */
#define GRUQ_WORKSPACE_BYTES(F, H, L) (((L) + 6u) * (H) + 2u * (((F) > (H) ? (F) : (H)) + 16u))

/* Error codes (negative); GRUQ_OK is 0. See docs/blob-format.md for the order of the checks. */
enum {
    GRUQ_OK = 0,
    GRUQ_ERR_ARGUMENT = -1,  /* a null pointer, or a model gruq_model_init did not accept */
    GRUQ_ERR_TRUNCATED = -2, /* buffer shorter than 16 bytes or than the blob-bytes field */
    GRUQ_ERR_MAGIC = -3,     /* not a gruq blob */
    GRUQ_ERR_VERSION = -4,   /* format version this runtime does not know */
    GRUQ_ERR_HEADER = -5,    /* header size field is not 640 */
    GRUQ_ERR_SIZE = -6,      /* blob / payload size inconsistent with the buffer or with shape and bits */
    GRUQ_ERR_CRC = -7,       /* checksum mismatch: the blob is damaged */
    GRUQ_ERR_SHAPE = -8,     /* F, H or C out of range */
    GRUQ_ERR_BITS = -9,      /* layout, gene count, a bit width out of range, or genes that do not give the point widths */
    GRUQ_ERR_PARAM = -10,    /* zero point, scale, multiplier, shift, bias, weight code, LUT entry, task name,
                                normalisation value, padding or reserved byte */
    GRUQ_ERR_WORKSPACE = -11, /* workspace too small */
    GRUQ_ERR_LAYERS = -12,    /* layer count 0 or above GRUQ_MAX_LAYERS */
    GRUQ_ERR_LAYER_SECTION = -13 /* layer section (layers 2..L) truncated, too long or inconsistent (a layer's
                                    x quantizer is not the previous layer's h quantizer) */
};

/* Quantization point indices (docs/blob-format.md). */
enum {
    GRUQ_X = 0, GRUQ_W_IR, GRUQ_W_IZ, GRUQ_W_IN, GRUQ_W_HR, GRUQ_W_HZ, GRUQ_W_HN,
    GRUQ_IH_R, GRUQ_IH_Z, GRUQ_IH_N, GRUQ_HH_R, GRUQ_HH_Z, GRUQ_HH_N,
    GRUQ_SUM_R, GRUQ_SUM_Z, GRUQ_SIG_R, GRUQ_SIG_Z, GRUQ_MUL_RN, GRUQ_SUM_N, GRUQ_TANH_N,
    GRUQ_MUL_ZN, GRUQ_MUL_ZH, GRUQ_H, GRUQ_W_FC, GRUQ_FC
};

typedef struct {
    int32_t mantissa; /* M < 2^31 */
    int32_t shift;    /* n in [1, 62] */
} gruq_multiplier;

typedef struct {
    int32_t mantissa_a, mantissa_b; /* A, B < 2^31 */
    int32_t shift;                  /* shared n in [1, 62] */
} gruq_add_multiplier;

/* One GRU layer of a validated model. Layer l >= 1 reads layer l-1's h codes (its x quantizer is that h's). */
typedef struct {
    uint16_t input_size;                  /* F for the first layer, H for the others */
    uint8_t bits[GRUQ_POINT_COUNT];       /* bit width of every point (the head's w_fc, fc: the same in every layer) */
    uint8_t zero_point[GRUQ_POINT_COUNT]; /* zero point of every point (0 for the weights) */
    gruq_multiplier ih[3], hh[3], mul_rn, mul_zn, mul_zh;
    gruq_add_multiplier sum_r, sum_z, sum_n, h;
    const uint8_t* biases;    /* i32 little-endian: b_ih[3H], b_hh[3H] (the first layer: then b_fc[C]) */
    const uint8_t* bitstream; /* packed W_ih, W_hh (the first layer: then W_fc), LUTs */
    uint32_t w_hh_bit, lut_sig_r_bit, lut_sig_z_bit, lut_tanh_n_bit; /* stream offsets (W_ih at 0) */
} gruq_layer;

/* A validated model: header fields decoded, arrays left in the blob. Read-only after init. */
typedef struct {
    const uint8_t* blob;
    uint32_t blob_bytes;
    uint16_t input_features, hidden_size, classes; /* F, H, C */
    uint8_t layers;                                /* L, 1..GRUQ_MAX_LAYERS */
    /* The model's quantizers as one layer sees them: every point of the first layer, except fc (the logits),
     * which is the head's (the last layer's). bits[GRUQ_X] / zero_point[GRUQ_X] quantize the input. */
    uint8_t bits[GRUQ_POINT_COUNT];
    int32_t zero_point[GRUQ_POINT_COUNT];
    gruq_multiplier fc;       /* the head: logits = requant(W_fc h + b_fc) of the last layer's h */
    const uint8_t* fc_biases; /* i32 little-endian b_fc[C] */
    uint32_t w_fc_bit;        /* W_fc's offset in layer[0].bitstream */
    /* The input normalisation the model was trained with (feature = (raw - mean) / std), or NULL (version-1
     * blobs, or exported without one): IEEE-754 binary32 little-endian, mean[F] then std[F]. The runtime
     * does not use it (gruq_quantize_input's integer factors have it folded in); it is there for devices
     * that normalise raw input themselves. */
    const uint8_t* normalization;
    gruq_layer layer[GRUQ_MAX_LAYERS]; /* the first `layers` are valid */
} gruq_model;

/* Per-sequence state in the caller's workspace. */
typedef struct {
    const gruq_model* model;
    uint8_t* h;  /* L x H hidden-state codes, layer by layer (the last layer's feed the head) */
    uint8_t* ih; /* 3H scratch codes */
    uint8_t* hh; /* 3H scratch codes */
    uint8_t* offsets; /* scratch: max(F, H) + 16 input codes minus their zero point, int16 little-endian */
} gruq_state;

/* Validates the blob (magic, version, sizes, CRC, every parameter) and decodes its header. blob_bytes is
 * the length of the buffer. On failure the model is zeroed and the first failing check's code returned. */
int gruq_model_init(gruq_model* model, const uint8_t* blob, uint32_t blob_bytes);

/* Bytes of workspace a state of this model needs ((L + 6) H + 2 max(F, H) + 32: GRUQ_WORKSPACE_BYTES). */
uint32_t gruq_workspace_bytes(const gruq_model* model);

/* Binds a state to a model and a workspace, and resets it. */
int gruq_state_init(gruq_state* state, const gruq_model* model, void* workspace, uint32_t workspace_bytes);

/* Every layer's hidden state back to real 0 (code Z_h): call before each new sequence. */
void gruq_reset(gruq_state* state);

/* One time step: F input codes of the x quantizer. Runs every layer in turn, layer l >= 1 on layer l-1's
 * new h codes. Each code must be < 2^b(x) (gruq_quantize_input guarantees it); larger codes give
 * meaningless results but never out-of-bounds accesses. */
void gruq_step(gruq_state* state, const uint8_t* input_codes);

/* Logit codes (C values, fc quantizer) of the last layer's current hidden state; returns the argmax class
 * (ties go to the lowest index). logits may be NULL (only the class is wanted). */
int gruq_logits(const gruq_state* state, int32_t* logits);

/* reset + steps x gruq_step + gruq_logits over steps x F codes; logits may be NULL. Returns the class
 * (GRUQ_ERR_ARGUMENT for a null state, or null codes with steps > 0). */
int gruq_classify(gruq_state* state, const uint8_t* input_codes, uint32_t steps, int32_t* logits);

/* Input quantization in integers: for each of the F features f,
 *     code_f = clamp(Z_x + floor((raw_f * multiplier[f] + offset[f]) / 2^shift + 1/2), 0, 2^b(x) - 1)
 * where multiplier[f] / 2^shift = raw_scale / (std_f S_x) and offset[f] / 2^shift = -mean_f / (std_f S_x)
 * fold the dataset normalisation and the x quantizer (the export writes these tables next to the blob).
 * shift in [1, 62] (values outside are clamped into it); the int64 sum saturates instead of overflowing. */
void gruq_quantize_input(const gruq_model* model, const int32_t* multiplier, const int64_t* offset, int32_t shift,
                         const int16_t* raw, uint8_t* codes);

/* A short English description of an error code ("CRC mismatch: the blob is damaged", ...). */
const char* gruq_error_string(int code);

#ifdef __cplusplus
}
#endif

#endif /* GRUQ_RUNTIME_H */
