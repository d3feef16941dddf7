"""The shape of a target, and the schema check that turns targets.toml into Targets.

Every key of the file is a field of a dataclass here; the loader refuses unknown,
missing and mistyped keys, then checks what types alone cannot say (memory that
overlaps, IRQ numbers the vector table does not hold, a UART driver that does not
exist, a PLL whose output is not the clock it claims). The first problem is one line
naming the entry and key, e.g.
`targets.toml: target.stm32f4.uart.base: expected an integer, got str '0x40011000'`.

A board (`[board.<name>]`) names the target it is built on and overrides what differs
(tables merge key by key); the result is checked as a Target of its own, named after
the board, with `board` saying which board it is.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass
from typing import Any

from harness.errors import BadInput
from harness.resources import FIRMWARE_DIR

KIB = 1024
MIB = 1024 * KIB

# What each UART driver (firmware/uart/<driver>.c) needs besides driver, base, irqs and
# clock_hz. A new kind of UART is its driver plus one line here (and its baud rates in
# baud.py).
UART_DRIVERS: dict[str, tuple[str, ...]] = {
    "stm32_usart": ("clock_enable", "gpio"),  # STM32F1/F2/F4: SR, DR, BRR, CR1
    "stm32_usart_v2": ("clock_enable", "gpio"),  # STM32F7/H7/L4...: ISR, ICR, RDR, TDR
    "cmsdk_uart": (),
    "nrf51_uart": ("pins",),
    "nrf52_uarte": ("pins",),  # nRF52 UART with EasyDMA
}
# What each clock driver (firmware/shell/clock_<driver>.c) needs besides driver and max_hz.
CLOCK_DRIVERS: dict[str, tuple[str, ...]] = {
    "stm32f4_rcc": ("pll", "dividers", "flash_latency", "vos"),
    "stm32h7_rcc": ("pll", "dividers", "flash_latency", "vos"),
    "nrf52_clock": (),  # the core clock is fixed; max starts the crystal (HFXO)
}
BUSES = ("ahb", "apb1", "apb2", "apb3", "apb4")
# Board keys that are the board's own, not overrides of its target's.
BOARD_KEYS = ("target", "title", "probe")
ARCHS = ("armv6-m", "armv7-m", "armv7e-m", "armv8-m.base", "armv8-m.main", "armv8.1-m.main")
FPUS = ("none", "sp", "dp")
MVES = ("none", "int", "fp")
PERIPHERALS = (0x40000000, 0x60000000)  # the Cortex-M memory map's peripheral region


@dataclass(frozen=True)
class Cpu:
    """What a core has, as far as the firmware cares."""

    name: str
    arch: str  # one of ARCHS
    fpu: str  # "none", "sp" or "dp"
    mve: str  # "none", "int" or "fp": Helium, Armv8.1-M
    fault_status: bool  # CFSR/HFSR/MMFAR/BFAR exist
    dwt_cyccnt: bool  # the DWT cycle counter may exist
    dwt_lock: bool = False  # the DWT ignores writes until its Lock Access Register is unlocked


@dataclass(frozen=True)
class Memory:
    """One region of the memory map."""

    origin: int
    length: int

    @property
    def end(self) -> int:
        """First address past the region."""
        return self.origin + self.length


@dataclass(frozen=True)
class ClockEnable:
    """The register bit that switches a peripheral's clock on."""

    register: int
    mask: int


@dataclass(frozen=True)
class Pins:
    """The GPIO pins a UART is routed to."""

    tx: int
    rx: int


@dataclass(frozen=True)
class Gpio:
    """The GPIO port(s) of an STM32 UART's pins, both set to one alternate function."""

    port: str  # "A", "B", ...: for messages (PA2)
    base: int  # GPIOx base address
    clock_enable: ClockEnable  # the port's clock gate in the RCC (every port the pins use)
    tx: int  # pin numbers, 0..15
    rx: int
    af: int  # alternate function number, 0..15
    # RX on another port (STM32F746G-DISCO: TX PA9, RX PB7): its letter and base address.
    rx_port: str | None = None
    rx_base: int | None = None


