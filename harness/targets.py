"""Targets are data: CPU flags, memory map, UART and how each backend boots them.

A new target is a new entry in TARGETS, not new code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import BadInput


@dataclass(frozen=True)
class Memory:
    origin: int
    length: int


@dataclass(frozen=True)
class Target:
    """Everything the firmware generator, build and backends need to know."""

    name: str
    cpu: str
    cflags: tuple[str, ...]
    flash: Memory
    ram: Memory
    uart: str  # driver in firmware/uart/: "stm32_usart", "cmsdk_uart", "nrf51_uart"
    uart_base: int
    clock_hz: int
    qemu_machine: str | None = None
    renode_platform: str | None = None
    has_fpu: bool = False
    boards: tuple[str, ...] = field(default_factory=tuple)


_M4F = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard")

TARGETS: dict[str, Target] = {
    "stm32f4": Target(
        name="stm32f4",
        cpu="cortex-m4",
        cflags=_M4F,
        # STM32F405 as QEMU's netduinoplus2 models it: 1 MB flash, 128 KB SRAM.
        flash=Memory(0x08000000, 1024 * 1024),
        ram=Memory(0x20000000, 128 * 1024),
        uart="stm32_usart",
        uart_base=0x40011000,  # USART1
        clock_hz=168_000_000,
        qemu_machine="netduinoplus2",
        renode_platform="platforms/boards/stm32f4_discovery.repl",
        has_fpu=True,
        boards=("Nucleo-F446RE", "Nucleo-F411RE", "STM32F4-Discovery"),
    ),
}


def get_target(name: str) -> Target:
    """Look a target up by name; BadInput lists the known ones."""
    try:
        return TARGETS[name]
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise BadInput(f"unknown target {name!r}", hint=f"known targets: {known}") from None
