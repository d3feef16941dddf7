"""The whole pipeline on the real cross-compiler and the real QEMU, against real LiteRT."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from harness.cli import main
from harness.config import RunConfig
from harness.errors import ExitCode
from harness.run.pipeline import run
from support import synth, synth_dtypes
from support.paths import EXAMPLE, ROOT, shared_model


def _results(runs_dir: Path) -> dict:
    (folder,) = sorted(runs_dir.iterdir())[-1:]
    return json.loads((folder / "results.json").read_text())


def _device_vs_ref(res: dict) -> list[dict]:
    return [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == "litert-ref"]


def test_example_model_passes_bit_exact(runs_dir: Path) -> None:
    code = main(["run", "--vectors", "4", "--seed", "3", "--runs-dir", str(runs_dir), "--quiet"])
    res = _results(runs_dir)
    assert code == 0, res["verdict"]
    assert res["verdict"]["status"] == "PASS"
    (cmp,) = _device_vs_ref(res)
    assert cmp["vectors"] == 4 and cmp["max_abs_lsb"] == 0 and cmp["exact_rate"] == 1.0
    folder = Path(res["run_dir"])
    dev = np.load(folder / "outputs_device.npz")["arr_0"]
    ref = np.load(folder / "outputs_litert-ref.npz")["arr_0"]
    assert np.array_equal(dev, ref)
    # Softmax outputs of a 4-class model sum to about 1 (256 in LSB): a sanity check that
    # the device produced a real answer, not zeros that happen to match a broken reference.
    assert np.all(np.abs((dev.astype(int) + 128).sum(axis=-1) - 256) <= 4)
    assert res["device"]["info"]["model_hash"] == res["model"]["sha256"][:16]
    assert len((folder / "device_outputs.jsonl").read_text().splitlines()) == 4
    assert (folder / "firmware" / "model.c").exists()


def test_second_identical_run_does_not_rebuild(runs_dir: Path) -> None:
    cfg = RunConfig(model=EXAMPLE, vectors=1, seed=11, runs_dir=runs_dir, quiet=True)
    first = run(cfg).to_dict()
    second = run(cfg).to_dict()
    assert second["build"]["cached"] is True
    assert first["build"]["build_id"] == second["build"]["build_id"]


def test_micro_speech_bit_exact(runs_dir: Path) -> None:
    model = shared_model("micro_speech_quantized.tflite")
    res = run(RunConfig(model=model, vectors=3, runs_dir=runs_dir, quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert all(c["max_abs_lsb"] == 0 for c in _device_vs_ref(res))


# One synthetic single-op model per kernel, run through the whole pipeline in QEMU.
QEMU_OP_CASES = {
    "conv2d_same_stride2_relu6": lambda: synth.conv2d(
        (1, 9, 7, 3), 5, (3, 3), stride=(2, 2), padding="SAME", activation=3,
        weight_scale=[0.01, 0.02, 0.015, 0.03, 0.025], input_zp=-3, seed=1),
    "conv2d_valid_dilated": lambda: synth.conv2d(
        (1, 10, 10, 2), 4, (3, 3), dilation=(2, 2), padding="VALID", seed=2),
    "depthwise_mult3": lambda: synth.depthwise_conv2d(
        (1, 8, 8, 2), (3, 3), depth_multiplier=3, padding="SAME", activation=1, seed=3),
    "fully_connected": lambda: synth.fully_connected(
        (2, 24), 7, weight_scale=[0.01 + 0.002 * k for k in range(7)], seed=4),
    "avg_pool_same": lambda: synth.avg_pool2d(
        (1, 7, 7, 3), (3, 3), stride=(2, 2), padding="SAME", zero_point=5),
    "max_pool_valid": lambda: synth.max_pool2d(
        (1, 8, 6, 4), (2, 2), stride=(2, 2), padding="VALID"),
    "softmax": lambda: synth.softmax((3, 10), beta=1.0, input_scale=0.07),
    "chain_reshape": lambda: synth.chain((1, 8, 8, 3), [
        ("conv2d", {"out_channels": 4, "kernel": 3}),
        ("max_pool2d", {"kernel": 2, "stride": 2}),
        ("reshape", {"new_shape": [1, 64]}),
        ("fully_connected", {"units": 10}),
        ("softmax", {}),
    ], seed=8),
}


@pytest.mark.parametrize("case", sorted(QEMU_OP_CASES))
def test_single_op_models_in_qemu(case: str, tmp_path: Path) -> None:
    model = tmp_path / f"{case}.tflite"
    model.write_bytes(QEMU_OP_CASES[case]())
    res = run(RunConfig(model=model, vectors=3, seed=5, runs_dir=tmp_path / "runs",
                        quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert all(c["exact_rate"] == 1.0 for c in _device_vs_ref(res))


def _write(path: Path, model: bytes) -> Path:
    path.write_bytes(model)
    return path


def _unsupported_op_model(path: Path) -> Path:
    """A one-op model with EXP, which no implementation here has."""
    b = synth.ModelBuilder()
    x = b.input([1, 4], 0.1, 0)
    y = b.add_tensor("exp", [1, 4], schema.TensorType.INT8, scale=0.2, zero_point=0)
    b.add_op(schema.BuiltinOperator.EXP, [x], [y], schema.BuiltinOptions.ExpOptions,
             schema.ExpOptionsT())
    return _write(path, b.build(y))


BAD_INPUTS = {
    "missing file": (lambda tmp: tmp / "nope.tflite", ExitCode.MODEL_NOT_FOUND),
    "not a tflite": (lambda tmp: ROOT / "README.md", ExitCode.NOT_A_MODEL),
    "unsupported op": (lambda tmp: _unsupported_op_model(tmp / "exp.tflite"),
                       ExitCode.UNSUPPORTED_OP),
    "float conv model": (lambda tmp: _write(tmp / "conv_f32.tflite", synth_dtypes.one_op(
        "float32", "conv2d", [1, 4, 4, 2], out_channels=2, kernel=3)),
                         ExitCode.UNSUPPORTED_TYPE),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_one_line_error_and_exit_code(name: str, tmp_path: Path) -> None:
    path_of, code = BAD_INPUTS[name]
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--model", str(path_of(tmp_path)),
         "--runs-dir", str(tmp_path / "runs")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    if name == "unsupported op":
        assert "lacks: EXP" in lines[0] and "CONV_2D" in lines[0]


def test_known_wrong_reference_is_not_enforced(tmp_path: Path) -> None:
    model = shared_model("keyword_scrambled_8bit.tflite")
    res = run(RunConfig(model=model, vectors=2, runs_dir=tmp_path / "runs", quiet=True,
                        references=["litert-ref", "numpy-int8"])).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    ref = res["references"]["litert-ref"]
    assert ref["status"] == "unavailable" and "known wrong" in ref["reason"]
    assert res["enforced_reference"] == "numpy-int8"
    assert "known wrong" in res["verdict"]["reason"]