@dataclass(frozen=True)
class Uart:
    """The UART the harness talks over."""

    driver: str  # firmware/uart/<driver>.c, one of UART_DRIVERS
    base: int
    irqs: tuple[int, ...]  # NVIC lines the driver enables; all reach its handler
    clock_hz: int  # the peripheral clock its baud rate divides, at the reset clock
    name: str = "UART"  # the peripheral's name in the manual, for messages: USART2
    bus: str | None = None  # the bus clock it divides (one of BUSES), for --clock max
    clock_enable: ClockEnable | None = None
    pins: Pins | None = None
    gpio: Gpio | None = None


@dataclass(frozen=True)
class Pll:
    """A PLL fed from the reset clock: out = clock_hz / m * n / p (q, r: other outputs)."""

    m: int
    n: int
    p: int
    q: int = 0  # 0: that output is left as it is
    r: int = 0


@dataclass(frozen=True)
class Dividers:
    """Bus prescalers at the maximum clock (1: undivided)."""

    ahb: int = 1
    apb1: int = 1
    apb2: int = 1
    apb3: int = 1
    apb4: int = 1


@dataclass(frozen=True)
class Clock:
    """How `--clock max` brings the core from its reset clock to its documented maximum."""

    driver: str  # firmware/shell/clock_<driver>.c, one of CLOCK_DRIVERS
    max_hz: int  # the documented maximum core clock
    pll: Pll | None = None
    dividers: Dividers | None = None
    flash_latency: int | None = None  # flash wait states at max_hz
    vos: int | None = None  # the regulator's voltage-scale field at max_hz
    overdrive: bool = False  # STM32F446/F42x: over-drive mode for the top speed


@dataclass(frozen=True)
class FlashTools:
    """What each flash tool calls this board (--flash)."""

    pyocd: str | None = None  # pyOCD target name (`pyocd flash -t <name>`)
    openocd: tuple[str, ...] | None = None  # OpenOCD config files (`-f` each)
    st_flash: bool = False  # st-flash writes the binary at the flash origin
    nrfjprog: str | None = None  # nrfjprog device family (`-f <family>`)


@dataclass(frozen=True)
class Board:
    """What makes a board entry more than its target."""

    target: str  # the target it is built on
    title: str  # its name on the box: NUCLEO-F411RE
    probe: str  # the debug probe on it: ST-LINK/V2-1


@dataclass(frozen=True)
class Target:
    """Everything the firmware generator, build and backends need to know.

    Addresses are the ones the firmware uses. A core that boots in Secure state
    (`boots_secure`, the TrustZone MPS2/MPS3 images) uses the Secure aliases
    (address bit 28 set) for code, RAM and peripherals.
    """

    name: str
    cpu: str  # the -mcpu name; `core` says what it has
    core: Cpu
    soc: str  # what the memory map describes, for messages
    cflags: tuple[str, ...]
    clock_hz: int  # core clock
    num_irqs: int  # external interrupts: the vector table's length past the 16 exceptions
    flash: Memory  # where code and weights go (ROM, or RAM standing in for it)
    ram: Memory  # .data, .bss (arena) and the stack
    uart: Uart
    boards: tuple[str, ...]
    qemu_machine: str | None = None
    renode_platform: str | None = None
    renode_uart: str | None = None  # the UART's peripheral in the Renode platform
    qemu_serial: int = 0  # which of QEMU's -serial ports is the UART (they map in order)
    qemu_clock_hz: int | None = None  # SysTick's clock as QEMU models it (else clock_hz)
    clock: Clock | None = None  # None: the clock is fixed at clock_hz
    flash_tools: FlashTools | None = None  # --flash on a real board
    assume_board: str | None = None  # the board a --port run of this target is taken for
    board: Board | None = None  # set for a board entry ([board.<name>])
    boots_secure: bool = False
    # The chip's FPU where it differs from its [cpu] entry's (the STM32F746's Cortex-M7 has
    # the single-precision one); `core` then carries it.
    fpu: str | None = None
    stack_bytes: int = 8 * KIB  # what the linker script keeps free for the stack
    max_payload: int = 1024  # protocol frame payload; smaller on RAM-poor targets
    uart_ring_bytes: int = 256  # UART receive ring (hx_uart_ring.c): a power of two <= 256

    @property
    def has_fpu(self) -> bool:
        """The startup code enables CP10/CP11 (FPU, and MVE on Armv8.1-M)."""
        return self.core.fpu != "none"

    @property
    def where(self) -> str:
        """Short name of the machine for messages: 'cortex-m0 (microbit)'."""
        if self.board:
            return f"{self.name} ({self.board.title})"
        return f"{self.name} ({self.qemu_machine or self.soc or self.cpu})"

    @property
    def max_hz(self) -> int:
        """The core clock `--clock max` sets up (the reset clock where it is fixed)."""
        return self.clock.max_hz if self.clock else self.clock_hz

    @property
    def uart_max_hz(self) -> int:
        """The UART's peripheral clock at `max_hz`."""
        if not self.clock or not self.clock.dividers or not self.uart.bus:
            return self.uart.clock_hz
        d = self.clock.dividers
        bus = 1 if self.uart.bus == "ahb" else getattr(d, self.uart.bus)
        return self.clock.max_hz // d.ahb // bus

    @property
    def systick_hz(self) -> int:
        """The clock SysTick counts in the emulator (QEMU's machine clock)."""
        return self.qemu_clock_hz or self.clock_hz


