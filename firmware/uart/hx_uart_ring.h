/*
 * hx_uart_ring.h - the receive ring every UART driver in firmware/uart/ shares,
 * and the NVIC set-up of the UART's interrupt lines.
 *
 * The driver's RX interrupt hands each received byte to hx_uart_ring_put();
 * hx_port_getc() and hx_port_idle() (hx_proto.h) read the ring, in
 * hx_uart_ring.c. One writer per index: the interrupt moves the head, the main
 * loop the tail, and both are single bytes, so neither side needs to mask
 * interrupts to read or write them.
 */
#ifndef HX_UART_RING_H
#define HX_UART_RING_H

#include <stdint.h>

/* Empty the ring. Call from the driver's init, before the RX interrupt is enabled. */
void hx_uart_ring_reset(void);

/* Queue one received byte. Call from the RX interrupt only. A full ring drops
 * the byte; the protocol's CRC catches the loss. */
void hx_uart_ring_put(uint8_t b);

/* 1 when the ring has no room. A driver whose UART can hold a byte back (the
 * emulators' UARTs wait with the next byte until the guest took the last; a
 * board's overruns) checks this first and, when full, masks its RX interrupt and
 * calls hx_uart_ring_pause(): the byte waits in the UART instead of being lost. */
int hx_uart_ring_full(void);
void hx_uart_ring_pause(void);

/* The driver's half of a pause: unmask its RX interrupt (and take the byte it held).
 * hx_port_getc() calls it once it has made room; drivers that never pause need not
 * define it. */
void hx_uart_rx_resume(void);

/* Enable the UART's interrupt lines (HX_UART_IRQS, from the target data) in
 * the NVIC. Call last in the driver's init. */
void hx_uart_enable_irqs(void);

#endif /* HX_UART_RING_H */
