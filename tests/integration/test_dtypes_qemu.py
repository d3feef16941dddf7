"""int16 and float32 models end to end in QEMU: the 16x8 chain of the core ops bit-exact,
hello_world_float within its ULP tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.analysis.compare import FLOAT_TOLERANCE_ULP
from harness.config import RunConfig
from harness.ops.validate import load_model
from harness.run.pipeline import run
from harness.runtimes.builtin.arena import plan_arena
from support.dtype_cases import INT16_CHAIN, write
from support.paths import shared_model
from support.synth_dtypes import chain

# ---- end to end in QEMU -------------------------------------------------------------


def _device_rows(res: dict) -> list[dict]:
    return [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == "litert-ref"]


def test_int16_chain_bit_exact_in_qemu(tmp_path: Path) -> None:
    """CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, FULLY_CONNECTED and SOFTMAX, all 16x8."""
    model = write(tmp_path, chain("int16", [1, 6, 6, 2], INT16_CHAIN, input_scale=0.002))
    assert plan_arena(load_model(model)).size > 0
    res = run(RunConfig(model=model, vectors=3, seed=4, runs_dir=tmp_path / "runs",
                        references=["litert-ref", "numpy-int8"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (row,) = _device_rows(res)
    assert row["exact_rate"] == 1.0 and row["unit"] == "LSB"
    dev = np.load(Path(res["run_dir"]) / "outputs_device.npz")["arr_0"]
    assert dev.dtype == np.int16 and np.all(np.abs(dev.astype(int).sum(-1) - 32768) < 64)


def test_hello_world_float_in_qemu_within_ulps(tmp_path: Path) -> None:
    model = shared_model("hello_world_float.tflite")
    res = run(RunConfig(model=model, vectors=5, runs_dir=tmp_path / "runs",
                        references=["litert-ref", "numpy-int8"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (row,) = _device_rows(res)
    assert row["unit"] == "ULP" and row["tolerance_lsb"] == FLOAT_TOLERANCE_ULP
    assert row["max_abs_lsb"] <= FLOAT_TOLERANCE_ULP
    numpy_vs_ref = [c for c in res["comparisons"] if {c["a"], c["b"]} == {"numpy-int8",
                                                                          "litert-ref"}]
    assert res["references"]["numpy-int8"]["status"] == "ok"
    assert numpy_vs_ref and numpy_vs_ref[0]["max_abs_lsb"] == 0  # float FC: same bits
    dev = np.load(Path(res["run_dir"]) / "outputs_device.npz")["arr_0"]
    assert dev.dtype == np.float32 and np.isfinite(dev).all() and len(np.unique(dev)) > 1
