"""--runtime tflm --kernels cmsis-nn: TFLite Micro with Arm's CMSIS-NN kernels, compiled
from the user's trees with the target's CPU flags, run in QEMU against tflm-host (the
reference kernels). Without the trees only the refusals run (CI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import harness.device.backends.qemu as qemu_backend
from harness.config import RunConfig
from harness.errors import ExitCode
from harness.run.pipeline import run
from harness.runtimes.tflm.isa import classify
from support.cmsis_trees import cmsis_trees
from support.paths import EXAMPLE, ROOT, shared_model

NO_TREES = {k: v for k, v in os.environ.items()
            if k not in ("TFLM_DIR", "CMSIS_NN_DIR", "CMSIS_DIR")}


def _harness(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, env=env)


def _one_line(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_without_any_tree_cmsis_nn_is_one_line_and_exit_5(tmp_path: Path) -> None:
    line = _one_line(_harness("--kernels", "cmsis-nn", "--runs-dir", str(tmp_path / "runs"),
                              env=NO_TREES), ExitCode.MISSING_TOOL)
    for want in ("TFLM_DIR", "CMSIS_NN_DIR", "CMSIS_DIR", "invoke tflm.fetch"):
        assert want in line, want
    assert not (tmp_path / "runs").exists()  # refused before any work


def test_with_tflm_but_no_cmsis_trees_the_pins_are_named(tmp_path: Path) -> None:
    from support.paths import tflm_tree

    env = {**NO_TREES, "TFLM_DIR": str(tflm_tree())}
    line = _one_line(_harness("--runtime", "tflm", "--kernels", "cmsis-nn", "--runs-dir",
                              str(tmp_path / "runs"), env=env), ExitCode.MISSING_TOOL)
    assert "CMSIS-NN and CMSIS_6 source trees" in line
    assert re.search(r"CMSIS-NN checkout at [0-9a-f]{12}", line), line


def _cmsis_run(model: Path, target: str, runs_dir: Path, **kw: object) -> dict:
    tflm, nn, core = cmsis_trees()
    cfg = RunConfig(model=model, target=target, runtime="tflm", kernels="cmsis-nn",
                    tflm_dir=tflm, cmsis_nn_dir=nn, cmsis_dir=core, runs_dir=runs_dir,
                    quiet=True, references=["tflm-host"], **kw)
    return run(cfg).to_dict()


def _model(name: str) -> Path:
    return EXAMPLE if name == "example" else shared_model(name)


# Acceptance 1: each run ends in PASS, or in DRIFT with an attribution naming an op and a
# cause (from a --per-layer run).
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m55"])
@pytest.mark.parametrize("name", ["example", "micro_speech_quantized.tflite",
                                  "person_detect.tflite", "keyword_scrambled_8bit.tflite"])
def test_cmsis_nn_runs_end_in_pass_or_explained_drift(name: str, target: str,
                                                      runs_dir: Path) -> None:
    res = _cmsis_run(_model(name), target, runs_dir, vectors=3)
    status = res["verdict"]["status"]
    assert status in ("PASS", "DRIFT"), res["verdict"]
    if status == "DRIFT":
        res = _cmsis_run(_model(name), target, runs_dir, vectors=3, per_layer=True)
        (platform,) = [p for p in res["attribution"]["parts"] if p["part"] == "platform"]
        assert platform["first_divergence"]["name"] and platform["cause"]["id"]
    # the run says which kernels it used, and the device agrees
    assert res["config"]["kernels"] == "cmsis-nn"
    assert res["tflm"]["kernels"]["name"] == "cmsis-nn"
    assert res["device"]["info"]["kernels"] == "cmsis-nn"
    # the code paths the CPU flags select: MVE on the M55, the DSP extension on the M4/M7
    isa = res["tflm"]["cmsis_nn_isa"]["instructions"]
    if target == "cortex-m55":
        assert isa.get("mve", 0) > 100
    else:
        assert isa.get("dsp", 0) > 100 and isa.get("mve", 0) == 0


def test_plain_c_paths_on_cortex_m3(runs_dir: Path) -> None:
    res = _cmsis_run(EXAMPLE, "cortex-m3", runs_dir, vectors=2)
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    isa = res["tflm"]["cmsis_nn_isa"]
    assert isa["functions"] > 0 and not isa["mve_functions"] and not isa["dsp_functions"]


def test_mve_code_runs_on_cortex_m55(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """QEMU translates a block of guest code just before it runs it; with `-d in_asm` it logs
    each block with the function it is in: MVE instructions in CMSIS-NN's functions in
    that log ran on the emulated Cortex-M55."""
    command = qemu_backend.QemuBackend.command

    def with_in_asm(self: qemu_backend.QemuBackend, port: int) -> list[str]:
        cmd = command(self, port)
        cmd[cmd.index("guest_errors")] = "guest_errors,in_asm"
        return cmd

    monkeypatch.setattr(qemu_backend.QemuBackend, "command", with_in_asm)
    res = _cmsis_run(EXAMPLE, "cortex-m55", runs_dir, vectors=1)
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    log = (Path(res["run_dir"]) / "qemu-guest-errors.log").read_text(errors="replace")
    ran: dict[str, int] = {}  # CMSIS-NN function -> MVE instructions in blocks that ran
    for block in log.split("IN: ")[1:]:
        func, _, body = block.partition("\n")
        if func.strip().startswith("arm_"):
            insns = re.findall(r"^0x[0-9a-f]+:\s+[0-9a-f]{4}(?: [0-9a-f]{4})?\s+(\S+)[ \t]*(.*)$",
                               body, re.M)
            ran[func.strip()] = ran.get(func.strip(), 0) + sum(
                classify(m, ops) == "mve" for m, ops in insns)
    used = {f for f, n in ran.items() if n}
    # the example's convolutions, depthwise convolutions and pooling run CMSIS-NN's MVE code
    assert any("conv" in f for f in used) and any("pool" in f for f in used), ran


def test_lstm_state_reset_is_found_attributed_and_confirmed(runs_dir: Path) -> None:
    model = shared_model("trained_lstm_int8.tflite")
    res = _cmsis_run(model, "cortex-m4", runs_dir, vectors=6, per_layer=True)
    assert res["verdict"]["status"] == "DRIFT", res["verdict"]
    (platform,) = [p for p in res["attribution"]["parts"] if p["part"] == "platform"]
    assert platform["first_divergence"]["name"] == "UNIDIRECTIONAL_SEQUENCE_LSTM"
    assert platform["cause"]["id"] == "recurrent state reset every invocation"
    rates = platform["cause"]["variant_rates"]
    assert rates["cmsis-nn"] > rates["reference"]
    # Independently: TFLM's own desktop interpreter (reference kernels), reset before
    # every invocation, gives exactly the device's outputs.
    from tflite_micro.python.tflite_micro import runtime

    folder = Path(res["run_dir"])
    vectors = np.load(folder / "vectors.npz")["arr_0"]
    device = np.load(folder / "outputs_device.npz")["arr_0"]
    it = runtime.Interpreter.from_file(str(model), arena_size=1 << 20)
    for k, vector in enumerate(vectors):
        it.reset()
        it.set_input(vector, 0)
        it.invoke()
        assert np.array_equal(it.get_output(0), device[k]), k
    carried = np.load(folder / "outputs_tflm-host.npz")["arr_0"]
    assert np.array_equal(carried[0], device[0])  # the first inference agrees
    assert not np.array_equal(carried[1:], device[1:])


def test_too_big_for_tflm_is_refused_before_the_build(tmp_path: Path) -> None:
    """The issue's case: person_detect passes the builtin fit check on stm32f4 (a 55 KB
    planned arena), but TFLM's arena is ~85 KB: refused before anything is built."""
    from support.paths import tflm_tree

    build, cache = tmp_path / "build", tmp_path / "tflm-cache"
    env = {**NO_TREES, "TFLM_DIR": str(tflm_tree()), "HARNESS_BUILD_DIR": str(build),
           "HARNESS_TFLM_CACHE": str(cache)}
    model = str(shared_model("person_detect.tflite"))
    line = _one_line(_harness("--runtime", "tflm", "--target", "stm32f4", "--model", model,
                              "--runs-dir", str(tmp_path / "runs"), env=env),
                     ExitCode.BAD_INPUT)
    need = re.search(r"needs ~(\d+) KB of RAM \((\d+) KB TFLM arena \(tflm-host uses (\d+) "
                     r"bytes\)", line)
    assert need, line
    # the arena the firmware would reserve is at least what tflm-host measures
    assert int(need.group(2)) * 1024 >= int(need.group(3))
    assert "but stm32f4" in line and "with enough memory: " in line
    assert "cortex-m55" in line.split("with enough memory: ")[1]
    assert not build.exists() and not cache.exists()  # nothing was built
    # the builtin runtime's own fit check lets the same model through on the same target
    builtin = _harness("--runtime", "builtin", "--target", "stm32f4", "--model", model,
                       "--vectors", "1", "--references", "numpy-int8", "--runs-dir",
                       str(tmp_path / "runs"), env={**env, "TFLM_DIR": ""})
    assert builtin.returncode == ExitCode.PASS, builtin.stderr[-500:]
