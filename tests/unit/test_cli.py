"""Bad input through the command line, refused before any build: a missing or busy
serial port, a missing QEMU, --flash without a port or its tool. Each ends in one
`error: ...` line with its documented exit code (README "Exit codes"), never a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    missing = harness("--flash", "pyocd", "--port", "socket://127.0.0.1:9")
    assert missing.returncode == ExitCode.MISSING_TOOL
    assert missing.stderr.strip().count("\n") == 0 and "pip install pyocd" in missing.stderr
