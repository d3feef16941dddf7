/*
 * hx_usart_div.h - the STM32 USART baud-rate register, both layouts (RM0368
 * 19.3.4 "Fractional baud rate generation"; RM0433 48.5.7 "USART baud rate
 * generation"): baud = f_ck / D for a whole divisor D = round(f_ck / baud).
 * Oversampling by 16 (OVER8 = 0) takes D >= 16 and BRR = D. Oversampling by 8
 * (OVER8 = 1) reaches twice the speed, D >= 8, with BRR[15:4] = D >> 3 and
 * BRR[2:0] = D & 7 (BRR[3] clear). It is used only where D < 16: at equal D both
 * give the same rate, and 16x sampling tolerates more noise.
 * harness/targets/baud.py computes the same to refuse, before the build, a rate
 * the board cannot make within 2%. hx_usart_start() is the bring-up both USART
 * drivers (stm32_usart.c, stm32_usart_v2.c) share.
 */
#ifndef HX_USART_DIV_H
#define HX_USART_DIV_H

#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_stm32_gpio.h"
#include "hx_uart_ring.h"

/* BRR for `baud` at the peripheral clock `clk`; *over8 says whether CR1.OVER8 must be set. */
static inline uint32_t hx_usart_brr(uint32_t clk, uint32_t baud, uint32_t *over8) {
  uint32_t d = (clk + baud / 2u) / baud;
  if (d >= 16u) {
    *over8 = 0u;
    return d > 0xFFFFu ? 0xFFFFu : d;
  }
  *over8 = 1u;
  if (d < 8u) d = 8u;
  return ((d >> 3) << 4) | (d & 7u);
}

/* Bring an STM32 USART up, in the order both register layouts need: its pins and
 * clock on, OVER8 written while UE is 0 (it may only change then), the divisor for
 * the clock that runs, the receive ring emptied, then `cr1_on` (UE, TE, RE and
 * RXNEIE at the layout's bit positions) and the NVIC lines. */
static inline void hx_usart_start(uint32_t cr1, uint32_t brr, uint32_t over8_bit,
                                  uint32_t cr1_on) {
  hx_uart_pins_init();
  hx_mmio_set(HX_UART_CLOCK_ENABLE_REG, HX_UART_CLOCK_ENABLE_MASK);
  (void)hx_mmio_read(HX_UART_CLOCK_ENABLE_REG); /* the clock is on after the read-back */
  uint32_t over8;
  uint32_t div = hx_usart_brr(hx_clock_uart_hz(), HX_BAUD, &over8);
  uint32_t mode = over8 ? over8_bit : 0u;
  hx_mmio_write(cr1, mode);
  hx_mmio_write(brr, div);
  hx_uart_ring_reset();
  hx_mmio_write(cr1, mode | cr1_on);
  hx_uart_enable_irqs();
}

#endif /* HX_USART_DIV_H */
