/*
 * hx_mmio.h - every access the firmware makes to a memory-mapped register goes
 * through hx_mmio_read() and hx_mmio_write() (and the read-modify-write helpers
 * built on them), so a host test can compile the same init code against a
 * recording register file: with HX_MMIO_HOST defined, the two are functions the
 * test provides (tests/support/hx_regfile.c) instead of volatile accesses.
 *
 * The same switch turns the few instructions only a Cortex-M has (cpsid, cpsie,
 * wfi, dsb, isb) into nothing on the host.
 */
#ifndef HX_MMIO_H
#define HX_MMIO_H

#include <stdint.h>

#ifdef HX_MMIO_HOST

uint32_t hx_mmio_read(uint32_t addr);
void hx_mmio_write(uint32_t addr, uint32_t value);
#define HX_ASM(text) ((void)0)

#else

static inline uint32_t hx_mmio_read(uint32_t addr) {
  return *(volatile uint32_t *)(uintptr_t)addr;
}

static inline void hx_mmio_write(uint32_t addr, uint32_t value) {
  *(volatile uint32_t *)(uintptr_t)addr = value;
}
#define HX_ASM(text) __asm volatile(text ::: "memory")

#endif

/* Set the bits of `mask`. */
static inline void hx_mmio_set(uint32_t addr, uint32_t mask) {
  hx_mmio_write(addr, hx_mmio_read(addr) | mask);
}

/* Clear the bits of `mask`. */
static inline void hx_mmio_clear(uint32_t addr, uint32_t mask) {
  hx_mmio_write(addr, hx_mmio_read(addr) & ~mask);
}

/* Replace the field `mask` with `value` (already shifted into place). */
static inline void hx_mmio_field(uint32_t addr, uint32_t mask, uint32_t value) {
  hx_mmio_write(addr, (hx_mmio_read(addr) & ~mask) | (value & mask));
}

/* Poll until (register & mask) == want, at most HX_MMIO_WAIT_LOOPS reads: 1 if it got
 * there, 0 if not. Every wait for a hardware flag is bounded, so a clock that never
 * becomes ready (or an emulator that models no RCC) cannot hang the boot. 200,000
 * reads take at least 75 ms at 16 MHz, far beyond any oscillator's or PLL's start-up
 * time in the data sheets (HSE: ~2 ms, PLL lock: ~0.2 ms). */
#define HX_MMIO_WAIT_LOOPS 200000u
static inline int hx_mmio_wait(uint32_t addr, uint32_t mask, uint32_t want) {
  for (uint32_t i = 0; i < HX_MMIO_WAIT_LOOPS; i++) {
    if ((hx_mmio_read(addr) & mask) == want) return 1;
  }
  return 0;
}

#endif /* HX_MMIO_H */