class _Refused(Exception):
    """One problem with one key: `where` is the dotted path to it."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")


def load_targets(text: str, source: str = "targets.toml") -> dict[str, Target]:
    """Parse and check a targets file; BadInput names the first bad entry and key.

    Returns the targets, then the boards (their `board` set), by name."""
    try:
        data = tomllib.loads(text)
        _known_keys(data, {"cpu", "target", "board"}, "(top level)")
        cpus = {name: _build(Cpu, _table(entry, f"cpu.{name}"), f"cpu.{name}", name=name)
                for name, entry in _table(data.get("cpu", {}), "cpu").items()}
        for cpu in cpus.values():
            _check_cpu(cpu)
        raw = _table(data.get("target", {}), "target")
        targets = {name: _target(name, entry, cpus, f"target.{name}")
                   for name, entry in raw.items()}
        boards = {name: _board(name, entry, raw, cpus)
                  for name, entry in _table(data.get("board", {}), "board").items()}
        _check_names(targets, boards)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source}: not valid TOML: {exc}") from None
    except _Refused as exc:
        raise BadInput(f"{source}: {exc}") from None
    if not targets:
        raise BadInput(f"{source}: no [target.<name>] entry")
    return {**targets, **boards}


def _target(name: str, entry: Any, cpus: dict[str, Cpu], where: str,
            board: Board | None = None) -> Target:
    entry = _table(entry, where)
    cpu = entry.get("cpu")
    if isinstance(cpu, str) and cpu not in cpus:
        raise _Refused(f"{where}.cpu", f"unknown CPU {cpu!r} (known: {', '.join(cpus)})")
    core = cpus.get(cpu) if isinstance(cpu, str) else None
    target = _build(Target, entry, where, name=name, core=core, board=board)
    if target.fpu is not None:
        if target.fpu not in FPUS:
            raise _Refused(f"{where}.fpu", f"{target.fpu!r} is not one of {', '.join(FPUS)}")
        target = dataclasses.replace(target, core=dataclasses.replace(target.core,
                                                                      fpu=target.fpu))
    for check in (_check_core, _check_memory, _check_uart, _check_clock,
                  _check_board_support):
        check(target, where)
    return target


def _board(name: str, entry: Any, raw_targets: dict, cpus: dict[str, Cpu]) -> Target:
    """A board: its target's entry with the board's keys laid over it."""
    where = f"board.{name}"
    entry = _table(entry, where)
    own = {k: entry[k] for k in BOARD_KEYS if k in entry}
    for key in BOARD_KEYS:
        if key not in own:
            raise _Refused(where, f"missing key {key!r}")
    board = _build(Board, own, where)
    if board.target not in raw_targets:
        raise _Refused(f"{where}.target", f"unknown target {board.target!r} (known: "
                                          f"{', '.join(raw_targets)})")
    overrides = {k: v for k, v in entry.items() if k not in BOARD_KEYS}
    merged = _merge(_table(raw_targets[board.target], f"target.{board.target}"), overrides)
    merged.pop("assume_board", None)  # the target's choice, not the board's
    return _target(name, merged, cpus, where, board=board)


def _merge(base: dict, over: dict) -> dict:
    """`base` with `over` laid on it; tables merge key by key, other values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _check_names(targets: dict[str, Target], boards: dict[str, Target]) -> None:
    for name in boards:
        if name in targets:
            raise _Refused(f"board.{name}", "has the name of a target")
    for name, t in targets.items():
        b = boards.get(t.assume_board) if t.assume_board else None
        if t.assume_board and (b is None or b.board.target != name):
            raise _Refused(f"target.{name}.assume_board",
                           f"{t.assume_board!r} is no board of this target")


