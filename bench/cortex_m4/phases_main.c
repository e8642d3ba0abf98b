/* Where a step's instructions go on the emulated Cortex-M4: the runtime's source is included so that its
 * internal stages (offsets, each gate's matrix product, the element-wise update, the classifier head) can
 * be timed one by one. Built and run by scripts/m4_latency.sh --phases; its figures feed the latency model
 * (resources/latency/cortex-m4.json, docs/latency.md). Prints, over semihosting, ticks summed over
 * M4_SEQUENCES x M4_STEPS steps (25 MHz timer; see latency_main.c):
 *     phase <name> <rows> <cols> <bits> <ticks>
 * (a stacked model's layers 2 and 3 as "l2_<name>", "l3_<name>").
 */
#include "gruq_runtime.c"

#include "gruq_model.h"
#include "m4_codes.h"
#include "m4_timer.h"

#include <stdio.h>

static uint8_t workspace[GRUQ_MODEL_WORKSPACE_BYTES];
static gruq_model model;
static gruq_state state;
enum { OFFSETS_X, OFFSETS_H, GATES = 2, UPDATE = 8, HEAD, PHASES };
static uint32_t ticks[GRUQ_MAX_LAYERS][PHASES]; /* per layer; the head's in layer 0 */

/* gruq_step's layer_step, timed stage by stage. */
static void layer_in_phases(uint32_t l, const uint8_t* in, uint8_t* h) {
    const gruq_layer* m = &state.model->layer[l];
    const uint32_t H = state.model->hidden_size;
    bit_reader r;
    uint32_t t0, t1;
    int g;
    t0 = TIMER0_VALUE;
    write_offsets(state.offsets, in, m->zero_point[GRUQ_X], m->input_size);
    t1 = TIMER0_VALUE;
    ticks[l][OFFSETS_X] += t0 - t1;
    br_init(&r, m->bitstream, 0u);
    for (g = 0; g < 3; ++g) {
        t0 = TIMER0_VALUE;
        mat_vec(&r, m->bits[GRUQ_W_IR + g], m->biases + 4u * H * (uint32_t)g, state.offsets, H, m->input_size, &m->ih[g],
                m->zero_point[GRUQ_IH_R + g], qmax_of(m, GRUQ_IH_R + g), state.ih + H * (uint32_t)g);
        t1 = TIMER0_VALUE;
        ticks[l][GATES + g] += t0 - t1;
    }
    t0 = TIMER0_VALUE;
    write_offsets(state.offsets, h, m->zero_point[GRUQ_H], H);
    t1 = TIMER0_VALUE;
    ticks[l][OFFSETS_H] += t0 - t1;
    br_init(&r, m->bitstream, m->w_hh_bit);
    for (g = 0; g < 3; ++g) {
        t0 = TIMER0_VALUE;
        mat_vec(&r, m->bits[GRUQ_W_HR + g], m->biases + 4u * 3u * H + 4u * H * (uint32_t)g, state.offsets, H, H,
                &m->hh[g], m->zero_point[GRUQ_HH_R + g], qmax_of(m, GRUQ_HH_R + g), state.hh + H * (uint32_t)g);
        t1 = TIMER0_VALUE;
        ticks[l][GATES + 3 + g] += t0 - t1;
    }
    t0 = TIMER0_VALUE;
    update_hidden(m, H, state.ih, state.hh, h);
    t1 = TIMER0_VALUE;
    ticks[l][UPDATE] += t0 - t1;
}

static void step_in_phases(const uint8_t* codes) {
    const uint32_t H = state.model->hidden_size;
    uint32_t l;
    for (l = 0; l < state.model->layers; ++l) {
        layer_in_phases(l, l == 0u ? codes : state.h + H * (l - 1u), state.h + H * l);
    }
}

/* The first layer's phases under their plain names (the latency calibration reads those), later layers'
 * prefixed "l2_", "l3_". */
static void print_layer(uint32_t l) {
    static const char* const gate_names[6] = {"w_ir", "w_iz", "w_in", "w_hr", "w_hz", "w_hn"};
    static const char* const prefixes[GRUQ_MAX_LAYERS] = {"", "l2_", "l3_"};
    const gruq_layer* m = &model.layer[l];
    uint32_t g;
    printf("phase %soffsets_x 1 %u 0 %lu\n", prefixes[l], (unsigned)m->input_size, (unsigned long)ticks[l][OFFSETS_X]);
    printf("phase %soffsets_h 1 %u 0 %lu\n", prefixes[l], (unsigned)model.hidden_size, (unsigned long)ticks[l][OFFSETS_H]);
    for (g = 0; g < 6; ++g) {
        printf("phase %s%s %u %u %u %lu\n", prefixes[l], gate_names[g], (unsigned)model.hidden_size,
               (unsigned)(g < 3 ? m->input_size : model.hidden_size), (unsigned)m->bits[GRUQ_W_IR + g],
               (unsigned long)ticks[l][GATES + g]);
    }
    printf("phase %supdate %u 0 0 %lu\n", prefixes[l], (unsigned)model.hidden_size, (unsigned long)ticks[l][UPDATE]);
}

int main(void) {
    uint32_t s, t, l, t0, t1;
    if (gruq_model_init(&model, gruq_model_blob, gruq_model_blob_bytes) != GRUQ_OK ||
        gruq_state_init(&state, &model, workspace, sizeof workspace) != GRUQ_OK) {
        printf("error: model rejected\n");
        return 2;
    }
    m4_timer_start();
    for (s = 0; s < M4_SEQUENCES; ++s) {
        gruq_reset(&state);
        for (t = 0; t < M4_STEPS; ++t) {
            step_in_phases(m4_codes + ((uint32_t)s * M4_STEPS + t) * GRUQ_MODEL_INPUT_FEATURES);
        }
        t0 = TIMER0_VALUE;
        (void)gruq_logits(&state, NULL);
        t1 = TIMER0_VALUE;
        ticks[0][HEAD] += t0 - t1;
    }
    for (l = 0; l < model.layers; ++l) print_layer(l);
    printf("phase head %u %u %u %lu\n", (unsigned)model.classes, (unsigned)model.hidden_size,
           (unsigned)model.bits[GRUQ_W_FC], (unsigned long)ticks[0][HEAD]);
    return 0;
}
