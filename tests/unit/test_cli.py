"""Bad input through the command line, refused before any build: a missing, busy or
non-serial port, a missing QEMU, --flash without a port or its tool, tolerances and
references that check nothing, places that cannot be written. Each ends in one
`error: ...` line with its documented exit code (README "Exit codes"), never a traceback;
so does a bug (its traceback goes to a crash log), and SIGTERM or SIGHUP.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

import harness.run.pipeline as pipeline
from harness.cli import run_with_exit_code
from harness.config import COMMAND_LINE
from harness.errors import ExitCode
from support.cli import harness, one_line_error, path_with
from support.paths import ROOT

# ---- serial ports -------------------------------------------------------------


def test_missing_serial_port(tmp_path: Path) -> None:
    proc = harness("--port", "/dev/nonexistent", "--runs-dir", str(tmp_path / "runs"))
    line = one_line_error(proc, ExitCode.PORT_UNAVAILABLE)
    assert "/dev/nonexistent" in line and "does not exist" in line


def test_busy_serial_port(tmp_path: Path) -> None:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import serial, sys, time; s = serial.Serial(sys.argv[1], "
         "exclusive=True); print('held', flush=True); time.sleep(120)", path],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = harness("--port", path, "--runs-dir", str(tmp_path / "runs"))
        line = one_line_error(proc, ExitCode.PORT_UNAVAILABLE)
        assert path in line and "busy" in line
    finally:
        holder.kill()
        holder.wait()
        os.close(master)
        os.close(slave)


def test_missing_qemu_names_its_package(tmp_path: Path) -> None:
    proc = harness("--runs-dir", str(tmp_path / "runs"), env=path_with(tmp_path))
    line = one_line_error(proc, ExitCode.MISSING_TOOL)
    assert "qemu-system-arm" in line and "apt-get install qemu-system-arm" in line


def test_flash_needs_a_port_and_a_tool(tmp_path: Path) -> None:
    def harness(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness", "run", "--runs-dir",
                               str(tmp_path), *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)

    no_port = harness("--flash", "pyocd")
    assert no_port.returncode == ExitCode.BAD_INPUT and "--port" in no_port.stderr
    if shutil.which("pyocd"):
        pytest.skip("pyocd is installed here; the missing-tool message cannot be shown")
    with socket.create_server(("127.0.0.1", 0)) as server:  # the port itself is fine
        missing = harness("--flash", "pyocd", "--port",
                          f"socket://127.0.0.1:{server.getsockname()[1]}")
    assert missing.returncode == ExitCode.MISSING_TOOL
    assert missing.stderr.strip().count("\n") == 0 and "pip install pyocd" in missing.stderr


def test_a_port_that_is_not_a_serial_port(tmp_path: Path) -> None:
    proc = harness("--port", "/dev/null", "--runs-dir", str(tmp_path / "runs"))
    line = one_line_error(proc, ExitCode.PORT_UNAVAILABLE)
    assert "/dev/null is not a serial port" in line
    assert not (tmp_path / "runs").exists()  # before any work


def test_a_network_port_that_refuses_connections(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        url = f"socket://127.0.0.1:{s.getsockname()[1]}"
        proc = harness("--port", url, "--runs-dir", str(tmp_path / "runs"))
    line = one_line_error(proc, ExitCode.PORT_UNAVAILABLE)
    assert line.startswith(f"error: cannot connect to {url}: Connection refused")
    assert not (tmp_path / "runs").exists()  # before any work


def test_a_network_port_without_a_port_number(tmp_path: Path) -> None:
    proc = harness("--port", "rfc2217://localhost", "--runs-dir", str(tmp_path / "runs"))
    assert "rfc2217://localhost names no host:port" in one_line_error(
        proc, ExitCode.PORT_UNAVAILABLE)


# ---- options and places checked before any work (a pty stands in for the board) --------

BEFORE_WORK = {
    "unknown tolerance name": (["--tolerance", "litrt=1"],
                               "--tolerance names unknown reference(s): litrt"),
    "tolerance of a reference not run": (
        ["--references", "litert-ref", "--tolerance", "litert=1"],
        "--tolerance names litert, which this run does not run (--references litert-ref)"),
    "references that check nothing": (
        ["--references", "litert,numpy-float"],
        "--references litert,numpy-float checks nothing: the builtin device is checked "
        "against litert-ref or numpy-int8, or a reference given a --tolerance"),
    "runs dir under /proc": (["--runs-dir", "/proc/harness-runs"],
                             "cannot make a run folder in --runs-dir /proc/harness-runs"),
    "bool inputs": (["--inputs", "{tmp}/bool.npy"], "is bool, not numbers"),
}


@pytest.mark.parametrize("case", sorted(BEFORE_WORK))
def test_refused_before_any_work(case: str, tmp_path: Path, pty: str) -> None:
    args, says = BEFORE_WORK[case]
    np.save(tmp_path / "bool.npy", np.zeros((1, 32, 32, 1), bool))
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    env = {**os.environ, "HARNESS_BUILD_DIR": str(tmp_path / "build")}
    proc = harness("--port", pty, "--runtime", "builtin", "--runs-dir", str(tmp_path / "runs"),
                   *args, env=env)
    assert says in one_line_error(proc, ExitCode.BAD_INPUT)
    assert not (tmp_path / "runs").exists()
    assert not list((tmp_path / "build").glob("*"))  # nothing built


def test_an_unwritable_build_cache(tmp_path: Path, pty: str) -> None:
    env = {**os.environ, "HARNESS_BUILD_DIR": "/proc/harness-build"}
    proc = harness("--port", pty, "--runs-dir", str(tmp_path / "runs"), env=env)
    line = one_line_error(proc, ExitCode.BAD_INPUT)
    assert "cannot write the build cache (HARNESS_BUILD_DIR) /proc/harness-build" in line


# ---- the crash log: a bug is one line; its traceback is kept, never in the way ----------


def _opts(**over: object) -> dict:
    return {**{o.name: o.unset for o in COMMAND_LINE}, "quiet": True, **over}


def _boom(*args: object, **kwargs: object) -> None:
    raise ZeroDivisionError("boom")


def test_a_bug_before_the_run_folder_logs_to_a_file_of_its_own(
        tmp_path: Path, pty: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(pipeline, "load_model", _boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert run_with_exit_code(_opts(port=pty, runs_dir=str(tmp_path / "runs"))) == 6
    log = tmp_path / f"harness-crash-{os.getpid()}.log"
    assert capsys.readouterr().err == (f"error: internal error ZeroDivisionError: boom "
                                       f"(traceback: {log})\n")
    assert "Traceback" in log.read_text() and "_boom" in log.read_text()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))  # cannot be written
    assert run_with_exit_code(_opts(port=pty, runs_dir=str(tmp_path / "runs"))) == 6
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(
        "error: internal error ZeroDivisionError: boom (traceback: not saved: "
        "FileNotFoundError: ")


def test_a_bug_during_the_run_logs_into_its_folder(
        tmp_path: Path, pty: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(pipeline, "_stages", _boom)
    runs = tmp_path / "runs"
    assert run_with_exit_code(_opts(port=pty, runs_dir=str(runs))) == 6
    (folder,) = runs.iterdir()
    err = capsys.readouterr().err
    assert err == (f"error: internal error ZeroDivisionError: boom (traceback: "
                   f"{folder / 'crash.log'})\n")
    assert "_boom" in (folder / "crash.log").read_text()
    verdict = json.loads((folder / "results.json").read_text())["verdict"]
    assert verdict == {"status": "ERROR", "exit_code": 6, "reason": err[7:].strip()}


# ---- SIGTERM and SIGHUP stop a run as Ctrl-C does --------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_the_run_like_ctrl_c(
        sig: int, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def signalled(cfg: object, given: object = None) -> None:
        os.kill(os.getpid(), sig)
        time.sleep(30)  # the handler interrupts this

    monkeypatch.setattr(pipeline, "run", signalled)
    before = signal.getsignal(sig)
    assert run_with_exit_code(_opts()) == 128 + sig
    assert capsys.readouterr().err == (f"error: stopped by {signal.Signals(sig).name}; "
                                       "partial results are in the run folder\n")
    assert signal.getsignal(sig) == before  # restored for whatever runs next