# ---- the generic part: keys and types from the dataclass fields ---------------------------


def _build(cls: type, entry: dict, where: str, **given: Any) -> Any:
    """An instance of dataclass `cls` from `entry`, with `given` fields filled in by the
    caller (not keys of the file)."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in given}
    _known_keys(entry, set(fields), where)
    hints = typing.get_type_hints(cls)
    values = dict(given)
    for key, f in fields.items():
        if key in entry:
            values[key] = _convert(hints[key], entry[key], f"{where}.{key}")
        elif f.default is dataclasses.MISSING:
            raise _Refused(where, f"missing key {key!r}")
    return cls(**values)


def _known_keys(entry: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise _Refused(where, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _convert(hint: Any, value: Any, where: str) -> Any:
    """`value` as type `hint` (int, str, bool, tuple[X, ...], a dataclass, X | None)."""
    if isinstance(hint, types.UnionType):  # X | None: the key is optional
        (hint,) = [h for h in typing.get_args(hint) if h is not type(None)]
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise _Refused(where, f"expected a list, got {_show(value)}")
        return tuple(_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return _build(hint, _table(value, where), where)
    names = {int: "an integer", str: "a string", bool: "true or false"}
    if type(value) is not hint:  # exact: a bool is no integer here
        raise _Refused(where, f"expected {names[hint]}, got {_show(value)}")
    return value


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise _Refused(where, f"expected a table, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


# ---- what types cannot say ---------------------------------------------------------------


def _check_cpu(cpu: Cpu) -> None:
    for key, allowed in (("arch", ARCHS), ("fpu", FPUS), ("mve", MVES)):
        if getattr(cpu, key) not in allowed:
            raise _Refused(f"cpu.{cpu.name}.{key}", f"{getattr(cpu, key)!r} is not one of "
                                                    f"{', '.join(allowed)}")


def _check_core(t: Target, where: str) -> None:
    for flag in (f"-mcpu={t.cpu}", "-mthumb"):
        if flag not in t.cflags:
            raise _Refused(f"{where}.cflags", f"missing {flag}")
    if "-mfloat-abi=hard" in t.cflags and not t.has_fpu:
        raise _Refused(f"{where}.cflags", f"-mfloat-abi=hard, but {t.cpu} has no FPU")
    most = 32 if t.core.arch == "armv6-m" else 496
    if not 1 <= t.num_irqs <= most:
        raise _Refused(f"{where}.num_irqs", f"{t.num_irqs} is outside 1..{most} ({t.core.arch})")
    if t.clock_hz <= 0:
        raise _Refused(f"{where}.clock_hz", "must be positive")


def _check_memory(t: Target, where: str) -> None:
    for key, mem in (("flash", t.flash), ("ram", t.ram)):
        if mem.length <= 0 or mem.length % KIB or mem.origin % 4 or mem.end > 1 << 32:
            raise _Refused(f"{where}.{key}", f"odd region 0x{mem.origin:08X} + {mem.length}: "
                           "needs a word-aligned origin and a whole number of KB below 4 GB")
    if t.flash.origin < t.ram.end and t.ram.origin < t.flash.end:
        raise _Refused(f"{where}.ram", f"overlaps flash (0x{t.flash.origin:08X}..0x"
                                       f"{t.flash.end - 1:08X})")
    # The vector table opens flash; VTOR wants it aligned to its size, a power of two >= 128.
    table_bytes = max(128, 1 << (4 * (16 + t.num_irqs) - 1).bit_length())
    if t.flash.origin % table_bytes:
        raise _Refused(f"{where}.flash", f"origin 0x{t.flash.origin:08X} is not aligned to "
                                         f"the {table_bytes}-byte vector table")
    if t.boots_secure:
        for key, addr in (("flash", t.flash.origin), ("ram", t.ram.origin),
                          ("uart.base", t.uart.base)):
            if not addr & 0x10000000:
                raise _Refused(f"{where}.{key}", f"0x{addr:08X} is no Secure alias "
                                                 "(bit 28 clear) on a target that boots Secure")


def _check_uart(t: Target, where: str) -> None:
    uart, where = t.uart, f"{where}.uart"
    if uart.driver not in UART_DRIVERS or not (FIRMWARE_DIR / "uart" / f"{uart.driver}.c"
                                               ).is_file():
        raise _Refused(f"{where}.driver", f"no UART driver {uart.driver!r} (known: "
                                          f"{', '.join(UART_DRIVERS)})")
    _needs(uart, UART_DRIVERS[uart.driver], ("clock_enable", "pins", "gpio"), uart.driver,
           where)
    if uart.gpio and not all(0 <= v <= 15 for v in (uart.gpio.tx, uart.gpio.rx, uart.gpio.af)):
        raise _Refused(f"{where}.gpio", "pins and alternate function must be in 0..15")
    if uart.gpio and (uart.gpio.rx_port is None) != (uart.gpio.rx_base is None):
        raise _Refused(f"{where}.gpio", "rx_port and rx_base go together (RX on another port)")
    if uart.bus is not None and uart.bus not in BUSES:
        raise _Refused(f"{where}.bus", f"{uart.bus!r} is not one of {', '.join(BUSES)}")
    if not PERIPHERALS[0] <= uart.base < PERIPHERALS[1]:
        raise _Refused(f"{where}.base", f"0x{uart.base:08X} is outside the peripheral region")
    if not uart.irqs or len(set(uart.irqs)) != len(uart.irqs):
        raise _Refused(f"{where}.irqs", "needs one or more distinct IRQ numbers")
    if max(uart.irqs) >= t.num_irqs or min(uart.irqs) < 0:
        raise _Refused(f"{where}.irqs", f"{list(uart.irqs)} not all in 0..{t.num_irqs - 1} "
                                        "(num_irqs)")
    if uart.clock_hz <= 0:
        raise _Refused(f"{where}.clock_hz", "must be positive")


def _needs(obj: Any, needed: tuple[str, ...], optional: tuple[str, ...], driver: str,
           where: str) -> None:
    """The driver's keys are there, and no key another driver uses."""
    for key in optional:
        given = getattr(obj, key) not in (None, False)
        if (key in needed) != given:
            what = "missing key" if key in needed else "the driver does not use key"
            raise _Refused(where, f"{what} {key!r} ({driver})")


