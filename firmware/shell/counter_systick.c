/*
 * counter_systick.c - count core clock cycles: DWT CYCCNT where it runs, else SysTick.
 *
 * On boards (and Renode) the Armv7-M/v8-M DWT cycle counter counts cycles at the
 * core clock that runs (hx_clock_core_hz(), in the handshake). Turning it on
 * (Arm DDI0403 C1.6.5 DEMCR, C1.8.7 DWT_CTRL): DEMCR.TRCENA (bit 24) powers the
 * DWT, CYCCNT is zeroed, DWT_CTRL.CYCCNTENA (bit 0) starts it; on cores whose DWT
 * has a software lock (Cortex-M7: DWT_LAR at 0xE0001FB0) the key 0xC5ACCE55 goes
 * to LAR first, or the other writes are ignored.
 * QEMU does not model it (it reads as zero), so the shell checks that it
 * really advances and otherwise uses SysTick on the processor clock: under
 * QEMU with -icount shift=0 every instruction advances virtual time by 1 ns,
 * so those ticks convert to instructions (the host does that and labels the
 * figure so). Armv6-M (Cortex-M0) has no CYCCNT: SysTick only.
 */
#include <stdint.h>

#include "hx_config.h"
#include "hx_mmio.h"

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define CSR_ENABLE (1u << 0)
#define CSR_TICKINT (1u << 1)
#define CSR_CLKSOURCE_CPU (1u << 2)
#define CSR_COUNTFLAG (1u << 16)
#define RELOAD 0x00FFFFFFu

#define DEMCR 0xE000EDFCu
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u
#define DWT_LAR 0xE0001FB0u
#define DWT_LAR_KEY 0xC5ACCE55u
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)

static volatile uint32_t wraps;
static int use_dwt;

void SysTick_Handler(void) { wraps++; }

/* Enable CYCCNT and keep it only if it is implemented and actually counts. */
static int dwt_start(void) {
#if HX_HAS_DWT
  hx_mmio_set(DEMCR, DEMCR_TRCENA);
  if (HX_DWT_LOCK) hx_mmio_write(DWT_LAR, DWT_LAR_KEY);
  if (hx_mmio_read(DWT_CTRL) & DWT_CTRL_NOCYCCNT) return 0;
  hx_mmio_write(DWT_CYCCNT, 0u);
  hx_mmio_set(DWT_CTRL, DWT_CTRL_CYCCNTENA);
  uint32_t before = hx_mmio_read(DWT_CYCCNT);
  for (volatile int i = 0; i < 16; i++) {
  }
  return hx_mmio_read(DWT_CYCCNT) != before;
#else
  return 0;
#endif
}

void hx_counter_init(void) {
  hx_mmio_write(SYST_RVR, RELOAD);
  hx_mmio_write(SYST_CVR, 0u);
  hx_mmio_write(SYST_CSR, CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE_CPU);
  use_dwt = dwt_start();
}

/* Ticks since init (wraps modulo 2^32; differences stay right). */
uint32_t hx_counter_read(void) {
  if (use_dwt) return hx_mmio_read(DWT_CYCCNT);
  uint32_t hi, lo;
  do {
    hi = wraps;
    lo = hx_mmio_read(SYST_CVR);
  } while (hi != wraps); /* a wrap between the two reads: try again */
  return hi * (RELOAD + 1u) + (RELOAD - lo);
}

const char *hx_counter_kind(void) { return use_dwt ? "dwt" : "systick"; }
