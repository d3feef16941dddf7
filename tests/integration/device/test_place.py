"""`--place` with real labgrid processes: a labgrid-coordinator and a labgrid-exporter on
localhost, the exporter sharing a serial port (a RawSerialPort, served by Debian's
ser2net over RFC 2217 once the place is acquired) that the NUCLEO-F401RE firmware
provides from QEMU's netduinoplus2 (its USART2 on a pty), as a board in a lab would.

The harness acquires the place, builds for the board its `board` tag names, passes the
example model over the exported port, and releases the place; a place someone else
holds is one line (exit 8) and no run; a matrix runs its stm32f4 cells on the place.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.device.backends.qemu import QEMU, serial_args
from harness.ops.validate import load_model
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import get_target
from support.cli import one_line_error
from support.paths import EXAMPLE, ROOT

labgrid = pytest.importorskip("labgrid", reason="labgrid is not installed: pip install "
                              "'tflite-mcu-crosscheck[farm]' (scripts/bootstrap.sh does)")
SER2NET = shutil.which("ser2net") or "/usr/sbin/ser2net"
pytestmark = [
    pytest.mark.skipif(not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")),
                       reason="needs qemu-system-arm and arm-none-eabi-gcc"),
    pytest.mark.skipif(not os.access(SER2NET, os.X_OK),
                       reason="needs ser2net (apt-get install ser2net; scripts/bootstrap.sh)"),
]

BIN = Path(sys.executable).parent
PLACE, BOARD = "lab-1", "nucleo-f401re"
RUN = ("--vectors", "2", "--references", "litert-ref")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], log: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True, **kw)


def _stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for(what: str, ready, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def board_pty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The board firmware `--place` builds (NUCLEO-F401RE, no semihosting) running in
    QEMU, its USART2 on a pty: the board's serial port."""
    work = tmp_path_factory.mktemp("board")
    board = get_target(BOARD)
    elf = build(generate_builtin(load_model(EXAMPLE), board, semihosting=False)).elf
    log = work / "qemu.log"
    qemu = _start([QEMU, "-M", board.qemu_machine, "-kernel", str(elf), "-display", "none",
                   "-nodefaults", "-monitor", "none", *serial_args(board, "pty"),
                   "-icount", "shift=0"], log)
    found: list[str] = []

    def redirected() -> bool:
        found.extend(re.findall(r"redirected to (/dev/pts/\d+)", log.read_text()))
        return bool(found) or qemu.poll() is not None

    try:
        _wait_for("QEMU's pty", redirected)
        assert found, log.read_text()
        yield found[0]
    finally:
        _stop(qemu)


class Lab:
    """A coordinator and an exporter on localhost, and place lab-1 on the exported port."""

    def __init__(self, work: Path, pty: str) -> None:
        self.address = f"127.0.0.1:{_free_port()}"
        self.work = work
        self.env = {**os.environ, "LG_COORDINATOR": self.address, "PYTHONPATH": str(ROOT)}
        self.pty = pty
        self.coordinator = _start([str(BIN / "labgrid-coordinator"), "-l", self.address],
                                  work / "coordinator.log", cwd=work)
        self.exporter: subprocess.Popen | None = None

    def set_up(self) -> None:
        """The exporter, once the coordinator answers; then the place."""
        work = self.work
        (work / "exporter.yaml").write_text(
            f"board-uart:\n  RawSerialPort:\n    port: {self.pty}\n    speed: 115200\n")
        _wait_for("labgrid-coordinator", lambda: self.client("places").returncode == 0)
        self.exporter = _start([str(BIN / "labgrid-exporter"), "-c", self.address, "-n",
                                "testlab", "--hostname", "127.0.0.1", "exporter.yaml"],
                               work / "exporter.log", cwd=work)
        _wait_for("labgrid-exporter", lambda: "NetworkSerialPort" in self.client(
            "resources").stdout)
        for args in (("create",), ("add-match", "testlab/board-uart/NetworkSerialPort"),
                     ("set-tags", f"board={BOARD}")):
            proc = self.client("-p", PLACE, *args)
            assert proc.returncode == 0, proc.stdout + proc.stderr

    def client(self, *args: str, user: str | None = None) -> subprocess.CompletedProcess:
        env = {**self.env, **({"LG_USERNAME": user} if user else {})}
        return subprocess.run([str(BIN / "labgrid-client"), *args], env=env,
                              capture_output=True, text=True, timeout=30)

    def acquired_by(self) -> str | None:
        show = self.client("-p", PLACE, "show").stdout
        who = re.search(r"acquired: (\S+)", show)
        return None if who is None or who.group(1) == "None" else who.group(1)

    def harness(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=600)

    def close(self) -> None:
        _stop(*(p for p in (self.exporter, self.coordinator) if p is not None))


