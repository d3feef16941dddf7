/*
 * clock_fixed.c - the clock of a target whose clock the firmware does not set up
 * (the emulated MPS2/MPS3 images, the micro:bit): it runs at HX_CLOCK_HZ.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"

void hx_clock_init(void) {}

uint32_t hx_clock_core_hz(void) { return HX_CLOCK_HZ; }

uint32_t hx_clock_uart_hz(void) { return HX_UART_CLOCK_HZ; }

const char *hx_clock_state(void) { return HX_CLOCK_SETUP_MAX ? "fixed" : "reset"; }
