/*
 * counter_systick.c - count core clock cycles: DWT CYCCNT where it runs, else SysTick.
 *
 * On boards (and Renode) the Armv7-M/v8-M DWT cycle counter counts cycles.
 * QEMU does not model it (it reads as zero), so the shell checks that it
 * really advances and otherwise uses SysTick on the processor clock: under
 * QEMU with -icount shift=0 every instruction advances virtual time by 1 ns,
 * so those ticks convert to instructions (the host does that and labels the
 * figure so). Armv6-M (Cortex-M0) has no CYCCNT: SysTick only.
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

#define DEMCR (*(volatile uint32_t *)0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL (*(volatile uint32_t *)0xE0001000u)
#define DWT_CYCCNT (*(volatile uint32_t *)0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)

static volatile uint32_t wraps;
static int use_dwt;

void SysTick_Handler(void) { wraps++; }

/* Enable CYCCNT and keep it only if it is implemented and actually counts. */
static int dwt_start(void) {
#if HX_HAS_DWT
  DEMCR |= DEMCR_TRCENA;
  if (DWT_CTRL & DWT_CTRL_NOCYCCNT) return 0;
  DWT_CYCCNT = 0;
  DWT_CTRL |= DWT_CTRL_CYCCNTENA;
  uint32_t before = DWT_CYCCNT;
  for (volatile int i = 0; i < 16; i++) {
  }
  return DWT_CYCCNT != before;
#else
  return 0;
#endif
}

void hx_counter_init(void) {
  SYST_RVR = RELOAD;
  SYST_CVR = 0;
  SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE_CPU;
  use_dwt = dwt_start();
}

/* Ticks since init (wraps modulo 2^32; differences stay right). */
uint32_t hx_counter_read(void) {
  if (use_dwt) return DWT_CYCCNT;
  uint32_t hi, lo;
  do {
    hi = wraps;
    lo = SYST_CVR;
  } while (hi != wraps); /* a wrap between the two reads: try again */
  return hi * (RELOAD + 1u) + (RELOAD - lo);
}

const char *hx_counter_kind(void) { return use_dwt ? "dwt" : "systick"; }
