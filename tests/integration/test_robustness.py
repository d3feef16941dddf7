"""Bad-input sweep, part 2 (issue #7), with the toolchain: bad vectors through the CLI,
a missing cross-compiler, a full disk, and Ctrl-C at each stage (the parts without the
toolchain are in tests/unit/test_cli.py and tests/unit/run/test_vectors.py).

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
from harness.errors import ExitCode
from harness.run.pipeline import run
from support.cli import harness, one_line_error, path_with
from support.paths import ROOT

HAVE_QEMU = shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")
needs_toolchain = pytest.mark.skipif(not HAVE_QEMU, reason="needs qemu-system-arm and "
                                     "arm-none-eabi-gcc (scripts/bootstrap.sh installs them)")


def test_bad_vectors_through_the_cli(tmp_path: Path) -> None:
    np.savez(tmp_path / "two.npz", a=np.zeros((1, 32, 32, 1), np.int8),
             b=np.zeros((1, 4), np.int8))
    np.save(tmp_path / "shape.npy", np.zeros((2, 8, 8, 3), np.float32))
    for name, says in (("two.npz", "holds 2 arrays"), ("shape.npy", "does not fit")):
        proc = harness("--inputs", str(tmp_path / name), "--runs-dir", str(tmp_path / "runs"))
        assert says in one_line_error(proc, ExitCode.BAD_INPUT)
    assert not (tmp_path / "runs").exists()  # refused before a run folder is made


def test_missing_cross_compiler_names_its_package(tmp_path: Path) -> None:
    proc = harness("--runs-dir", str(tmp_path / "runs"), "--references", "numpy-int8",
                   env=path_with(tmp_path, "qemu-system-arm"))
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
