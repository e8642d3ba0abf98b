/* The clock of the Cortex-M4 measurements: the CMSDK APB timer 0 of QEMU's mps2-an386 board, a 32-bit
 * down-counter at 25 MHz of virtual time (latency_main.c explains the conversion to instructions). */
#ifndef GRUQ_M4_TIMER_H
#define GRUQ_M4_TIMER_H

#include <stdint.h>

#define TIMER0_CTRL (*(volatile uint32_t*)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t*)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t*)0x40000008u)

/* Free-running from the top, no interrupt. */
static void m4_timer_start(void) {
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u;
}

#endif
