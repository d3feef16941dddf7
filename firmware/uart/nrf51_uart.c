/*
 * nrf51_uart.c - driver for the Nordic nRF51 UART (BBC micro:bit): interrupt-
 * driven receive into a ring buffer, polled transmit.
 *
 * Register map (nRF51 Series Reference Manual, "UART", as QEMU's
 * hw/char/nrf51_uart.c models it): tasks STARTRX 0x000,
 * STARTTX 0x008; events RXDRDY 0x108, TXDRDY 0x11C, ERROR 0x124; ERRORSRC
 * 0x480 (write 1 to clear); ENABLE 0x500 (4 = enabled); PSELRTS/TXD/CTS/RXD
 * 0x508..0x514; RXD 0x518; TXD 0x51C; BAUDRATE 0x524; CONFIG 0x56C.
 *
 * Events are cleared by writing 0. The receive side has a small FIFO: RXD
 * pops one byte and raises RXDRDY again if more are waiting, so RXDRDY must
 * be cleared *before* reading RXD. TXDRDY is raised once a byte written to
 * TXD has gone out.
 *
 * Receive: the UART interrupt (RXDRDY, ERROR) moves each byte into the ring
 * buffer of hx_uart_ring.c, so bytes that arrive while the firmware is busy
 * (sending an answer) are kept instead of overrunning the 6-byte FIFO.
 * hx_port_getc() (there too) only reads the ring. Transmit stays polled: it
 * must work with interrupts disabled.
 * Every external vector reaches hx_uart_irq_handler (startup.c); only the
 * UART's own line is enabled in the NVIC.
 *
 * HX_UART_BASE, HX_UART_IRQS (IRQ number = peripheral ID), the pins
 * HX_UART_PIN_TX/RX and HX_BAUD come from the target data via hx_config.h.
 */
#include <stdint.h>

#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_proto.h"
#include "hx_uart_ring.h"

#define UART_REG(off) (HX_UART_BASE + (off))
#define UART_STARTRX UART_REG(0x000u)
#define UART_STARTTX UART_REG(0x008u)
#define UART_EV_RXDRDY UART_REG(0x108u)
#define UART_EV_TXDRDY UART_REG(0x11Cu)
#define UART_EV_ERROR UART_REG(0x124u)
#define UART_INTENSET UART_REG(0x304u)
#define UART_INTENCLR UART_REG(0x308u)
#define UART_ERRORSRC UART_REG(0x480u)
#define UART_ENABLE UART_REG(0x500u)
#define UART_PSELRTS UART_REG(0x508u)
#define UART_PSELTXD UART_REG(0x50Cu)
#define UART_PSELCTS UART_REG(0x510u)
#define UART_PSELRXD UART_REG(0x514u)
#define UART_RXD UART_REG(0x518u)
#define UART_TXD UART_REG(0x51Cu)
#define UART_BAUDRATE UART_REG(0x524u)
#define UART_CONFIG UART_REG(0x56Cu)

#define INT_RXDRDY (1u << 2)
#define INT_ERROR (1u << 9)

#define ENABLE_UART 4u
#define PSEL_DISCONNECTED 0xFFFFFFFFu

/* BAUDRATE register values from the reference manual (not a linear formula). */
static uint32_t baud_register(uint32_t baud) {
  switch (baud) {
    case 9600u: return 0x00275000u;
    case 19200u: return 0x004EA000u;
    case 38400u: return 0x009D5000u;
    case 57600u: return 0x00EBF000u;
    case 230400u: return 0x03AFB000u;
    case 460800u: return 0x075F7000u;
    case 921600u: return 0x0EBEDFA4u;
    case 1000000u: return 0x10000000u;
    default: return 0x01D7E000u; /* 115200; the host refuses rates without a code */
  }
}

void hx_uart_irq_handler(void) {
  if (hx_mmio_read(UART_EV_ERROR)) {
    /* Overrun/framing: clear and keep receiving; the CRC catches the loss. */
    hx_mmio_write(UART_EV_ERROR, 0u);
    hx_mmio_write(UART_ERRORSRC, 0xFu);
  }
  while (hx_mmio_read(UART_EV_RXDRDY)) {
    /* before RXD: reading RXD raises it again if more wait */
    hx_mmio_write(UART_EV_RXDRDY, 0u);
    hx_uart_ring_put((uint8_t)hx_mmio_read(UART_RXD));
  }
}

void hx_uart_init(void) {
  hx_mmio_write(UART_ENABLE, 0u);
  hx_mmio_write(UART_INTENCLR, 0xFFFFFFFFu);
  hx_mmio_write(UART_PSELTXD, HX_UART_PIN_TX);
  hx_mmio_write(UART_PSELRXD, HX_UART_PIN_RX);
  hx_mmio_write(UART_PSELRTS, PSEL_DISCONNECTED);
  hx_mmio_write(UART_PSELCTS, PSEL_DISCONNECTED);
  hx_mmio_write(UART_CONFIG, 0u); /* no flow control, no parity */
  hx_mmio_write(UART_BAUDRATE, baud_register(HX_BAUD));
  hx_mmio_write(UART_ENABLE, ENABLE_UART);
  hx_mmio_write(UART_EV_RXDRDY, 0u);
  hx_mmio_write(UART_EV_TXDRDY, 0u);
  hx_mmio_write(UART_EV_ERROR, 0u);
  hx_uart_ring_reset();
  hx_mmio_write(UART_INTENSET, INT_RXDRDY | INT_ERROR);
  hx_uart_enable_irqs();
  hx_mmio_write(UART_STARTRX, 1u);
  hx_mmio_write(UART_STARTTX, 1u);
}

void hx_port_write(const uint8_t *data, uint32_t len) {
  for (uint32_t i = 0; i < len; i++) {
    hx_mmio_write(UART_EV_TXDRDY, 0u);
    hx_mmio_write(UART_TXD, data[i]);
    while (!hx_mmio_read(UART_EV_TXDRDY)) {
    }
  }
}
