"""Failures on the real emulator: wrong model, HardFault, Ctrl-C. QEMU must never be orphaned."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness.device.backends import QemuBackend
from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.session import run_vectors
from harness.errors import DeviceError, DeviceFault
from harness.ops.validate import load_model, load_model_bytes
from harness.run.vectors import random_vectors
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import get_target
from support import synth
from support.paths import EXAMPLE, ROOT

STM32F4 = get_target("stm32f4")


def _qemu_pids(marker: str) -> list[int]:
    """PIDs of qemu-system-arm processes whose command line mentions `marker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "qemu-system-arm" in cmd and marker in cmd:
            pids.append(int(entry.name))
    return pids


def test_device_with_another_model_is_refused(tmp_path: Path) -> None:
    example = load_model(EXAMPLE)
    other = load_model_bytes(synth.softmax((1, 4)), tmp_path / "other.tflite")
    built = build(generate_builtin(example, STM32F4))
    with QemuBackend(STM32F4, built.elf, tmp_path) as url, Link.open(url) as link:
        with pytest.raises(DeviceError, match="refusing to compare"):
            run_vectors(DeviceClient(link), other, random_vectors(other, 1, 0), build_id=None,
                        jsonl=tmp_path / "out.jsonl")
    assert not _qemu_pids(str(tmp_path))


def test_hardfault_is_reported_with_registers(tmp_path: Path) -> None:
    """Inject a fault: a model whose invoke writes to an unmapped address."""
    g = load_model(EXAMPLE)
    project = generate_builtin(g, STM32F4)
    src = project.files["model.c"].decode()
    src = src.replace("int hx_model_invoke(void) {",
                      "int hx_model_invoke(void) {\n  *(volatile uint32_t *)0xF0000000u = 1u;", 1)
    project.files["model.c"] = src.encode()
    built = build(project)
    with QemuBackend(STM32F4, built.elf, tmp_path) as url, Link.open(url) as link:
        with pytest.raises(DeviceFault) as info:
            run_vectors(DeviceClient(link), g, random_vectors(g, 1, 0), build_id=None,
                        jsonl=tmp_path / "out.jsonl")
    text = str(info.value)
    assert "PC" in text and "CFSR" in text
    assert not _qemu_pids(str(tmp_path))


def test_ctrl_c_during_device_run_keeps_results_and_kills_qemu(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", "--model", str(EXAMPLE), "--vectors", "150",
         "--runs-dir", str(runs), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        jsonl = None
        while time.monotonic() < deadline:  # wait until vectors are flowing
            found = list(runs.glob("*/device_outputs.jsonl"))
            if found and found[0].stat().st_size > 0:
                jsonl = found[0]
                break
            time.sleep(0.1)
        assert jsonl is not None, "the device run never started"
        assert _qemu_pids(str(runs))
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    res = json.loads((jsonl.parent / "results.json").read_text())
    assert res["verdict"]["status"] == "INTERRUPTED"
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert rows and rows[0]["vector"] == 0 and len(rows) < 150
    assert np.load(jsonl.parent / "vectors.npz")["arr_0"].shape[0] == 150
    time.sleep(0.5)
    assert not _qemu_pids(str(runs)), "QEMU outlived the harness"
    # --resume finishes the run without measuring the kept vectors again.
    done = proc_done = len(rows)
    resumed = subprocess.run([sys.executable, "-m", "harness", "run", "--resume", str(jsonl.parent),
                              "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    res = json.loads((jsonl.parent / "results.json").read_text())
    assert res["resumed_vectors"] == proc_done and res["verdict"]["status"] == "PASS"
    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted(r["vector"] for r in lines) == list(range(150))  # each vector exactly once
    assert res["device"]["vectors_done"] == 150 and done > 0
