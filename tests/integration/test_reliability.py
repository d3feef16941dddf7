"""Reliability under bad conditions (issue 14), with the real cross-compiler, QEMU and
references: a run killed by SIGTERM, SIGHUP or SIGKILL in any stage leaves no process
and no temporary folder behind and `--resume` finishes it with each vector measured
once; identical runs started together into one empty cache all pass, each build and
each reference made once; a device that freezes is named, with its vector, within
--timeout; input values clipped by quantization are counted on stderr.

The signal matrix (3 signals x 3 stages) takes about two minutes: the default suite
runs one case per signal, each in another stage; HARNESS_FULL_TESTS=1 runs all nine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ExitCode
from harness.ops.validate import load_model
from support.cli import one_line_error
from support.paths import EXAMPLE, FULL, ROOT
from support.procs import cmdline, survivors, tree

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")),
    reason="needs qemu-system-arm and arm-none-eabi-gcc (scripts/bootstrap.sh installs them)")

REFERENCES = "litert-ref,numpy-int8,numpy-float"


class Harness:
    """`harness run` in a subprocess with its own build cache and temp folder (so that
    what it leaves behind can be seen), and its run folders under `runs`."""

    def __init__(self, tmp_path: Path, cache: Path | None = None) -> None:
        self.runs, self.tmp = tmp_path / "runs", tmp_path / "tmp"
        self.cache = cache or tmp_path / "build"
        self.tmp.mkdir(exist_ok=True)
        self.env = {**os.environ, "HARNESS_BUILD_DIR": str(self.cache),
                    "TMPDIR": str(self.tmp), "PYTHONPATH": str(ROOT)}

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "harness", "run", "--quiet",
                                 "--runs-dir", str(self.runs), *args], cwd=ROOT, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def resume(self, folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness", "run", "--quiet", "--resume",
                               str(folder)], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=600)

    def leftovers(self) -> list[str]:
        """Temporary names and lock files in the caches and run folders, and whatever
        the harness or its workers left in the temp folder."""
        found = [p for p in self.cache.rglob("*") if re.search(r"\.(tmp\d*|lock)$", p.name)]
        found += list(self.runs.rglob("*.tmp*")) + list(self.tmp.iterdir())
        return sorted(str(p) for p in found)


def _measured(folder: Path) -> list[int]:
    jsonl = folder / "device_outputs.jsonl"
    if not jsonl.exists():
        return []
    return [json.loads(line)["vector"] for line in jsonl.read_text().splitlines()]


STAGES = {
    "build": lambda pids, runs: any(
        any(w in cmdline(p) for w in ("make", "cc1", "arm-none-eabi")) for p in pids[1:]),
    "references": lambda pids, runs: any("harness.references.runner" in cmdline(p)
                                         for p in pids[1:]),
    "device": lambda pids, runs: any("qemu-system-arm" in cmdline(p) for p in pids[1:])
    and sum(len(_measured(f)) for f in runs.glob("*")) >= 3,
}


def _when(proc: subprocess.Popen, ready, runs: Path, limit: float = 240) -> list[int]:
    """Poll until ready(tree, runs) holds; the tree's pids."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before the stage"
        pids = tree(proc.pid)
        if ready(pids, runs):
            return pids
        time.sleep(0.05)
    raise AssertionError("the stage never started")


# ---- SIGTERM, SIGHUP, SIGKILL in each stage ---------------------------------------------

SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP, "SIGKILL": signal.SIGKILL}
DEFAULT_CASES = [("SIGTERM", "device"), ("SIGHUP", "references"), ("SIGKILL", "build")]
CASES = [(s, st) for s in SIGNALS for st in STAGES] if FULL else DEFAULT_CASES


@pytest.mark.parametrize(("name", "stage"), CASES, ids=[f"{s}-{t}" for s, t in CASES])
def test_a_signal_in_any_stage_leaves_nothing_and_resume_finishes(
        name: str, stage: str, tmp_path: Path) -> None:
    sig, h = SIGNALS[name], Harness(tmp_path)
    vectors = 60 if stage == "device" else 4
    proc = h.start("--runtime", "builtin", "--vectors", str(vectors), "--references",
                   REFERENCES)
    try:
        pids = _when(proc, STAGES[stage], h.runs)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(pids) > 1  # the stage's child processes were seen
    assert not survivors(pids), f"still running after {name}"
    (folder,) = h.runs.iterdir()
    res = json.loads((folder / "results.json").read_text())
    if sig == signal.SIGKILL:  # no last word: results.json says where it was
        assert proc.returncode == -signal.SIGKILL
        assert res["verdict"]["status"] == "INCOMPLETE"
        assert f"it was in the {stage} stage" in res["verdict"]["reason"]
    else:
        assert proc.returncode == 128 + sig
        assert err.splitlines() == [f"error: stopped by {name}; partial results are in the "
                                    "run folder"]
        assert res["verdict"] == {"status": "INTERRUPTED", "reason": f"interrupted ({name})",
                                  "exit_code": 128 + sig}
        assert h.leftovers() == []
    measured = _measured(folder)
    if stage == "device":
        assert 3 <= len(measured) < vectors
    resumed = h.resume(folder)
    assert resumed.returncode == ExitCode.PASS, resumed.stderr
    res = json.loads((folder / "results.json").read_text())
    assert res["verdict"]["status"] == "PASS" and res["resumed_vectors"] == len(measured)
    assert sorted(_measured(folder)) == list(range(vectors))  # each vector exactly once
    assert res["device"]["vectors_done"] == vectors
    assert h.leftovers() == []  # what a SIGKILL left, the resume removed


