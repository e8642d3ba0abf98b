/* Bare-metal start for QEMU's mps2-an386: the vector table (initial stack pointer, reset handler), a
 * reset handler that copies .data from flash, enables the FPU (newlib's startup may touch it) and hands
 * over to newlib's _start (rdimon.specs: semihosting stdio and exit). Faults stop the emulator through
 * semihosting with a non-zero status. */
#include <stdint.h>

extern uint32_t __stack_top, __etext, __data_start__, __data_end__;
extern void _start(void);
void reset_handler(void);
void fault_handler(void);

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&__stack_top), reset_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler, fault_handler};

void reset_handler(void) {
    const uint32_t* from = &__etext;
    uint32_t* to = &__data_start__;
    while (to < &__data_end__) *to++ = *from++;
    *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10 and CP11 full access */
    __asm volatile("dsb\n isb");
    _start();
    for (;;) {
    }
}

/* SYS_EXIT (0x18) with ADP_Stopped_RunTimeErrorUnknown: qemu exits with status 1. */
void fault_handler(void) {
    register uint32_t op __asm("r0") = 0x18u;
    register uint32_t arg __asm("r1") = 0x20023u;
    __asm volatile("bkpt 0xab" : : "r"(op), "r"(arg) : "memory");
    for (;;) {
    }
}
