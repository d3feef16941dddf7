/*
 * counter_systick.c - count core clock ticks with SysTick (present on every Cortex-M).
 *
 * On a board SysTick on the processor clock counts cycles. Under QEMU run with
 * -icount shift=0 every instruction advances virtual time by 1 ns, so ticks
 * convert to instructions (the host does that and labels the figure so).
 */
#include <stdint.h>

#include "hx_config.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define CSR_ENABLE (1u << 0)
#define CSR_TICKINT (1u << 1)
#define CSR_CLKSOURCE_CPU (1u << 2)
#define CSR_COUNTFLAG (1u << 16)
#define RELOAD 0x00FFFFFFu

static volatile uint32_t wraps;

void SysTick_Handler(void) { wraps++; }

void hx_counter_init(void) {
  SYST_RVR = RELOAD;
  SYST_CVR = 0;
  SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE_CPU;
}

/* Ticks since init (wraps modulo 2^32; differences stay right). */
uint32_t hx_counter_read(void) {
  uint32_t hi, lo;
  do {
    hi = wraps;
    lo = SYST_CVR;
  } while (hi != wraps); /* a wrap between the two reads: try again */
  return hi * (RELOAD + 1u) + (RELOAD - lo);
}

const char *hx_counter_kind(void) { return "systick"; }