# ---- identical runs at once, one empty cache ---------------------------------------------

CONCURRENT = 8


def test_identical_cold_runs_at_once_all_pass_and_build_once(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    t0 = time.monotonic()
    procs = [h.start("--runtime", "builtin", "--vectors", "3", "--references", REFERENCES)
             for _ in range(CONCURRENT)]
    errs = [p.communicate(timeout=900)[1] for p in procs]
    seconds = time.monotonic() - t0
    assert [p.returncode for p in procs] == [0] * CONCURRENT, errs
    docs = [json.loads((f / "results.json").read_text()) for f in sorted(h.runs.iterdir())]
    assert len(docs) == CONCURRENT and all(d["verdict"]["status"] == "PASS" for d in docs)
    assert sorted(d["build"]["cached"] for d in docs) == [False] + [True] * (CONCURRENT - 1)
    for name in REFERENCES.split(","):  # each reference computed by one run, read by the rest
        cached = sorted(d["references"][name]["cached"] for d in docs)
        assert cached == [False] + [True] * (CONCURRENT - 1), name
    assert h.leftovers() == []
    print(f"\n{CONCURRENT} identical cold runs at once: all PASS in {seconds:.1f} s")


# ---- a device that freezes -------------------------------------------------------------


def test_a_frozen_device_is_named_with_its_vector_within_the_timeout(tmp_path: Path) -> None:
    h, timeout = Harness(tmp_path), 3.0
    proc = h.start("--runtime", "builtin", "--vectors", "3000", "--references", "numpy-int8",
                   "--timeout", str(timeout))
    qemu = None
    try:
        pids = _when(proc, STAGES["device"], h.runs)
        (qemu,) = [p for p in pids if "qemu-system-arm" in cmdline(p)]
        os.kill(qemu, signal.SIGSTOP)  # stopped, not killed: its socket stays open
        stopped = time.monotonic()
        _out, err = proc.communicate(timeout=120)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
    line = one_line_error(subprocess.CompletedProcess([], proc.returncode, "", err),
                          ExitCode.DEVICE_FAILED)
    (folder,) = h.runs.iterdir()
    k = len(_measured(folder))  # the vector in flight when it froze
    assert f"the device stopped answering during vector {k}: no answer from" in line
    waited = float(re.search(r"within (\d+\.\d) s", line)[1])
    assert waited <= timeout + 0.5, line  # detected at --timeout
    # and the run ended soon after: QEMU stopped (3 s grace), results.json written
    assert took < timeout + 15, took
    assert "did the firmware boot" not in line and "baud" not in line
    assert not survivors([qemu]), "the frozen QEMU outlived the run"
    print(f"\nfrozen at vector {k}: detected after {waited} s, exit {took:.1f} s after SIGSTOP")


# ---- clipped inputs are counted ----------------------------------------------------------


def test_clipped_input_values_are_counted_on_stderr(tmp_path: Path) -> None:
    t = load_model(EXAMPLE).input_tensors()[0]
    x = np.zeros((2, 1, 32, 32, 1), np.float32)
    x[0, 0, 0, :7, 0] = (200 - t.zero_point) * t.scale  # 7 values beyond int8's 127
    np.save(tmp_path / "x.npy", x)
    proc = Harness(tmp_path).start("--runtime", "builtin", "--inputs", str(tmp_path / "x.npy"),
                                   "--references", "litert-ref")
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == ExitCode.PASS, err
    assert err.splitlines() == [f"warning: 7 of 2048 values for input {t.name!r} lie outside "
                                f"what int8 holds with its scale and zero point "
                                f"[{(-128 - t.zero_point) * t.scale:.4g}, "
                                f"{(127 - t.zero_point) * t.scale:.4g}] and were clipped"]
