"""Bad-input sweep, part 2 (issue #7): bad vectors, missing or busy serial ports,
missing programs, a full disk, and Ctrl-C at each stage.

Each failure ends in one `error: ...` line with its documented exit code (README
"Exit codes"), never a traceback; an interrupted run leaves no process behind and
`--resume` finishes it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.cli import run_with_exit_code
from harness.config import COMMAND_LINE, RunConfig
from harness.errors import BadInput, DiskFull, ExitCode
from harness.ops.validate import load_model
from harness.run.pipeline import run
from harness.run.vectors import load_vectors

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "example_cnn_int8.tflite"  # input (1, 32, 32, 1) int8
HAVE_QEMU = shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")
needs_toolchain = pytest.mark.skipif(not HAVE_QEMU, reason="needs qemu-system-arm and "
                                     "arm-none-eabi-gcc (scripts/bootstrap.sh installs them)")


def harness(*args: str, env: dict | None = None, timeout: float = 300
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "run", "--quiet", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# ---- vectors of the wrong shape or dtype -------------------------------------

BAD_VECTORS = {
    "wrong shape": (np.zeros((3, 16, 16, 1), np.int8), "does not fit input"),
    "wrong rank": (np.zeros((32, 32), np.int8), "does not fit input"),
    "out of int8 range": (np.full((1, 32, 32, 1), 300, np.int32), "outside int8"),
    "complex": (np.zeros((1, 32, 32, 1), np.complex64), "not numbers"),
    "strings": (np.full((1, 32, 32, 1), "x"), "not numbers"),
    "NaN floats": (np.full((1, 32, 32, 1), np.nan, np.float32), "NaN"),
    "no vectors": (np.zeros((0, 1, 32, 32, 1), np.int8), "no values"),
    "scalar": (np.array(3, np.int8), "does not fit input"),
}


@pytest.mark.parametrize("case", sorted(BAD_VECTORS))
def test_bad_vectors_are_refused_in_one_line(case: str, tmp_path: Path) -> None:
    data, says = BAD_VECTORS[case]
    path = tmp_path / "inputs.npy"
    np.save(path, data)
    with pytest.raises(BadInput) as info:
        load_vectors(path, load_model(EXAMPLE))
    assert info.value.code == ExitCode.BAD_INPUT
    assert says in info.value.one_line() and "\n" not in info.value.one_line()


def test_bad_vectors_through_the_cli(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", a=np.zeros((1, 32, 32, 1), np.int8),
             b=np.zeros((1, 4), np.int8))
    np.save(tmp_path / "shape.npy", np.zeros((2, 8, 8, 3), np.float32))
    for name, says in (("two.npz", "holds 2 arrays"), ("shape.npy", "does not fit")):
        proc = harness("--inputs", str(tmp_path / name), "--runs-dir", str(tmp_path / "runs"))
        assert says in one_line_error(proc, ExitCode.BAD_INPUT)
    assert not (tmp_path / "runs").exists()  # refused before a run folder is made


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


# ---- missing programs -----------------------------------------------------------


def _path_with(tmp_path: Path, *programs: str) -> dict:
    """An environment whose PATH holds only `programs` (linked from the real PATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in programs:
        real = shutil.which(name)
        if real is None:
            pytest.skip(f"{name} is not installed")
        (bin_dir / name).symlink_to(real)
    return {**os.environ, "PATH": str(bin_dir)}


def test_missing_qemu_names_its_package(tmp_path: Path) -> None:
    proc = harness("--runs-dir", str(tmp_path / "runs"), env=_path_with(tmp_path))
    line = one_line_error(proc, ExitCode.MISSING_TOOL)
    assert "qemu-system-arm" in line and "apt-get install qemu-system-arm" in line


def test_missing_cross_compiler_names_its_package(tmp_path: Path) -> None:
    proc = harness("--runs-dir", str(tmp_path / "runs"), "--references", "numpy-int8",
                   env=_path_with(tmp_path, "qemu-system-arm"))
    line = one_line_error(proc, ExitCode.MISSING_TOOL)
    assert "arm-none-eabi-gcc" in line and "gcc-arm-none-eabi" in line


# ---- a full disk ------------------------------------------------------------------


def _opts(**over: object) -> dict:
    opts = {opt.name: opt.unset for opt in COMMAND_LINE}
    return {**opts, "quiet": True, "per_layer": False, "resume": None, **over}


@needs_toolchain
def test_full_disk_keeps_what_was_measured(tmp_path: Path, monkeypatch, capsys) -> None:
    """The disk fills up after the device ran: exit 9 in one line, device_outputs.jsonl
    and results.json kept, and --resume finishes without running a vector again."""
    real_savez = np.savez

    def savez(file, *args, **kwargs):
        if str(file).endswith("outputs_device.npz"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file))
        return real_savez(file, *args, **kwargs)

    monkeypatch.setattr(np, "savez", savez)
    runs = tmp_path / "runs"
    code = run_with_exit_code(_opts(runs_dir=str(runs), vectors=3, references="numpy-int8",
                                    runtime="builtin"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.DISK_FULL
    assert len(err) == 1 and err[0].startswith("error: no space left writing "
                                               "outputs_device.npz"), err
    (folder,) = runs.iterdir()
    assert "device_outputs.jsonl" in err[0] and f"--resume {folder}" in err[0]
    lines = (folder / "device_outputs.jsonl").read_text().splitlines()
    assert [json.loads(ln)["vector"] for ln in lines] == [0, 1, 2]
    res = json.loads((folder / "results.json").read_text())
    assert res["verdict"]["status"] == "ERROR" and res["verdict"]["exit_code"] == 9
    monkeypatch.setattr(np, "savez", real_savez)  # space freed
    done = run(RunConfig(resume=folder, quiet=True)).to_dict()
    assert done["verdict"]["status"] == "PASS" and done["resumed_vectors"] == 3


def test_full_disk_error_type() -> None:
    assert DiskFull("x").code == 9 and ExitCode.DISK_FULL not in (
        ExitCode.INTERNAL, ExitCode.DEVICE_FAILED, ExitCode.BAD_INPUT)


# ---- Ctrl-C at each stage -------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree(pid: int) -> list[int]:
    kids, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


def _interrupt_when(proc: subprocess.Popen, ready, limit: float = 240) -> list[int]:
    """Poll until ready(tree) holds, then SIGINT the harness; the tree's PIDs."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before the stage"
        tree = _tree(proc.pid)
        if ready(tree):
            proc.send_signal(signal.SIGINT)
            return tree
        time.sleep(0.05)
    raise AssertionError("the stage never started")


STAGES = {
    "build": lambda tree, folder: any(
        any(w in _cmdline(p) for w in ("make", "cc1", "arm-none-eabi")) for p in tree[1:]),
    "references": lambda tree, folder: any("harness.references.runner" in _cmdline(p)
                                           for p in tree[1:]),
    "emulator": lambda tree, folder: any("qemu-system-arm" in _cmdline(p) for p in tree[1:])
    and _jsonl_lines(folder) >= 3,
}


def _jsonl_lines(runs: Path) -> int:
    return sum(len(f.read_text().splitlines()) for f in runs.glob("*/device_outputs.jsonl"))


@needs_toolchain
@pytest.mark.parametrize("stage", list(STAGES))
def test_ctrl_c_leaves_nothing_running_and_resume_finishes(stage: str, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = {**os.environ, "HARNESS_BUILD_DIR": str(tmp_path / "build")}  # a cold build
    vectors = "60" if stage == "emulator" else "4"
    cmd = [sys.executable, "-m", "harness", "run", "--quiet", "--runs-dir", str(runs),
           "--runtime", "builtin", "--vectors", vectors,
           "--references", "litert-ref,numpy-int8,numpy-float"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        tree = _interrupt_when(proc, lambda t: STAGES[stage](t, runs))
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err and err.strip().splitlines() == [
        "error: interrupted; partial results are in the run folder"]
    assert len(tree) > 1  # the stage's child processes were seen
    deadline = time.monotonic() + 10  # a grace period for the kernel to reap them
    while any(_alive(p) for p in tree) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = {p: _cmdline(p) for p in tree if _alive(p)}
    assert not survivors, f"still running after Ctrl-C: {survivors}"
    (folder,) = runs.iterdir()
    res = json.loads((folder / "results.json").read_text())
    assert res["verdict"]["status"] == "INTERRUPTED" and res["verdict"]["exit_code"] == 130
    measured = _jsonl_lines(runs)
    if stage == "emulator":
        assert 3 <= measured < 60
    resumed = subprocess.run([sys.executable, "-m", "harness", "run", "--quiet", "--resume",
                              str(folder)], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == ExitCode.PASS, resumed.stderr
    res = json.loads((folder / "results.json").read_text())
    assert res["verdict"]["status"] == "PASS"
    assert res["resumed_vectors"] == measured and res["device"]["vectors_done"] == int(vectors)
