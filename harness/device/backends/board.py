"""Board backend: a real board on a serial port, optionally flashed first.

The port is anything pyserial's serial_for_url takes: /dev/ttyACM0,
socket://host:port, rfc2217://host:port. The firmware is built without
semihosting (a semihosting call without a debugger faults).
"""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
from pathlib import Path

from harness.device.backends.base import Backend
from harness.device.backends.options import BackendOptions
from harness.device.backends.registry import register
from harness.errors import BadInput, DeviceError, PortUnavailable
from harness.runtimes.build import require_tool
from harness.targets.target import Target

# tool -> (command template, install hint)
FLASH_TOOLS = {
    "pyocd": (["pyocd", "flash", "{elf}"], "pip install pyocd"),
    "openocd": (["openocd", "-f", "{openocd_config}", "-c", "program {elf} verify reset exit"],
                "apt-get install openocd"),
    "st-flash": (["st-flash", "--reset", "write", "{bin}", "{flash_origin}"],
                 "apt-get install stlink-tools"),
}


def _flash_tool(tool: str) -> tuple[list[str], str]:
    """(command template, install hint) of a known flash tool, else BadInput."""
    try:
        return FLASH_TOOLS[tool]
    except KeyError:
        raise BadInput(f"unknown flash tool {tool!r}",
                       hint=f"choose one of {', '.join(FLASH_TOOLS)}") from None


def check_flash_tool(tool: str, target: Target) -> list[str]:
    """The command template of flash ``tool``, checked: a known tool, installed, and
    (openocd) with a board config for ``target``. BadInput or MissingTool."""
    template, hint = _flash_tool(tool)
    require_tool(template[0], hint)
    if tool == "openocd" and not target.openocd_config:
        raise BadInput(f"target {target.name} has no OpenOCD board config",
                       hint="flash it yourself and omit --flash")
    return template


def check_port(port: str) -> None:
    """A local serial port (not a URL) exists, opens, is a terminal device, and no
    other process holds it.

    "Holds" is an exclusive lock (pyserial's ``exclusive=True``, flock) or the
    kernel's TIOCEXCL (EBUSY on open). Raises PortUnavailable naming the port.
    """
    if "://" in port:
        return  # socket://, rfc2217://, loop://: the link reports its own failures
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
        template = check_flash_tool(self.flash_tool, self.target)
        values = {"elf": str(self.elf), "bin": str(self.elf.with_suffix(".bin")),
                  "openocd_config": self.target.openocd_config or "",
                  "flash_origin": hex(self.target.flash.origin)}
        return [part.format(**values) for part in template]

    def start(self) -> str:
        """Flash the firmware if asked to; the port is the URL."""
        if self.flash_tool:
            cmd = self.flash_command()
            if self.flash_tool == "st-flash":
                subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(self.elf),
                                str(self.elf.with_suffix(".bin"))], check=True)
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
