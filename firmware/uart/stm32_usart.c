/*
 * stm32_usart.c - polled driver for the STM32F1/F2/F4 USART register layout.
 *
 * HX_UART_BASE and HX_CLOCK_HZ come from the target table via hx_config.h.
 */
#include <stdint.h>

#include "hx_config.h"
#include "hx_proto.h"

#define USART_SR (*(volatile uint32_t *)(HX_UART_BASE + 0x00u))
#define USART_DR (*(volatile uint32_t *)(HX_UART_BASE + 0x04u))
#define USART_BRR (*(volatile uint32_t *)(HX_UART_BASE + 0x08u))
#define USART_CR1 (*(volatile uint32_t *)(HX_UART_BASE + 0x0Cu))

#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define SR_ORE (1u << 3)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

#define RCC_APB2ENR (*(volatile uint32_t *)0x40023844u)
#define RCC_APB2ENR_USART1EN (1u << 4)

void hx_uart_init(void) {
  RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
  /* APB2 runs at half the core clock on the STM32F4 at full speed. */
  USART_BRR = (HX_CLOCK_HZ / 2u + HX_BAUD / 2u) / HX_BAUD;
  USART_CR1 = CR1_UE | CR1_TE | CR1_RE;
}

int hx_port_getc(void) {
  uint32_t sr = USART_SR;
  if (sr & SR_RXNE) {
    return (int)(USART_DR & 0xFFu);
  }
  if (sr & SR_ORE) {
    (void)USART_DR; /* SR then DR clears an overrun; the CRC catches the lost byte */
  }
  return -1;
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    while (!(USART_SR & SR_TXE)) {
    }
    USART_DR = data[i];
  }
}
