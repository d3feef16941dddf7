"""Host builds of a target's board code (clock, pins, UART, NVIC, DWT) against the
recording register file (hx_regfile.c), for register-level tests.

`RegisterFile.for_target(target, tmp_path, baud=..., clock=...)` renders the target's
hx_config.h as a real build would, compiles the clock driver, the UART driver, the ring
and the counter with the host gcc and -DHX_MMIO_HOST, and loads the result: each call
gets a fresh copy (the drivers keep state in statics). Tests call the firmware's own
functions (`init_clock()`, `init_uart()`, `init_counter()`) and read back what was
written. Used by tests only.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

from harness.resources import FIRMWARE_DIR
from harness.runtimes.project import (
    FirmwareProject,
    clock_sources,
    finish_project,
    static_sources,
)
from harness.targets.target import Target

SUPPORT = Path(__file__).resolve().parent
_BUILT: dict[tuple, Path] = {}


def _compile(target: Target, baud: int, clock: str, out: Path) -> Path:
    proj = FirmwareProject(target, "regfile")
    proj.files.update(static_sources(target, kernels=False))
    finish_project(proj, baud=baud, semihosting=False, clock=clock)
    src = out / "src"
    proj.write(src)
    sources = [*(src / "src" / c for c in clock_sources(target)),
               src / "src/shell/counter_systick.c",
               src / "src/uart" / f"{target.uart.driver}.c", src / "src/uart/hx_uart_ring.c",
               SUPPORT / "hx_regfile.c"]
    lib = out / "libregfile.so"
    cmd = ["gcc", "-std=c11", "-O0", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror",
           "-DHX_MMIO_HOST", f"-I{src}", f"-I{src / 'src/shell'}", f"-I{src / 'src/uart'}",
           f"-I{src / 'src/proto'}", *map(str, sources), "-o", str(lib)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise RuntimeError(f"host build of {target.name}'s board code failed:\n{res.stderr}")
    return lib


class RegisterFile:
    """One loaded host build of a target's board code and its register file."""

    def __init__(self, lib: Path) -> None:
        self.lib = ctypes.CDLL(str(lib))
        for name in ("hx_regfile_value", "hx_regfile_log_addr", "hx_regfile_log_value",
                     "hx_clock_core_hz", "hx_clock_uart_hz", "hx_mmio_read"):
            getattr(self.lib, name).restype = ctypes.c_uint32
        self.lib.hx_clock_state.restype = ctypes.c_char_p
        self.lib.hx_counter_kind.restype = ctypes.c_char_p
        self.lib.hx_counter_read.restype = ctypes.c_uint32
        self.lib.hx_regfile_reset()

    @classmethod
    def for_target(cls, target: Target, tmp: Path, *, baud: int = 115200,
                   clock: str = "reset") -> RegisterFile:
        """A fresh register file with `target`'s board code built for `baud` and `clock`."""
        key = (target, baud, clock, FIRMWARE_DIR)
        if key not in _BUILT:
            _BUILT[key] = _compile(target, baud, clock, tmp / "build")
        copy = tmp / f"lib{len(list(tmp.glob('lib*.so')))}.so"
        shutil.copyfile(_BUILT[key], copy)
        return cls(copy)

    # ---- the hardware's answers ----
    def preset(self, addr: int, value: int) -> None:
        """A register's value before the firmware runs (its reset value)."""
        self.lib.hx_regfile_preset(ctypes.c_uint32(addr), ctypes.c_uint32(value))

    def mirror(self, dst: int, mask: int, *, src: int | None = None, shift: int = 0) -> None:
        """Reading `dst` shows (src & mask) << shift: a flag that follows another."""
        self.lib.hx_regfile_mirror(ctypes.c_uint32(dst), ctypes.c_uint32(dst if src is None
                                                                         else src),
                                   ctypes.c_uint32(mask), ctypes.c_int(shift))

    def count(self, addr: int, step: int = 1) -> None:
        """`addr` advances by `step` on every read (a running counter)."""
        self.lib.hx_regfile_count(ctypes.c_uint32(addr), ctypes.c_uint32(step))

    # ---- the firmware ----
    def init_clock(self) -> str:
        self.lib.hx_clock_init()
        return self.lib.hx_clock_state().decode()

    def init_uart(self) -> None:
        self.lib.hx_uart_init()

    def init_counter(self) -> None:
        self.lib.hx_counter_init()

    def boot(self) -> str:
        """What main() does first: clock, UART, counter; returns the clock's state."""
        state = self.init_clock()
        self.init_uart()
        self.init_counter()
        return state

    # ---- what it did ----
    def value(self, addr: int) -> int:
        return self.lib.hx_regfile_value(ctypes.c_uint32(addr))

    def writes(self) -> list[tuple[int, int]]:
        """Every register write, in order: (address, value)."""
        return [(self.lib.hx_regfile_log_addr(i), self.lib.hx_regfile_log_value(i))
                for i in range(self.lib.hx_regfile_log_length())]

    def written(self, addr: int) -> list[int]:
        """The values written to `addr`, in order."""
        return [v for a, v in self.writes() if a == addr]

    def first_write(self, addr: int) -> int:
        """The position of the first write to `addr` in the log (for order checks)."""
        return next(i for i, (a, _) in enumerate(self.writes()) if a == addr)

    @property
    def counter_kind(self) -> str:
        """"dwt" or "systick": what the counter settled on."""
        return self.lib.hx_counter_kind().decode()

    @property
    def core_hz(self) -> int:
        return self.lib.hx_clock_core_hz()

    @property
    def uart_hz(self) -> int:
        return self.lib.hx_clock_uart_hz()
