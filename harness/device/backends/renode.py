"""Renode backend: boot an ELF on the target's Renode platform, UART on a local TCP socket.

Renode is in no package registry: `invoke setup --renode` installs its release, or see
renode/README.md. For each run the backend renders into the run folder:

* ``platform.repl``: the target's platform. Either Renode's own board (``renode_platform``
  in targets.toml is a path inside Renode) overlaid so that it starts offline (its
  SVD-downloading init section replaced) with a DWT and SysTick on the core clock, or,
  where Renode ships no platform for the memory map (``renode_platform = "harness"``),
  the project's own machine built from Renode's generic models;
* ``run.resc``: loads it and the ELF, hooks the firmware's input reads so that inputs are
  written straight into memory (``sysbus WriteBytes``), and serves the UART on a TCP socket
  that the harness opens with pyserial (socket://127.0.0.1:<port>).

Renode runs headless with a private TMPDIR and config file in the run folder (it deletes
every ``renode-*`` folder of its temp directory on start), its monitor on a free port,
as a process tree that ends with the harness, however it ends (harness/children.py).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from harness.children import kill_group, spawn
from harness.device.backends.base import Backend, free_port
from harness.device.backends.options import BackendOptions
from harness.device.backends.registry import register
from harness.device.deadline import Deadline
from harness.errors import BadInput, DeviceError
from harness.resources import EXAMPLE_MODEL
from harness.runtimes.build import require_tool
from harness.runtimes.project import SEMIHOST_FILE, render
from harness.targets.target import Target

RENODE = "renode"
RENODE_TEST = "renode-test"
RENODE_VERSION = "1.15.1"  # the release the harness is tested with
INSTALL_HINT = ("run `invoke setup --renode`, or install Renode from its release packages by "
                "hand: see renode/README.md")

# `renode_platform = "harness"`: no platform Renode ships fits; the project's own machine.
OWN_MACHINE = "harness"
# Renode 1.15 models no Cortex-M55; its Cortex-M85 is the Armv8.1-M core with MVE.
CPU_TYPE = {"cortex-m55": "cortex-m85"}
# Renode's model of each firmware UART driver, and how its interrupt lines are wired.
UART_MODEL = {"cmsdk_uart": "UART.CMSDK_APB_UART", "nrf51_uart": "UART.NRF52840_UART"}

TERMINAL_NAME = "harness_uart"
RESC_NAME = "run.resc"
REPL_NAME = "platform.repl"
ROBOT_NAME = "cross_check.robot"
TMP_NAME = "tmp"  # Renode's private TMPDIR in the run folder
BOOT_TEXT = "harness firmware up"  # the firmware's first LOG frame (as device.BOOT_LOG)


def renode_uart(target: Target) -> str:
    """The Renode peripheral path of the target's UART, or BadInput."""
    if not target.renode_platform or not target.renode_uart:  # the schema pairs them
        raise BadInput(f"target {target.name} has no Renode platform",
                       hint="use --emulator qemu")
    return target.renode_uart


def renode_where(target: Target) -> str:
    """What Renode runs the target on, for messages and results.json."""
    if target.renode_platform == OWN_MACHINE:
        cpu = CPU_TYPE.get(target.cpu, target.cpu)
        return f"the harness's {target.soc} machine ({cpu})"
    return Path(target.renode_platform or "?").stem


def _uart_lines(target: Target) -> list[str]:
    """The UART's constructor values and interrupt wiring in the own machine."""
    irqs = target.uart.irqs
    if target.uart.driver == "cmsdk_uart":
        rx, tx = irqs[0], irqs[-1]
        return [f"frequency: {target.uart.clock_hz}", f"TxInterrupt -> nvic@{tx}",
                f"RxInterrupt -> nvic@{rx}"]
    return [f"IRQ -> nvic@{irqs[0]}"]


