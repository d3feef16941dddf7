/*
 * hx_uart_ring.c - the receive ring behind every UART driver: the driver's RX
 * interrupt fills it (hx_uart_ring_put), hx_port_getc() drains it, so bytes
 * that arrive while the firmware is busy (sending an answer, running an op)
 * are kept instead of overrunning the UART's own small receive buffer.
 *
 * HX_UART_RING_SIZE and HX_UART_IRQS come from the target data via
 * hx_config.h (a smaller ring on RAM-poor targets).
 */
#include <stdint.h>

#include "hx_config.h"
#include "hx_mmio.h"
#include "hx_proto.h"
#include "hx_uart_ring.h"

#ifndef HX_UART_RING_SIZE
#define HX_UART_RING_SIZE 256u
#endif

/* ---- the interrupt writes head, hx_port_getc() writes tail ---- */
#define RING_SIZE HX_UART_RING_SIZE
#define RING_MASK (RING_SIZE - 1u)
#if RING_SIZE > 256u || (RING_SIZE & RING_MASK) != 0u
#error "HX_UART_RING_SIZE must be a power of two, at most 256 (uint8_t indices)"
#endif
static volatile uint8_t ring[RING_SIZE];
static volatile uint8_t ring_head, ring_tail;
static volatile uint8_t paused; /* the interrupt sets it, hx_port_getc() clears it */

__attribute__((weak)) void hx_uart_rx_resume(void) {}

void hx_uart_ring_reset(void) {
  ring_head = ring_tail = 0;
  paused = 0;
}

int hx_uart_ring_full(void) {
  return (uint8_t)((ring_head + 1u) & RING_MASK) == ring_tail;
}

void hx_uart_ring_pause(void) {
  paused = 1;
}

void hx_uart_ring_put(uint8_t b) {
  uint8_t next = (uint8_t)((ring_head + 1u) & RING_MASK);
  if (next != ring_tail) { /* full: drop the byte; the CRC catches it */
    ring[ring_head] = b;
    ring_head = next;
  }
}

int hx_port_getc(void) {
  uint8_t t = ring_tail;
  if (t == ring_head) {
    return -1;
  }
  int b = ring[t];
  ring_tail = (uint8_t)((t + 1u) & RING_MASK);
  if (paused) { /* room again: let the driver take what it held back */
    paused = 0;
    hx_uart_rx_resume();
  }
  return b;
}

/* NVIC_ISERn: write 1 to enable interrupt 32 * n + bit (Arm DDI0403 B3.4.4). */
#define NVIC_ISER(n) (0xE000E100u + 4u * (n))

void hx_uart_enable_irqs(void) {
  static const uint16_t irqs[HX_UART_NUM_IRQS] = HX_UART_IRQS;
  for (uint32_t i = 0; i < HX_UART_NUM_IRQS; i++) {
    hx_mmio_write(NVIC_ISER(irqs[i] / 32u), 1u << (irqs[i] % 32u));
  }
}

/* For the app's main loop, when it has nothing else to do: sleep until the next
 * interrupt unless a byte is already waiting. Interrupts are masked around the
 * check, so a byte that lands in between still ends the WFI (a pending
 * interrupt wakes the core with PRIMASK set, and runs once it is cleared).
 * In an emulator this frees the host CPU that a spinning idle loop would take. */
void hx_port_idle(void) {
  HX_ASM("cpsid i");
  if (ring_head == ring_tail) {
    HX_ASM("wfi");
  }
  HX_ASM("cpsie i");
}
