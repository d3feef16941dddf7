/*
 * clock_nrf52_clock.c - the nRF52 clock (nRF52840 PS 6.4 "CLOCK"): the core runs
 * at 64 MHz whatever the source. Out of reset the high-frequency clock comes from
 * the internal RC oscillator (HFINT); with HX_CLOCK_SETUP_MAX the firmware starts
 * the 32 MHz crystal (HFXO), which makes the UART's baud rate as accurate as the
 * crystal, and waits for HFCLKSTARTED - bounded, falling back to HFINT.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"

#define CLOCK_TASKS_HFCLKSTART 0x40000000u
#define CLOCK_EVENTS_HFCLKSTARTED 0x40000100u

/* The core clock is fixed; the maximum is the crystal (HFXO) in place of the RC
 * oscillator, which the UART's baud rate generator then runs from. */
int hx_clock_to_max(void) {
  hx_mmio_write(CLOCK_EVENTS_HFCLKSTARTED, 0u);
  hx_mmio_write(CLOCK_TASKS_HFCLKSTART, 1u);
  return hx_mmio_wait(CLOCK_EVENTS_HFCLKSTARTED, 1u, 1u);
}

/* A crystal that never started leaves the RC oscillator running: nothing to undo. */
void hx_clock_to_reset(void) {}