def _check_clock(t: Target, entry: str) -> None:
    clock, where = t.clock, f"{entry}.clock"
    if clock is None:
        return
    if clock.driver not in CLOCK_DRIVERS or not (
            FIRMWARE_DIR / "shell" / f"clock_{clock.driver}.c").is_file():
        raise _Refused(f"{where}.driver", f"no clock driver {clock.driver!r} (known: "
                                          f"{', '.join(CLOCK_DRIVERS)})")
    _needs(clock, CLOCK_DRIVERS[clock.driver], ("pll", "dividers", "flash_latency", "vos"),
           clock.driver, where)
    if clock.max_hz < t.clock_hz:
        raise _Refused(f"{where}.max_hz", f"{clock.max_hz} is below the reset clock "
                                          f"{t.clock_hz}")
    pll = clock.pll
    if pll and (pll.m <= 0 or pll.p <= 0 or t.clock_hz * pll.n != clock.max_hz * pll.m * pll.p):
        raise _Refused(f"{where}.pll", f"{t.clock_hz} Hz / {pll.m} * {pll.n} / {pll.p} is not "
                                       f"max_hz {clock.max_hz}")
    if clock.dividers and t.uart.bus is None:
        raise _Refused(f"{entry}.uart", "missing key 'bus' (the clock has dividers)")


def _check_board_support(t: Target, where: str) -> None:
    if (t.renode_platform is None) != (t.renode_uart is None):
        raise _Refused(where, "renode_platform and renode_uart go together")
    ring = t.uart_ring_bytes
    if not 2 <= ring <= 256 or ring & (ring - 1):
        raise _Refused(f"{where}.uart_ring_bytes", f"{ring} is no power of two in 2..256")
    if not 64 <= t.max_payload <= 1024:
        raise _Refused(f"{where}.max_payload", f"{t.max_payload} is outside 64..1024")
    if t.stack_bytes <= 0 or t.stack_bytes % 8:
        raise _Refused(f"{where}.stack_bytes", f"{t.stack_bytes} is no positive multiple of 8")