def platform_context(target: Target) -> dict:
    """What templates/renode/platform.repl.j2 needs for ``target``."""
    renode_uart(target)
    own = target.renode_platform == OWN_MACHINE
    if own and target.uart.driver not in UART_MODEL:
        raise BadInput(f"target {target.name}: Renode has no model of its "
                       f"{target.uart.driver} UART for the harness machine")
    return {
        "target": target.name, "soc": target.soc, "machine": own,
        "platform": target.renode_platform, "clock_hz": target.clock_hz,
        "dwt": target.core.dwt_cyccnt,
        "cpu_type": CPU_TYPE.get(target.cpu, target.cpu),
        "flash_origin": f"0x{target.flash.origin:08X}",
        "flash_length": f"0x{target.flash.length:X}",
        "ram_origin": f"0x{target.ram.origin:08X}", "ram_length": f"0x{target.ram.length:X}",
        "uart_name": target.renode_uart.rsplit(".", 1)[-1],
        "uart_model": UART_MODEL.get(target.uart.driver, ""),
        "uart_base": f"0x{target.uart.base:08X}",
        "uart_lines": _uart_lines(target) if own else [],
    }


def render_platform(target: Target, folder: Path) -> Path:
    """Write the target's platform.repl into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REPL_NAME
    path.write_text(render("renode/platform.repl.j2", **platform_context(target)))
    return path


def _context(target: Target, elf: Path, folder: Path, port: int, inputs: Path | None) -> dict:
    return {
        "target": target.name,
        "where": renode_where(target),
        "repl": str(render_platform(target, folder).resolve()),
        "elf": str(Path(elf).resolve()),
        "uart": renode_uart(target),
        "uart_base": f"0x{target.uart.base:08X}",
        "clock_hz": target.clock_hz,
        "mips": max(1, round(target.clock_hz / 1e6)),
        "inputs": str(inputs.resolve()) if inputs else None,
        "terminal": TERMINAL_NAME,
        "port": port,
        "boot_text": f"{BOOT_TEXT}: {target.name}, build ",
    }


def render_resc(target: Target, elf: Path, folder: Path, port: int,
                inputs: Path | None = None) -> Path:
    """Write the Renode script (and its platform.repl) that boots `elf` with its UART on
    TCP `port`; with `inputs`, the firmware's input reads come from that file."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESC_NAME
    path.write_text(render("renode/run.resc.j2", **_context(target, elf, folder, port, inputs)))
    return path


def render_robot(target: Target, elf: Path, folder: Path, *, model: Path | str,
                 vectors: int = 2, runs_dir: Path | None = None) -> Path:
    """Write the renode-test suite (and its platform.repl) into ``folder``: Renode's keywords
    boot `elf`; the harness's keyword library cross-checks `model` under Renode."""
    folder.mkdir(parents=True, exist_ok=True)
    context = _context(target, elf, folder, 0, None)
    context.update(model=str(Path(model).resolve()), vectors=vectors,
                   runs_dir=str((runs_dir or folder / "runs").resolve()))
    path = folder / ROBOT_NAME
    path.write_text(render("renode/cross_check.robot.j2", **context))
    return path


def render_renode_files(target: Target, elf: Path, folder: Path, port: int | None = None, *,
                        model: Path | str = "", vectors: int = 2) -> tuple[Path, Path]:
    """Write run.resc, platform.repl and cross_check.robot into `folder`; (resc, robot)."""
    resc = render_resc(target, elf, folder, port if port is not None else free_port())
    return resc, render_robot(target, elf, folder, model=model or EXAMPLE_MODEL,
                              vectors=vectors)


def renode_test_command(robot_file: Path | str, *variables: str) -> list[str]:
    """The command that runs a Robot suite with Renode's own test runner; `variables` are
    NAME:VALUE pairs for the suite."""
    return [RENODE_TEST, str(robot_file), *(f"--variable={v}" for v in variables)]


