/*
 * clock_switch.c - what --clock max means for every clock driver (hx_clock.h):
 * try the driver's way to the board's maximum once, at boot; if any step of it
 * never completes, go back to the reset clock and say "fallback". The clocks the
 * rest of the firmware divides (core, UART) follow what actually runs.
 *
 * Built with every driver named in targets.toml ([target.*.clock]); a target
 * without one builds clock_fixed.c instead.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"

static const char *state = "reset";
static uint32_t core_hz = HX_CLOCK_HZ;
static uint32_t uart_hz = HX_UART_CLOCK_HZ;

void hx_clock_init(void) {
  if (!HX_CLOCK_SETUP_MAX) return;
  if (hx_clock_to_max()) {
    state = "max";
    core_hz = HX_CLOCK_MAX_HZ;
    uart_hz = HX_UART_CLOCK_MAX_HZ;
  } else {
    hx_clock_to_reset();
    state = "fallback";
    core_hz = HX_CLOCK_HZ;
    uart_hz = HX_UART_CLOCK_HZ;
  }
}

uint32_t hx_clock_core_hz(void) { return core_hz; }

uint32_t hx_clock_uart_hz(void) { return uart_hz; }

const char *hx_clock_state(void) { return state; }
