"""Board backend: a real board on a serial port, optionally flashed first.

The port is anything pyserial's serial_for_url takes: /dev/ttyACM0,
socket://host:port, rfc2217://host:port. The firmware is built without
semihosting (a semihosting call without a debugger faults).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..build import require_tool
from ..errors import BadInput, DeviceError
from ..targets import Target
from .base import Backend

# tool -> (command template, install hint)
FLASH_TOOLS = {
    "pyocd": (["pyocd", "flash", "{elf}"], "pip install pyocd"),
    "openocd": (["openocd", "-f", "{openocd_config}", "-c", "program {elf} verify reset exit"],
                "apt-get install openocd"),
    "st-flash": (["st-flash", "--reset", "write", "{bin}", "{flash_origin}"],
                 "apt-get install stlink-tools"),
}


class BoardBackend(Backend):
    name = "board"
    counter_kind = "cycles"  # SysTick on the core clock
    semihosting = False

    def __init__(self, target: Target, elf: Path, port: str, log_dir: Path, *,
                 flash_tool: str | None = None) -> None:
        if flash_tool and flash_tool not in FLASH_TOOLS:
            raise BadInput(f"unknown flash tool {flash_tool!r}",
                           hint=f"choose one of {', '.join(FLASH_TOOLS)}")
        self.target, self.elf, self.port, self.log_dir = target, elf, port, log_dir
        self.flash_tool = flash_tool

    def flash_command(self) -> list[str]:
        template, hint = FLASH_TOOLS[self.flash_tool]
        require_tool(template[0], hint)
        if self.flash_tool == "openocd" and not self.target.openocd_config:
            raise BadInput(f"target {self.target.name} has no OpenOCD board config",
                           hint="flash it yourself and omit --flash")
        values = {"elf": str(self.elf), "bin": str(self.elf.with_suffix(".bin")),
                  "openocd_config": self.target.openocd_config or "",
                  "flash_origin": hex(self.target.flash.origin)}
        return [part.format(**values) for part in template]

    def start(self) -> str:
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
        pass

    def describe(self) -> dict:
        return {"name": self.name, "port": self.port, "flash": self.flash_tool}
