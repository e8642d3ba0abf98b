/* Latency of the exported C runtime on an emulated Cortex-M4 (QEMU mps2-an386 with -icount), and its
 * logits for the bit-exactness check against the host build.
 *
 * Built by scripts/m4_latency.sh with the export folder's gruq_model.c/.h and m4_codes.h (input codes:
 * M4_SEQUENCES sequences of M4_STEPS steps). Time is read from the board's CMSDK APB timer 0, which counts
 * down at 25 MHz of virtual time; under -icount shift=S every instruction advances virtual time by 2^S ns,
 * so the script turns ticks into instructions exactly. Prints, over semihosting:
 *     logits <sequence> <C values>          one line per sequence
 *     ticks empty <t> steps <t> logits <t>   summed over all sequences (empty = two back-to-back reads)
 */
#include "gruq_model.h"
#include "gruq_runtime.h"
#include "m4_codes.h"
#include "m4_timer.h"

#include <stdint.h>
#include <stdio.h>

static uint8_t workspace[GRUQ_MODEL_WORKSPACE_BYTES];
static gruq_model model;
static gruq_state state;
static int32_t logits[GRUQ_MODEL_CLASSES];

int main(void) {
    uint32_t s, t, c;
    uint32_t empty = 0, steps = 0, head = 0;
    int rc = gruq_model_init(&model, gruq_model_blob, gruq_model_blob_bytes);
    if (rc != GRUQ_OK) {
        printf("error %d: %s\n", rc, gruq_error_string(rc));
        return 2;
    }
    rc = gruq_state_init(&state, &model, workspace, sizeof workspace);
    if (rc != GRUQ_OK) {
        printf("error %d: %s\n", rc, gruq_error_string(rc));
        return 2;
    }
    m4_timer_start();
    for (s = 0; s < M4_SEQUENCES; ++s) {
        const uint8_t* codes = m4_codes + (uint32_t)s * M4_STEPS * GRUQ_MODEL_INPUT_FEATURES;
        uint32_t t0, t1, t2, t3;
        t0 = TIMER0_VALUE;
        t1 = TIMER0_VALUE;
        gruq_reset(&state);
        for (t = 0; t < M4_STEPS; ++t) gruq_step(&state, codes + t * GRUQ_MODEL_INPUT_FEATURES);
        t2 = TIMER0_VALUE;
        (void)gruq_logits(&state, logits);
        t3 = TIMER0_VALUE;
        empty += t0 - t1; /* the timer counts down */
        steps += t1 - t2;
        head += t2 - t3;
        printf("logits %lu", (unsigned long)s);
        for (c = 0; c < GRUQ_MODEL_CLASSES; ++c) printf(" %ld", (long)logits[c]);
        printf("\n");
    }
    printf("ticks empty %lu steps %lu logits %lu\n", (unsigned long)empty, (unsigned long)steps, (unsigned long)head);
    return 0;
}
