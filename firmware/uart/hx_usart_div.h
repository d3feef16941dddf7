/*
 * hx_usart_div.h - the STM32 USART baud-rate register, both layouts (RM0368
 * 19.3.4 "Fractional baud rate generation"; RM0433 48.5.7 "USART baud rate
 * generation"): baud = f_ck / D for a whole divisor D = round(f_ck / baud).
 * Oversampling by 16 (OVER8 = 0) takes D >= 16 and BRR = D. Oversampling by 8
 * (OVER8 = 1) reaches twice the speed, D >= 8, with BRR[15:4] = D >> 3 and
 * BRR[2:0] = D & 7 (BRR[3] clear). It is used only where D < 16: at equal D both
 * give the same rate, and 16x sampling tolerates more noise.
 * harness/targets/baud.py computes the same to refuse, before the build, a rate
 * the board cannot make within 2%.
 */
#ifndef HX_USART_DIV_H
#define HX_USART_DIV_H

#include <stdint.h>

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

#endif /* HX_USART_DIV_H */