def private_env(folder: Path) -> dict[str, str]:
    """The environment for a Renode process: its own TMPDIR inside ``folder``."""
    tmp = folder / TMP_NAME
    tmp.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


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
    # Renode models no pipeline timing, and its SysTick and DWT advance only at time
    # synchronisation points: run.resc hooks the firmware's counter read to answer with
    # Renode's exact count of executed instructions.
    counter_kind = "instructions"
    counter_how = "Renode cpu ExecutedInstructions (hx_counter_read hooked)"
    semihosting = True  # inputs come from the run's inputs file, written into memory

    def __init__(self, target: Target, elf: Path, log_dir: Path, *,
                 boot_timeout: float = 60.0) -> None:
        renode_uart(target)  # BadInput early for targets Renode cannot boot
        self.target, self.elf, self.log_dir = target, elf.resolve(), log_dir.resolve()
        self.boot_timeout = boot_timeout  # Renode (.NET) takes seconds to start
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.resc: Path | None = None
        self._log = None
        self._log_start = 0

    @classmethod
    def preflight(cls, target: Target, options: BackendOptions) -> None:
        """Renode is installed and has a platform and a UART for ``target``."""
        require_tool(RENODE, hint=INSTALL_HINT)
        platform_context(target)

    @property
    def log_path(self) -> Path:
        """Renode's own output (renode.log in the run folder)."""
        return self.log_dir / "renode.log"

    def command(self) -> list[str]:
        # --disable-xwt: no GUI; --plain: no colour codes in the log; --console: the Monitor
        # on stdin/stdout, so that an error in the script reaches renode.log (and no telnet
        # Monitor opens on port 1234, which would clash between runs); --config: a config
        # file of the run's, the user's own is left alone.
        return [RENODE, "--disable-xwt", "--plain", "--console",
                "--config", str(self.log_dir / "renode.config"), "-e", f"include @{self.resc}"]

    def start(self) -> str:
        require_tool(RENODE, hint=INSTALL_HINT)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a port can be taken between probe and bind
            self.port = free_port()
            self.resc = render_resc(self.target, self.elf, self.log_dir, self.port,
                                    inputs=self.log_dir / SEMIHOST_FILE)
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._log_start = self._log.tell()  # a resumed run's folder has an old log
            # Renode's wrapper script starts the .NET runtime as its child: the whole
            # tree must end with the harness (harness/children.py).
            self.proc = spawn(
                self.command(), tree=True,
                # stdin: the Monitor's, open and silent until stop() (EOF would end Renode).
                cwd=self.log_dir, stdin=subprocess.PIPE, stdout=self._log,
                stderr=subprocess.STDOUT, env=private_env(self.log_dir),
            )
            if self._wait_listening():
                return f"socket://127.0.0.1:{self.port}"
            self.stop()
            error = self._script_error()
            if error:
                raise DeviceError(f"Renode refused the run script: {error}",
                                  hint=f"log: {self.log_path}")
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise DeviceError(f"Renode did not start: {tail[0]}", hint=f"log: {self.log_path}")

    def _script_error(self) -> str | None:
        """The Monitor's first error while running run.resc (its next line says why)."""
        lines = self.log_path.read_bytes()[self._log_start:].decode(errors="replace")
        lines = lines.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("There was an error executing command"):
                return " ".join(lines[i + 1:i + 2]).strip() or line
        return None

    def _wait_listening(self) -> bool:
        deadline = Deadline(self.boot_timeout)
        while not deadline.expired():
            if self.proc.poll() is not None or self._script_error():
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
            kill_group(proc)  # Renode's wrapper script and the .NET runtime
        if proc is not None and proc.stdin is not None:
            proc.stdin.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def where(self) -> str:
        return f"Renode {renode_where(self.target)}"

    def describe(self) -> dict:
        return {"name": self.name, "platform": self.target.renode_platform,
                "uart": self.target.renode_uart,
                "script": str(self.resc) if self.resc else None,
                "command": " ".join(self.command()) if self.resc else None}
