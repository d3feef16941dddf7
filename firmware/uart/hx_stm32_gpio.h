/*
 * hx_stm32_gpio.h - route the UART's two pins to it on an STM32 (RM0368 8.4
 * "GPIO registers", the same layout on F4, F7 and H7): the port's clock on
 * (HX_UART_GPIO_CLOCK_ENABLE_*), both pins in alternate-function mode (MODER =
 * 0b10) with function HX_UART_PIN_AF (AFRL for pins 0..7, AFRH for 8..15), and
 * a pull-up on RX so the line idles high while the probe's side is not driven.
 */
#ifndef HX_STM32_GPIO_H
#define HX_STM32_GPIO_H

#include <stdint.h>

#include "hx_config.h"
#include "hx_mmio.h"

#define GPIO_MODER(port) ((port) + 0x00u)
#define GPIO_PUPDR(port) ((port) + 0x0Cu)
#define GPIO_AFR(port, pin) ((port) + ((pin) < 8u ? 0x20u : 0x24u))

static inline void hx_gpio_alternate(uint32_t port, uint32_t pin, uint32_t af) {
  hx_mmio_field(GPIO_MODER(port), 0x3u << (2u * pin), 0x2u << (2u * pin));
  uint32_t shift = 4u * (pin % 8u);
  hx_mmio_field(GPIO_AFR(port, pin), 0xFu << shift, af << shift);
}

/* TX on HX_UART_GPIO_BASE; RX on HX_UART_GPIO_RX_BASE, the same port on most boards. */
static inline void hx_uart_pins_init(void) {
  hx_mmio_set(HX_UART_GPIO_CLOCK_ENABLE_REG, HX_UART_GPIO_CLOCK_ENABLE_MASK);
  (void)hx_mmio_read(HX_UART_GPIO_CLOCK_ENABLE_REG); /* the clock is on after the read-back */
  hx_gpio_alternate(HX_UART_GPIO_BASE, HX_UART_PIN_TX, HX_UART_PIN_AF);
  hx_gpio_alternate(HX_UART_GPIO_RX_BASE, HX_UART_PIN_RX, HX_UART_PIN_AF);
  hx_mmio_field(GPIO_PUPDR(HX_UART_GPIO_RX_BASE), 0x3u << (2u * HX_UART_PIN_RX),
                0x1u << (2u * HX_UART_PIN_RX));
}

#endif /* HX_STM32_GPIO_H */