@pytest.fixture(scope="module")
def lab(board_pty: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("lab"), board_pty)
    try:
        lab.set_up()
        yield lab
    finally:
        lab.close()


def test_a_run_on_a_place_passes_and_releases_it(lab: Lab, tmp_path: Path) -> None:
    proc = lab.harness("run", "--place", PLACE, *RUN, "--runs-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (folder,) = tmp_path.iterdir()
    res = json.loads((folder / "results.json").read_text())
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert res["target"]["name"] == BOARD and res["config"]["place"] == PLACE
    assert res["device"]["backend"]["name"] == "board"
    assert res["config"]["port"].startswith("rfc2217://127.0.0.1:")
    assert res["device"]["link"]["bytes_sent"] > 2 * 32 * 32  # the inputs crossed the lab
    assert lab.acquired_by() is None


def test_a_place_someone_else_holds_is_one_line_and_no_run(lab: Lab, tmp_path: Path) -> None:
    taken = lab.client("-p", PLACE, "acquire", user="someone-else")
    assert taken.returncode == 0, taken.stderr
    try:
        proc = lab.harness("run", "--quiet", "--place", PLACE, *RUN, "--runs-dir",
                           str(tmp_path))
        line = one_line_error(proc, 8)
        assert f"place {PLACE} is already acquired by " in line and "someone-else" in line
        assert not tmp_path.exists() or not any(tmp_path.iterdir())
        assert lab.acquired_by().endswith("/someone-else")
    finally:
        lab.client("-p", PLACE, "release", user="someone-else")


def test_a_matrix_runs_its_board_cells_on_the_place(lab: Lab, tmp_path: Path) -> None:
    proc = lab.harness("matrix", "--models", str(EXAMPLE), "--targets", "stm32f4,cortex-m55",
                       "--places", PLACE, *RUN, "--out", str(tmp_path / "m"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "m" / "matrix.json").read_text())
    assert [c["status"] for c in doc["cells"]] == ["PASS", "PASS"]
    assert doc["runs"]["example_cnn_int8_stm32f4_auto"]["place"] == PLACE
    assert doc["runs"]["example_cnn_int8_cortex-m55_auto"]["place"] is None
    assert lab.acquired_by() is None


@pytest.mark.parametrize("when", ["acquiring", "running"])
def test_ctrl_c_releases_the_place(lab: Lab, tmp_path: Path, when: str) -> None:
    """Ctrl-C as soon as the coordinator has the place acquired (the harness may still be
    waiting for its answer), or once the run has its run folder."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "run", "--quiet", "--place",
                             PLACE, *RUN, "--runs-dir", str(tmp_path)], cwd=ROOT, env=lab.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready = {"acquiring": lambda: lab.acquired_by() is not None,
             "running": lambda: tmp_path.exists() and any(tmp_path.iterdir())}[when]
    _wait_for(f"the harness {when}", lambda: ready() or proc.poll() is not None, timeout=60)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert lab.acquired_by() is None, err
