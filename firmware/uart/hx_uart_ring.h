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

/* Enable the UART's interrupt lines (HX_UART_IRQS, from the target data) in
 * the NVIC. Call last in the driver's init. */
void hx_uart_enable_irqs(void);

#endif /* HX_UART_RING_H */
