/*
 * hx_clock.h - the core clock: left at its reset value, or (--clock max, the
 * HX_CLOCK_SETUP_MAX define) brought to the board's documented maximum by the
 * target's clock driver (firmware/shell/clock_<driver>.c, named in targets.toml;
 * clock_fixed.c where the clock cannot change). A driver that cannot reach the
 * maximum - a PLL that does not lock in time - falls back to the reset clock and
 * says so in hx_clock_state(); the handshake reports it.
 */
#ifndef HX_CLOCK_H
#define HX_CLOCK_H

#include <stdint.h>

/* Set up the clock; first thing main() does, before the UART computes its divisor. */
void hx_clock_init(void);
/* The core clock now running, in Hz. */
uint32_t hx_clock_core_hz(void);
/* The UART's peripheral clock now running, in Hz: what its baud-rate divisor divides. */
uint32_t hx_clock_uart_hz(void);
/* "reset" (as out of reset), "max" (the maximum, as asked), "fallback" (max was asked
 * for, a ready flag never came, the reset clock runs) or "fixed" (nothing to set up). */
const char *hx_clock_state(void);

/* What a clock driver (clock_<driver>.c) gives clock_switch.c, which does the rest:
 * bring the clock to the board's maximum, every wait bounded; nonzero when it runs
 * there, 0 when a step never completed. */
int hx_clock_to_max(void);
/* Undo a hx_clock_to_max() that failed half way: the reset clock again. */
void hx_clock_to_reset(void);

#endif /* HX_CLOCK_H */
