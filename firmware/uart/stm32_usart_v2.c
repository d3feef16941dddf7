/*
 * stm32_usart_v2.c - interrupt-driven receive, polled transmit, for the USART of
 * the STM32F7/H7/L4/G4 families, whose status, clear, receive and transmit
 * registers are apart (RM0433 48.7 "USART registers": CR1 0x00, BRR 0x0C, ISR
 * 0x1C, ICR 0x20, RDR 0x24, TDR 0x28). The FIFO (CR1.FIFOEN) stays off, so RXNE
 * means one byte in RDR, as on the F4.
 *
 * Init: pins (hx_stm32_gpio.h), the USART's clock gate, OVER8 while UE is 0, the
 * divisor from the running peripheral clock (hx_clock_uart_hz(); the kernel clock
 * is rcc_pclk1 after reset on the H7, RCC_D2CCIP2R), then UE, TE, RE and RXNEIE,
 * and the NVIC line. Receive by interrupt into the ring (hx_uart_ring.c); an
 * overrun is cleared through ICR and the CRC catches the loss. Transmit polled.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_proto.h"
#include "hx_stm32_gpio.h"
#include "hx_uart_ring.h"
#include "hx_usart_div.h"

#define USART_CR1 (HX_UART_BASE + 0x00u)
#define USART_BRR (HX_UART_BASE + 0x0Cu)
#define USART_ISR (HX_UART_BASE + 0x1Cu)
#define USART_ICR (HX_UART_BASE + 0x20u)
#define USART_RDR (HX_UART_BASE + 0x24u)
#define USART_TDR (HX_UART_BASE + 0x28u)

#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_OVER8 (1u << 15)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)
#define ICR_ORECF (1u << 3)

void hx_uart_irq_handler(void) {
  uint32_t isr = hx_mmio_read(USART_ISR);
  if (isr & ISR_ORE) {
    hx_mmio_write(USART_ICR, ICR_ORECF);
  }
  if ((isr & ISR_RXNE) && hx_uart_ring_full()) {
    /* No room: the byte waits in RDR until hx_port_getc() has made room. */
    hx_mmio_clear(USART_CR1, CR1_RXNEIE);
    hx_uart_ring_pause();
  } else if (isr & ISR_RXNE) {
    hx_uart_ring_put((uint8_t)hx_mmio_read(USART_RDR));
  }
}

void hx_uart_rx_resume(void) { hx_mmio_set(USART_CR1, CR1_RXNEIE); }

void hx_uart_init(void) {
  hx_usart_start(USART_CR1, USART_BRR, CR1_OVER8, CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE);
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    while (!(hx_mmio_read(USART_ISR) & ISR_TXE)) {
    }
    hx_mmio_write(USART_TDR, data[i]);
  }
}
