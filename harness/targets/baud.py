"""Which baud rates a target's UART can make, and the refusal of one it cannot.

A UART makes a rate from its peripheral clock: the STM32 USARTs and the CMSDK UART
divide it by a whole number, the nRF UARTs take fixed codes whose actual rates the
product specifications list. A rate more than 2% off the one asked for is refused
before the build, naming the rates the board makes near it (a UART frame of 10 bits
tolerates only a few percent between the two ends in total).
"""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import BadInput
from harness.targets.target import Target

TOLERANCE = 0.02
# The rates people ask for; the refusal names those the board makes within TOLERANCE.
STANDARD_RATES = (9600, 19200, 38400, 57600, 115200, 230400, 250000, 460800, 500000,
                  921600, 1000000, 1500000, 2000000, 3000000)

# nRF52840 PS 6.34.10.15 (UARTE BAUDRATE), for the 16 MHz peripheral clock: the rate asked
# for -> the rate made ("actual rate" where the specification gives one).
NRF52_UARTE_RATES = {1200: 1205, 2400: 2396, 4800: 4808, 9600: 9598, 14400: 14401,
                     19200: 19208, 28800: 28777, 31250: 31250, 38400: 38369, 56000: 55944,
                     57600: 57554, 76800: 76923, 115200: 115108, 230400: 231884,
                     250000: 250000, 460800: 457143, 921600: 941176, 1000000: 1000000}
# nRF51 Series RM (UART BAUDRATE): the codes firmware/uart/nrf51_uart.c knows; the rate
# made is code * 16 MHz / 2^32.
NRF51_UART_CODES = {9600: 0x00275000, 19200: 0x004EA000, 38400: 0x009D5000,
                    57600: 0x00EBF000, 115200: 0x01D7E000, 230400: 0x03AFB000,
                    460800: 0x075F7000, 921600: 0x0EBEDFA4, 1000000: 0x10000000}


def _divided(least: int, most: int) -> Callable[[int, int], float | None]:
    """A UART whose rate is clock / D for a whole D in least..most."""

    def rate(clock_hz: int, baud: int) -> float | None:
        d = (clock_hz + baud // 2) // baud
        return clock_hz / d if least <= d <= most else None

    return rate


def _nrf52(clock_hz: int, baud: int) -> float | None:
    return NRF52_UARTE_RATES.get(baud)


def _nrf51(clock_hz: int, baud: int) -> float | None:
    code = NRF51_UART_CODES.get(baud)
    return None if code is None else code * 16_000_000 / 2**32


# The rate each UART driver makes when asked for `baud` at peripheral clock `clock_hz`
# (None: it cannot). STM32: D >= 16 with 16x oversampling, D >= 8 with OVER8 (RM0368
# 19.3.4; firmware/uart/hx_usart_div.h); CMSDK: BAUDDIV >= 16 (Arm DDI0479 4.3).
RATES: dict[str, Callable[[int, int], float | None]] = {
    "stm32_usart": _divided(8, 0xFFFF),
    "stm32_usart_v2": _divided(8, 0xFFFF),
    "cmsdk_uart": _divided(16, 0xFFFFF),
    "nrf51_uart": _nrf51,
    "nrf52_uarte": _nrf52,
}


def made_rate(target: Target, baud: int, *, clock: str = "reset") -> float | None:
    """The rate the target's UART makes for `baud` at the reset clock or at `max`."""
    clock_hz = target.uart_max_hz if clock == "max" else target.uart.clock_hz
    return RATES[target.uart.driver](clock_hz, baud)


def within(target: Target, baud: int, clock: str = "reset") -> bool:
    """Whether the UART makes `baud` within TOLERANCE."""
    made = made_rate(target, baud, clock=clock)
    return made is not None and abs(made - baud) <= TOLERANCE * baud


def check_baud(target: Target, baud: int, clock: str = "reset") -> None:
    """BadInput, in one line, when the target's UART cannot make `baud` within 2% at the
    clock the firmware will run (`clock`: "reset" or "max")."""
    if within(target, baud, clock):
        return
    clock_hz = target.uart_max_hz if clock == "max" else target.uart.clock_hz
    made = made_rate(target, baud, clock=clock)
    got = (f"makes {made:.0f} ({100 * (made - baud) / baud:+.1f}%)" if made is not None
           else "cannot make it")
    near = [r for r in sorted(STANDARD_RATES, key=lambda r: abs(r - baud))
            if within(target, r, clock)][:3]
    hints = [f"within 2% it makes {', '.join(map(str, sorted(near)))}"] if near else []
    if clock == "reset" and target.clock and within(target, baud, "max"):
        hints.append(f"--clock max ({_mhz(target.max_hz)}) makes {baud}")
    raise BadInput(f"--baud {baud} is more than 2% off on {target.name}: {target.uart.name} "
                   f"at {_mhz(clock_hz)} {got}", hint="; ".join(hints) or None)


def _mhz(hz: int) -> str:
    return f"{hz / 1e6:g} MHz"
