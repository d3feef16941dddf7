/*
 * stm32_usart.c - interrupt-driven receive, polled transmit, for the STM32F1/F2/F4
 * USART register layout (RM0368 19.6 "USART registers"; QEMU's
 * hw/char/stm32f2xx_usart.c models it).
 *
 * Init, in the order the reference manual asks: the GPIO port's clock and both
 * pins in alternate-function mode (hx_stm32_gpio.h), the USART's clock gate
 * (HX_UART_CLOCK_ENABLE_REG/_MASK), OVER8 with the USART disabled, the divisor
 * from the peripheral clock that actually runs (hx_clock_uart_hz(): the reset
 * clock, the maximum, or the reset clock again after a fallback), then UE, TE,
 * RE and RXNEIE together, and the NVIC line last.
 *
 * Receive: the USART interrupt (RXNE, which also covers overrun) moves each byte
 * into the ring buffer of hx_uart_ring.c, so bytes that arrive while the firmware
 * is busy - sending an answer, running an op - are kept instead of overrunning
 * the one-byte data register. hx_port_getc() (there too) only reads the ring:
 * non-blocking, as hx_proto.h asks.
 * Transmit stays polled: it must work with interrupts disabled (fault reports).
 *
 * HX_UART_BASE, HX_UART_IRQS, the pins and clock gates come from the target data
 * via hx_config.h. Every external interrupt vector points at hx_uart_irq_handler
 * (startup.c); this driver enables only its own lines in the NVIC.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_proto.h"
#include "hx_stm32_gpio.h"
#include "hx_uart_ring.h"
#include "hx_usart_div.h"

#define USART_SR (HX_UART_BASE + 0x00u)
#define USART_DR (HX_UART_BASE + 0x04u)
#define USART_BRR (HX_UART_BASE + 0x08u)
#define USART_CR1 (HX_UART_BASE + 0x0Cu)

#define SR_ORE (1u << 3)
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_UE (1u << 13)
#define CR1_OVER8 (1u << 15)

void hx_uart_irq_handler(void) {
  /* One byte at most is waiting (the data register); SR then DR clears RXNE and
   * an overrun alike. SR is read once: QEMU's model treats every SR read as
   * "the guest may take more input", so extra reads only cost time there. */
  uint32_t sr = hx_mmio_read(USART_SR);
  if (!(sr & (SR_RXNE | SR_ORE))) {
    return;
  }
  if ((sr & SR_RXNE) && hx_uart_ring_full()) {
    /* No room: the byte waits in DR (an emulator holds the rest back) until
     * hx_port_getc() has made room and calls hx_uart_rx_resume(). */
    hx_mmio_clear(USART_CR1, CR1_RXNEIE);
    hx_uart_ring_pause();
    return;
  }
  uint8_t b = (uint8_t)hx_mmio_read(USART_DR);
  if (sr & SR_RXNE) {
    hx_uart_ring_put(b);
  }
}

void hx_uart_rx_resume(void) { hx_mmio_set(USART_CR1, CR1_RXNEIE); }

void hx_uart_init(void) {
  hx_usart_start(USART_CR1, USART_BRR, CR1_OVER8, CR1_UE | CR1_TE | CR1_RE | CR1_RXNEIE);
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    while (!(hx_mmio_read(USART_SR) & SR_TXE)) {
    }
    hx_mmio_write(USART_DR, data[i]);
  }
}
