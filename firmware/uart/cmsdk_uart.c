/*
 * cmsdk_uart.c - polled driver for the Arm CMSDK APB UART (the UART of the
 * MPS2/MPS3 FPGA images: AN385, AN386, AN500, AN505, AN547, ...).
 *
 * Register map (Cortex-M System Design Kit TRM, Arm DDI0479, "APB UART", as
 * QEMU's hw/char/cmsdk-apb-uart.c models it): DATA 0x00, STATE 0x04 (bit 0 TX
 * buffer full, bit 1 RX buffer full, bits 2/3 TX/RX overrun, write 1 to
 * clear), CTRL 0x08 (bit 0 TX enable, bit 1 RX enable), INTSTATUS 0x0C,
 * BAUDDIV 0x10 (UART clock / baud rate, at least 16).
 *
 * HX_UART_BASE, HX_UART_CLOCK_HZ and HX_BAUD come from the target table via
 * hx_config.h. On TrustZone parts the table gives the Secure alias of the
 * UART, because the firmware runs in Secure state.
 */
#include <stdint.h>

#include "hx_config.h"
#include "hx_proto.h"

#ifndef HX_UART_CLOCK_HZ
#define HX_UART_CLOCK_HZ HX_CLOCK_HZ
#endif

#define UART_DATA (*(volatile uint32_t *)(HX_UART_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(HX_UART_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(HX_UART_BASE + 0x08u))
#define UART_INTSTATUS (*(volatile uint32_t *)(HX_UART_BASE + 0x0Cu))
#define UART_BAUDDIV (*(volatile uint32_t *)(HX_UART_BASE + 0x10u))

#define STATE_TX_FULL (1u << 0)
#define STATE_RX_FULL (1u << 1)
#define STATE_OVERRUNS (3u << 2)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)

void hx_uart_init(void) {
  uint32_t div = (HX_UART_CLOCK_HZ + HX_BAUD / 2u) / HX_BAUD;
  UART_CTRL = 0;
  UART_BAUDDIV = div < 16u ? 16u : div;
  UART_STATE = STATE_OVERRUNS;    /* clear stale overrun flags (write 1 to clear) */
  UART_INTSTATUS = 0xFu;          /* polled: no interrupt is enabled or left pending */
  UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

int hx_port_getc(void) {
  uint32_t st = UART_STATE;
  if (st & STATE_OVERRUNS) {
    /* Keep receiving after an overrun; the CRC catches the lost byte. */
    UART_STATE = st & STATE_OVERRUNS;
  }
  if (st & STATE_RX_FULL) {
    return (int)(UART_DATA & 0xFFu);
  }
  return -1;
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    while (UART_STATE & STATE_TX_FULL) {
    }
    UART_DATA = data[i];
  }
}
