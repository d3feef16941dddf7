/*
 * cmsdk_uart.c - driver for the Arm CMSDK APB UART (the UART of the MPS2/MPS3
 * FPGA images: AN385, AN386, AN500, AN505, AN547, ...): interrupt-driven
 * receive into a ring buffer, polled transmit.
 *
 * Register map (Cortex-M System Design Kit TRM, Arm DDI0479, "APB UART", as
 * QEMU's hw/char/cmsdk-apb-uart.c models it): DATA 0x00, STATE 0x04 (bit 0 TX
 * buffer full, bit 1 RX buffer full, bits 2/3 TX/RX overrun, write 1 to
 * clear), CTRL 0x08 (bit 0 TX enable, bit 1 RX enable, bit 3 RX interrupt
 * enable), INTSTATUS 0x0C (bit 1 RX interrupt, write 1 to clear), BAUDDIV 0x10
 * (UART clock / baud rate, at least 16).
 *
 * Receive: the RX interrupt moves each byte into the ring buffer of
 * hx_uart_ring.c, so bytes that arrive while the firmware is busy (sending an
 * answer) are kept instead of overrunning the one-byte receive buffer.
 * hx_port_getc() (there too) only reads the ring.
 * Transmit stays polled: it must work with interrupts disabled (fault reports).
 *
 * HX_UART_BASE, HX_UART_CLOCK_HZ, HX_UART_IRQS and HX_BAUD come from the
 * target data via hx_config.h. On TrustZone parts the data gives the Secure
 * alias of the UART, because the firmware runs in Secure state (interrupts
 * target Secure state after reset, NVIC_ITNS = 0).
 *
 * Interrupts: the target data lists UART0's transmit and receive lines (their
 * numbers differ per FPGA image, and which of the pair is RX differs between
 * the application notes and QEMU versions). All are enabled in the NVIC and
 * every vector reaches hx_uart_irq_handler (startup.c); only the RX interrupt
 * is enabled in the UART itself.
 */
#include <stdint.h>

#include "hx_clock.h"
#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_proto.h"
#include "hx_uart_ring.h"

#define UART_DATA (HX_UART_BASE + 0x00u)
#define UART_STATE (HX_UART_BASE + 0x04u)
#define UART_CTRL (HX_UART_BASE + 0x08u)
#define UART_INTSTATUS (HX_UART_BASE + 0x0Cu)
#define UART_BAUDDIV (HX_UART_BASE + 0x10u)

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define STATE_OVERRUNS (3u << 2)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INT_EN (1u << 3)
#define INT_RX (1u << 1)

void hx_uart_irq_handler(void) {
  /* Clear first, then drain: a byte that lands after the drain raises it again. */
  hx_mmio_write(UART_INTSTATUS, INT_RX);
  uint32_t st;
  while ((st = hx_mmio_read(UART_STATE)) & (STATE_RX_FULL | STATE_OVERRUNS)) {
    if (st & STATE_OVERRUNS) {
      /* keep receiving; the CRC catches the loss */
      hx_mmio_write(UART_STATE, st & STATE_OVERRUNS);
    }
    if (st & STATE_RX_FULL) {
      hx_uart_ring_put((uint8_t)hx_mmio_read(UART_DATA));
    }
  }
}

void hx_uart_init(void) {
  uint32_t div = (hx_clock_uart_hz() + HX_BAUD / 2u) / HX_BAUD;
  hx_mmio_write(UART_CTRL, 0u);
  hx_mmio_write(UART_BAUDDIV, div < 16u ? 16u : div);
  hx_mmio_write(UART_STATE, STATE_OVERRUNS); /* clear stale overrun flags (write 1 to clear) */
  hx_mmio_write(UART_INTSTATUS, 0xFu);
  hx_uart_ring_reset();
  hx_mmio_write(UART_CTRL, CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT_EN);
  hx_uart_enable_irqs();
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    while (hx_mmio_read(UART_STATE) & STATE_TX_FULL) {
    }
    hx_mmio_write(UART_DATA, data[i]);
  }
}
