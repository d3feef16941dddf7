"""QEMU backend: boot an ELF on the target's QEMU machine, UART on a local TCP socket."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from harness.children import spawn
from harness.device.backends.base import Backend, free_port
from harness.device.backends.options import BackendOptions
from harness.device.backends.registry import register
from harness.device.deadline import Deadline
from harness.errors import BadInput, DeviceError
from harness.runtimes.build import require_tool
from harness.targets.target import Target

QEMU = "qemu-system-arm"
QEMU_HINT = "apt-get install qemu-system-arm"


def serial_args(target: Target, chardev: str) -> list[str]:
    """The -serial options that put `chardev` on the target's UART: QEMU hands its -serial
    ports to the machine's UARTs in order (netduinoplus2: USART1, USART2, ...), so the
    ports before `target.qemu_serial` go nowhere."""
    return ["-serial", "null"] * target.qemu_serial + ["-serial", chardev]


@register
class QemuBackend(Backend):
    name = "qemu"
    emulated = True
    counter_kind = "instructions"  # -icount shift=0: 1 ns of virtual time per instruction
    semihosting = True

    def __init__(self, target: Target, elf: Path, log_dir: Path, *,
                 boot_timeout: float = 20.0, monitor: bool = False) -> None:
        self.check_target(target)
        # Absolute: QEMU runs in the run folder (semihosting paths are relative to it).
        self.target, self.elf, self.log_dir = target, elf.resolve(), log_dir.resolve()
        self.boot_timeout = boot_timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0
        # A monitor socket lets tests reset the emulated board ("system_reset").
        self.monitor_port = free_port() if monitor else 0
        self._log = None

    @classmethod
    def preflight(cls, target: Target, options: BackendOptions) -> None:
        """QEMU is installed and has a machine for ``target``."""
        require_tool(QEMU, QEMU_HINT)
        cls.check_target(target)

    @staticmethod
    def check_target(target: Target) -> None:
        """BadInput unless QEMU has a machine for ``target``."""
        if not target.qemu_machine:
            raise BadInput(f"target {target.name} has no QEMU machine", hint="use --port")

    @property
    def log_path(self) -> Path:
        """QEMU's own output (qemu.log in the run folder)."""
        return self.log_dir / "qemu.log"

    def command(self, port: int) -> list[str]:
        return [
            QEMU, "-M", self.target.qemu_machine, "-kernel", str(self.elf),
            "-display", "none", "-nodefaults", "-monitor",
            f"tcp:127.0.0.1:{self.monitor_port},server=on,wait=off" if self.monitor_port
            else "none",
            # The guest waits for us: nothing the firmware says before we connect is lost.
            # nodelay: the guest writes a byte at a time; with Nagle on, each reply would
            # wait ~40 ms for the host's delayed ACK.
            *serial_args(self.target, f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"),
            "-d", "guest_errors", "-D", str(self.log_dir / "qemu-guest-errors.log"),
            # Inputs by semihosting (read relative to QEMU's cwd, the run folder), and
            # virtual time = 1 ns per instruction so SysTick ticks count instructions.
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0",
        ]

    def start(self) -> str:
        require_tool(QEMU, QEMU_HINT)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a port can be taken between probe and bind
            self.port = free_port()
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._log_start = self._log.tell()  # a resumed run's folder has an old log
            self.proc = spawn(self.command(self.port), cwd=self.log_dir,
                              stdin=subprocess.DEVNULL, stdout=self._log,
                              stderr=subprocess.STDOUT)
            if self._wait_listening():
                return f"socket://127.0.0.1:{self.port}"
            self.stop()
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise DeviceError(f"QEMU did not start: {tail[0]}", hint=f"log: {self.log_path}")

    def _wait_listening(self) -> bool:
        # QEMU says it waits for a client once its socket listens. Probing
        # with a connect instead would use up the connection that starts the guest.
        deadline = Deadline(self.boot_timeout)
        while not deadline.expired():
            if self.proc.poll() is not None:
                return False
            if b"waiting for connection" in self.log_path.read_bytes()[self._log_start:]:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
        if self._log is not None:
            self._log.close()
            self._log = None

    def where(self) -> str:
        return f"QEMU {self.target.qemu_machine}"

    def describe(self) -> dict:
        return {"name": self.name, "machine": self.target.qemu_machine,
                "command": " ".join(self.command(self.port))}
