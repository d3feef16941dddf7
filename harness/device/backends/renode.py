"""Renode backend: boot an ELF on the target's Renode platform, UART on a local TCP socket.

Renode is not packaged for Debian or PyPI: see renode/README.md. The backend renders a
Renode script (.resc) into the run folder and starts Renode headless on it; the script
connects the target's UART to a server socket terminal that the harness opens with
pyserial (socket://127.0.0.1:<port>). The same folder gets a Robot Framework suite for
`renode-test` (render_renode_files) that boots the ELF and waits for the boot text.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from harness.device.backends.base import Backend, die_with_parent, free_port
from harness.device.backends.options import BackendOptions
from harness.device.backends.registry import register
from harness.device.deadline import Deadline
from harness.errors import BadInput, DeviceError
from harness.runtimes.build import require_tool
from harness.runtimes.project import render
from harness.targets.table import TARGETS
from harness.targets.target import Target

RENODE = "renode"
RENODE_TEST = "renode-test"
INSTALL_HINT = "install Renode from its release packages, see renode/README.md"

# Renode peripheral that is the target's harness UART, per target name: `renode_uart`
# in harness/targets/targets.toml, for the targets with a `renode_platform`.
RENODE_UART: dict[str, str] = {t.name: t.renode_uart for t in TARGETS.values() if t.renode_uart}

TERMINAL_NAME = "harness_uart"
RESC_NAME = "run.resc"
ROBOT_NAME = "cross_check.robot"
BOOT_TEXT = "harness firmware up"  # the firmware's first LOG frame (as device.BOOT_LOG)



def renode_uart(target: Target) -> str:
    """The Renode peripheral path of the target's UART, or BadInput."""
    if not target.renode_platform or not target.renode_uart:  # the schema pairs them
        raise BadInput(f"target {target.name} has no Renode platform",
                       hint="use --emulator qemu")
    return target.renode_uart


def _context(target: Target, elf: Path, port: int) -> dict:
    return {
        "target": target.name,
        "platform": target.renode_platform,
        "elf": str(Path(elf).resolve()),
        "uart": renode_uart(target),
        "uart_base": f"0x{target.uart.base:08X}",
        "terminal": TERMINAL_NAME,
        "port": port,
        "boot_text": f"{BOOT_TEXT}: {target.name}, build ",
    }


def render_resc(target: Target, elf: Path, folder: Path, port: int) -> Path:
    """Write the Renode script that boots `elf` with its UART on TCP `port`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESC_NAME
    path.write_text(render("renode/run.resc.j2", **_context(target, elf, port)))
    return path


def render_robot(target: Target, elf: Path, folder: Path) -> Path:
    """Write the renode-test suite that boots `elf` and waits for the boot text."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ROBOT_NAME
    path.write_text(render("renode/cross_check.robot.j2", **_context(target, elf, 0)))
    return path


def render_renode_files(target: Target, elf: Path, folder: Path,
                        port: int | None = None) -> tuple[Path, Path]:
    """Write run.resc and cross_check.robot into `folder`; return (resc, robot)."""
    resc = render_resc(target, elf, folder, port if port is not None else free_port())
    return resc, render_robot(target, elf, folder)


def renode_test_command(robot_file: Path | str) -> list[str]:
    """The command that runs a Robot suite with Renode's own test runner."""
    return [RENODE_TEST, str(robot_file)]


def _listening(port: int) -> bool | None:
    """Whether a local TCP socket listens on `port` (from /proc, without connecting:
    a probe connection would take the terminal's one client slot). None: cannot tell."""
    found = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        found = True
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False if found else None


@register
class RenodeBackend(Backend):
    name = "renode"
    emulated = True
    counter_kind = "cycles"  # Renode models SysTick on the core clock
    semihosting = False  # inputs go over the UART

    def __init__(self, target: Target, elf: Path, log_dir: Path, *,
                 boot_timeout: float = 60.0) -> None:
        renode_uart(target)  # BadInput early for targets Renode cannot boot
        self.target, self.elf, self.log_dir = target, elf.resolve(), log_dir.resolve()
        self.boot_timeout = boot_timeout  # Renode (.NET) takes seconds to start
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.resc: Path | None = None
        self._log = None

    @classmethod
    def preflight(cls, target: Target, options: BackendOptions) -> None:
        """Renode is installed and has a platform and a UART for ``target``."""
        require_tool(RENODE, hint=INSTALL_HINT)
        renode_uart(target)

    @property
    def log_path(self) -> Path:
        """Renode's own output (renode.log in the run folder)."""
        return self.log_dir / "renode.log"

    def command(self) -> list[str]:
        # --disable-xwt: no GUI (and no Monitor window); --plain: no colour codes in the log.
        # The Monitor is not on stdin, so Renode runs until it is stopped.
        return [RENODE, "--disable-xwt", "--plain", "-e", f"include @{self.resc}"]

    def start(self) -> str:
        require_tool(RENODE, hint=INSTALL_HINT)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a port can be taken between probe and bind
            self.port = free_port()
            self.resc = render_resc(self.target, self.elf, self.log_dir, self.port)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self.proc = subprocess.Popen(
                self.command(), cwd=self.log_dir, stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent,
            )
            if self._wait_listening():
                return f"socket://127.0.0.1:{self.port}"
            self.stop()
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise DeviceError(f"Renode did not start: {tail[0]}", hint=f"log: {self.log_path}")

    def _wait_listening(self) -> bool:
        deadline = Deadline(self.boot_timeout)
        while not deadline.expired():
            if self.proc.poll() is not None:
                return False
            state = _listening(self.port)
            if state is None:  # no /proc: give Renode time, then let pyserial try
                time.sleep(min(5.0, self.boot_timeout))
                return self.proc.poll() is None
            if state:
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            # `renode` is often a wrapper script around the .NET runtime: end the group.
            for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            self._log = None

    def where(self) -> str:
        return f"Renode {self.target.renode_platform}"

    def describe(self) -> dict:
        return {"name": self.name, "platform": self.target.renode_platform,
                "uart": self.target.renode_uart,
                "script": str(self.resc) if self.resc else None,
                "command": " ".join(self.command()) if self.resc else None}
