"""Board backend: a real board on a serial port, optionally flashed first.

The port is anything pyserial's serial_for_url takes: /dev/ttyACM0,
socket://host:port, rfc2217://host:port. The firmware is built without
semihosting (a semihosting call without a debugger faults).
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import subprocess
from pathlib import Path

from harness.device.backends.base import Backend
from harness.device.backends.options import BackendOptions
from harness.device.backends.registry import register
from harness.errors import BadInput, DeviceError, PortUnavailable
from harness.runtimes.build import require_tool
from harness.targets.target import Target

# tool -> how to install it
FLASH_TOOLS = {
    "pyocd": "pip install 'tflite-mcu-crosscheck[board]', or pip install pyocd",
    "openocd": "apt-get install openocd",
    "st-flash": "apt-get install stlink-tools",
    "nrfjprog": "install Nordic's nRF Command Line Tools",
}
# What each tool writes: the ELF itself, or a copy made with objcopy.
_IMAGE = {"st-flash": ("binary", ".bin"), "nrfjprog": ("ihex", ".hex")}


def _flash_tool(tool: str) -> str:
    """The install hint of a known flash tool, else BadInput."""
    try:
        return FLASH_TOOLS[tool]
    except KeyError:
        raise BadInput(f"unknown flash tool {tool!r}",
                       hint=f"choose one of {', '.join(FLASH_TOOLS)}") from None


def _tools_of(target: Target) -> list[str]:
    ft = target.flash_tools
    if ft is None:
        return []
    return [t for t, v in (("pyocd", ft.pyocd), ("openocd", ft.openocd),
                           ("st-flash", ft.st_flash), ("nrfjprog", ft.nrfjprog)) if v]


def check_flash_tool(tool: str, target: Target) -> None:
    """BadInput or MissingTool unless flash `tool` is known, installed, and named for
    `target` in targets.toml (its pyOCD target, OpenOCD configs, ...)."""
    require_tool(tool, _flash_tool(tool))
    usable = _tools_of(target)
    if tool not in usable:
        hint = (f"flash it with {' or '.join(usable)}" if usable else
                "give --board NAME (a board entry names its flash tools), or flash it "
                "yourself and omit --flash")
        raise BadInput(f"{target.name} has no {tool} settings in targets.toml", hint=hint)


def flash_command(tool: str, target: Target, elf: Path) -> list[str]:
    """The exact command that flashes `elf` (or its .bin/.hex copy) onto `target`."""
    ft = target.flash_tools
    image = str(elf.with_suffix(_IMAGE[tool][1])) if tool in _IMAGE else str(elf)
    if tool == "pyocd":
        return ["pyocd", "flash", "--target", ft.pyocd, image]
    if tool == "openocd":
        configs = [arg for cfg in ft.openocd for arg in ("-f", cfg)]
        return ["openocd", *configs, "-c", f"program {image} verify reset exit"]
    if tool == "st-flash":
        return ["st-flash", "--reset", "write", image, f"0x{target.flash.origin:08x}"]
    return ["nrfjprog", "-f", ft.nrfjprog, "--program", image, "--sectorerase", "--verify",
            "--reset"]


def check_port(port: str) -> None:
    """A local serial port (not a URL) exists, opens, is a terminal device, and no
    other process holds it.

    "Holds" is an exclusive lock (pyserial's ``exclusive=True``, flock) or the
    kernel's TIOCEXCL (EBUSY on open). Raises PortUnavailable naming the port.
    """
    if "://" in port:
        _check_network_port(port)  # loop:// and other URLs: the link reports its own failures
        return
    if not os.path.exists(port):
        raise PortUnavailable(f"serial port {port} does not exist",
                              hint="is the board plugged in? ls /dev/ttyACM* /dev/ttyUSB*")
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise PortUnavailable(f"serial port {port} is busy: another process holds it "
                                  "open exclusively") from None
        raise PortUnavailable(f"cannot open serial port {port}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise PortUnavailable(f"serial port {port} is busy: another process holds it open "
                              "exclusively", hint="close the other program (a terminal, "
                              "another harness run)") from None
    else:
        if not os.isatty(fd):  # /dev/null, a file: opens, but takes no serial settings
            raise PortUnavailable(f"{port} is not a serial port (not a terminal device)",
                                  hint="give the board's port, e.g. /dev/ttyACM0")
    finally:
        os.close(fd)  # closing drops our probe lock


NETWORK_SCHEMES = ("socket", "rfc2217")  # pyserial URLs that are a TCP host:port
CONNECT_TIMEOUT_S = 3.0


def _check_network_port(url: str) -> None:
    """A socket:// or rfc2217:// port takes a TCP connection (else exit 8 before any
    work). The probe connection is closed at once; the run opens its own."""
    scheme, _, rest = url.partition("://")
    if scheme not in NETWORK_SCHEMES:
        return
    host, _, number = rest.split("?")[0].split("/")[0].rpartition(":")
    if not host or not number.isdigit():
        raise PortUnavailable(f"{url} names no host:port", hint=f"e.g. {scheme}://host:4321")
    try:
        with socket.create_connection((host.strip("[]"), int(number)),
                                      timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise PortUnavailable(f"cannot connect to {url}: {exc.strerror or exc}",
                              hint="is the serial server (ser2net, the emulator, the "
                                   "exporter) running there?") from None


@register
class BoardBackend(Backend):
    name = "board"
    counter_kind = "cycles"  # SysTick on the core clock
    semihosting = False

    def __init__(self, target: Target, elf: Path, port: str, log_dir: Path, *,
                 flash_tool: str | None = None) -> None:
        if flash_tool:
            _flash_tool(flash_tool)
        self.target, self.elf, self.port, self.log_dir = target, elf, port, log_dir
        self.flash_tool = flash_tool

    @classmethod
    def preflight(cls, target: Target, options: BackendOptions) -> None:
        """The port exists, opens and is free (else exit 8); a flash tool is usable."""
        check_port(options.port)
        if options.flash:
            check_flash_tool(options.flash, target)

    @classmethod
    def from_options(cls, target: Target, elf: Path, folder: Path,
                     options: BackendOptions) -> BoardBackend:
        """The board on ``options.port``, flashed first with ``options.flash``."""
        return cls(target, elf, options.port, folder, flash_tool=options.flash)

    def flash_command(self) -> list[str]:
        """The command that flashes the ELF with the chosen tool."""
        check_flash_tool(self.flash_tool, self.target)
        return flash_command(self.flash_tool, self.target, self.elf)

    def start(self) -> str:
        """Flash the firmware if asked to; the port is the URL."""
        if self.flash_tool:
            cmd = self.flash_command()
            if self.flash_tool in _IMAGE:
                fmt, suffix = _IMAGE[self.flash_tool]
                subprocess.run(["arm-none-eabi-objcopy", "-O", fmt, str(self.elf),
                                str(self.elf.with_suffix(suffix))], check=True)
            self.log_dir.mkdir(parents=True, exist_ok=True)
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            (self.log_dir / "flash.log").write_text(proc.stdout + proc.stderr)
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["?"])[-1]
                raise DeviceError(f"flashing with {self.flash_tool} failed: {last}",
                                  hint=f"log: {self.log_dir / 'flash.log'}")
        return self.port

    def stop(self) -> None:
        """Nothing runs on the host."""

    def describe(self) -> dict:
        return {"name": self.name, "port": self.port, "flash": self.flash_tool}

    def where(self) -> str:
        return f"board on {self.port}"
