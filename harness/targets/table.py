"""Targets are data: CPU flags, memory map, UART and how each backend boots them.

A new target is a new entry in TARGETS, not new code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from harness.errors import BadInput


@dataclass(frozen=True)
class Memory:
    origin: int
    length: int


@dataclass(frozen=True)
class Target:
    """Everything the firmware generator, build and backends need to know.

    Addresses are the ones the firmware uses. A core that boots in Secure state
    (`boots_secure`, the TrustZone MPS2/MPS3 images) uses the Secure aliases
    (address bit 28 set) for code, RAM and peripherals.
    """

    name: str
    cpu: str
    cflags: tuple[str, ...]
    flash: Memory  # where code and weights go (ROM, or RAM standing in for it)
    ram: Memory  # .data, .bss (arena) and the stack
    uart: str  # driver in firmware/uart/: "stm32_usart", "cmsdk_uart", "nrf51_uart"
    uart_base: int
    clock_hz: int  # core clock
    qemu_machine: str | None = None
    renode_platform: str | None = None
    has_fpu: bool = False  # startup enables CP10/CP11 (FPU, and MVE on Armv8.1-M)
    boards: tuple[str, ...] = field(default_factory=tuple)
    uart_clock_hz: int | None = None  # UART peripheral clock when not the core clock
    boots_secure: bool = False
    soc: str = ""  # what the memory map describes, for messages
    openocd_config: str | None = None  # for --flash openocd on a real board
    stack_bytes: int = 8 * 1024  # what the linker script keeps free for the stack
    max_payload: int = 1024  # protocol frame payload; smaller on RAM-poor targets
    uart_ring_bytes: int = 256  # UART receive ring (hx_uart_ring.c): a power of two <= 256

    @property
    def where(self) -> str:
        """Short name of the machine for messages: 'cortex-m0 (microbit)'."""
        return f"{self.name} ({self.qemu_machine or self.soc or self.cpu})"


KIB = 1024
MIB = 1024 * KIB

_M4F = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard")

# Arm MPS2 FPGA images AN385/AN386/AN500 share one memory map as QEMU models them
# (hw/arm/mps2.c): 4 MB ZBT SSRAM1 at 0 (code), 4 MB ZBT SSRAM2&3 at 0x20000000,
# CMSDK APB UART0 at 0x40004000, 25 MHz system and peripheral clock.
_MPS2_CODE = Memory(0x00000000, 4 * MIB)
_MPS2_RAM = Memory(0x20000000, 4 * MIB)
_MPS2_UART0 = 0x40004000
_MPS2_CLOCK = 25_000_000

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
        openocd_config="board/st_nucleo_f4.cfg",
        soc="STM32F405",
    ),
    "cortex-m0": Target(
        name="cortex-m0",
        cpu="cortex-m0",
        cflags=("-mcpu=cortex-m0", "-mthumb"),
        # nRF51822-QFAA on the BBC micro:bit (QEMU hw/arm/nrf51_soc.c): 256 KB flash at 0,
        # 16 KB SRAM at 0x20000000, UART at 0x40002000, HCLK fixed at 16 MHz.
        flash=Memory(0x00000000, 256 * KIB),
        ram=Memory(0x20000000, 16 * KIB),
        uart="nrf51_uart",
        uart_base=0x40002000,
        clock_hz=16_000_000,
        qemu_machine="microbit",
        boards=("BBC micro:bit v1",),
        # 16 KB of RAM: smaller frames and stack leave room for a 12 KB arena.
        stack_bytes=2 * 1024,
        max_payload=256,
        uart_ring_bytes=128,
        soc="nRF51822-QFAA",
    ),
    "cortex-m3": Target(
        name="cortex-m3",
        cpu="cortex-m3",
        cflags=("-mcpu=cortex-m3", "-mthumb"),
        flash=_MPS2_CODE,
        ram=_MPS2_RAM,
        uart="cmsdk_uart",
        uart_base=_MPS2_UART0,
        clock_hz=_MPS2_CLOCK,
        qemu_machine="mps2-an385",
        boards=("MPS2+ AN385",),
        soc="MPS2 AN385",
    ),
    "cortex-m4": Target(
        name="cortex-m4",
        cpu="cortex-m4",
        cflags=_M4F,
        flash=_MPS2_CODE,
        ram=_MPS2_RAM,
        uart="cmsdk_uart",
        uart_base=_MPS2_UART0,
        clock_hz=_MPS2_CLOCK,
        qemu_machine="mps2-an386",
        has_fpu=True,
        boards=("MPS2+ AN386",),
        soc="MPS2 AN386",
    ),
    "cortex-m7": Target(
        name="cortex-m7",
        cpu="cortex-m7",
        # QEMU's Cortex-M7 has the double-precision FPv5 FPU.
        cflags=("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
        flash=_MPS2_CODE,
        ram=_MPS2_RAM,
        uart="cmsdk_uart",
        uart_base=_MPS2_UART0,
        clock_hz=_MPS2_CLOCK,
        qemu_machine="mps2-an500",
        has_fpu=True,
        boards=("MPS2+ AN500",),
        soc="MPS2 AN500",
    ),
    "cortex-m33": Target(
        name="cortex-m33",
        cpu="cortex-m33",
        cflags=("-mcpu=cortex-m33", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"),
        # AN505 (QEMU hw/arm/mps2-tz.c, IoTKit in hw/arm/armsse.c): the core boots Secure
        # with VTOR = 0x10000000. 4 MB SSRAM at 0 (Secure alias 0x10000000); SSRAM 2 and 3,
        # 2 MB each at 0x28000000 (Secure alias 0x38000000); UART0 at 0x40200000 (Secure
        # alias 0x50200000). The IDAU makes bit 28 the Secure bit and the memory/peripheral
        # protection controllers reset to Secure-only, so Secure code uses the Secure
        # aliases (the Non-secure ones only work while the SAU is off and marks all Secure).
        flash=Memory(0x10000000, 4 * MIB),
        ram=Memory(0x38000000, 4 * MIB),
        uart="cmsdk_uart",
        uart_base=0x50200000,
        clock_hz=20_000_000,
        qemu_machine="mps2-an505",
        has_fpu=True,
        boots_secure=True,
        boards=("MPS2+ AN505",),
        soc="MPS2 AN505",
    ),
    "cortex-m55": Target(
        name="cortex-m55",
        cpu="cortex-m55",
        # -mcpu=cortex-m55 implies +mve.fp+fp.dp; the startup code enables CP10/CP11.
        cflags=("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"),
        # AN547 / SSE-300 (QEMU hw/arm/mps2-tz.c, hw/arm/armsse.c): the core boots Secure.
        # 512 KB ITCM at 0 (Secure alias 0x10000000) holds the vector table and code;
        # 512 KB DTCM at 0x20000000 (Secure alias 0x30000000); UART0 at 0x49303000
        # (Secure alias 0x59303000) on a 25 MHz peripheral clock, core at 32 MHz.
        flash=Memory(0x10000000, 512 * KIB),
        ram=Memory(0x30000000, 512 * KIB),
        uart="cmsdk_uart",
        uart_base=0x59303000,
        clock_hz=32_000_000,
        uart_clock_hz=25_000_000,
        qemu_machine="mps3-an547",
        has_fpu=True,
        boots_secure=True,
        boards=("MPS3 AN547",),
        soc="MPS3 AN547",
    ),
}


def get_target(name: str) -> Target:
    """Look a target up by name; BadInput lists the known ones."""
    try:
        return TARGETS[name]
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise BadInput(f"unknown target {name!r}", hint=f"known targets: {known}") from None


# What the firmware shell adds to a model, measured on the builtin runtime (startup, UART,
# protocol, kernels: 6.5-10 KB of code; protocol buffers and app state: 3.9 KB of RAM),
# rounded up; plus generated code and requantisation tables per layer (~0.8 KB a layer
# for person_detect's 31).
SHELL_FLASH_BYTES = 12 * KIB
SHELL_RAM_BYTES = 4 * KIB
PER_OP_FLASH_BYTES = 800


class Footprint(NamedTuple):
    """Estimated memory needs, and what they are made of (for messages)."""

    flash: int
    ram: int
    flash_detail: str
    ram_detail: str


def estimate_footprint(weights_bytes: int, arena_bytes: int, *, stack_bytes: int,
                       num_ops: int = 0, max_payload: int = 1024) -> Footprint:
    """Flash and RAM a builtin-runtime firmware needs, estimated before building it.

    weights_bytes: the model's constant data (weights, biases); arena_bytes: the
    planned activation arena; stack_bytes: what the linker script reserves.
    """
    code = SHELL_FLASH_BYTES + PER_OP_FLASH_BYTES * num_ops
    # The shell's RAM is mostly protocol buffers: receive, reply cache, two text buffers.
    shell_ram = SHELL_RAM_BYTES - 4 * 1024 + 4 * max_payload
    return Footprint(
        flash=code + weights_bytes,
        ram=shell_ram + arena_bytes + stack_bytes,
        flash_detail=f"{_kb(weights_bytes)} weights + {_kb(code)} code",
        ram_detail=(f"{_kb(arena_bytes)} arena + {_kb(shell_ram)} firmware + "
                    f"{_kb(stack_bytes)} stack"),
    )


def _kb(n: int) -> str:
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MB"
    return f"{math.ceil(n / KIB)} KB"


def fitting_targets(flash_bytes: int, ram_bytes: int) -> list[str]:
    """Names of the targets whose flash and RAM hold these estimates."""
    return [t.name for t in TARGETS.values()
            if flash_bytes <= t.flash.length and ram_bytes <= t.ram.length]


def check_fits(target: Target, flash_bytes_estimate: int, ram_bytes_estimate: int, *,
               model: str = "the model", flash_detail: str = "",
               ram_detail: str = "") -> None:
    """Raise BadInput, in one line, when the estimates exceed the target's memory.

    The details say what the estimate is made of, e.g. "55 KB arena + 8 KB stack".
    Estimates are approximate: the linker still checks the exact figures.
    """
    problems = []
    if flash_bytes_estimate > target.flash.length:
        what = f" ({flash_detail})" if flash_detail else ""
        problems.append(f"~{_kb(flash_bytes_estimate)} of flash{what} but {target.where} has "
                        f"{_kb(target.flash.length)}")
    if ram_bytes_estimate > target.ram.length:
        what = f" ({ram_detail})" if ram_detail else ""
        problems.append(f"~{_kb(ram_bytes_estimate)} of RAM{what} but {target.where} has "
                        f"{_kb(target.ram.length)}")
    if not problems:
        return
    others = [n for n in fitting_targets(flash_bytes_estimate, ram_bytes_estimate)
              if n != target.name]
    hint = (f"targets with enough memory: {', '.join(others)}" if others
            else "no known target has enough memory")
    raise BadInput(f"{model} needs " + "; and ".join(problems), hint=hint)
