"""The elementwise ops in QEMU (lowering + kernels): every int8 op, then the int16 ops,
in one chain model each, bit-exact with LiteRT BUILTIN_REF at every layer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.config import RunConfig
from harness.errors import UnsupportedType
from harness.ops.elementwise.spec import SPECS as ELEMENTWISE
from harness.ops.validate import load_model
from harness.run.pipeline import run
from harness.runtimes.builtin.lower import check_supported
from support import synth_elementwise as se


def test_chain_of_every_int8_op_in_qemu(tmp_path: Path) -> None:
    """The firmware (lowering + kernels) in QEMU: every elementwise int8 op in one model,
    bit-exact with LiteRT BUILTIN_REF at every layer."""
    if not shutil.which("qemu-system-arm") or not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("qemu-system-arm / arm-none-eabi-gcc not installed")
    model = tmp_path / "elementwise_chain.tflite"
    model.write_bytes(se.chain_model(1))
    res = run(RunConfig(model=model, runtime="builtin", vectors=3, seed=2, per_layer=True,
                        runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (pair,) = [p for p in res["per_layer"]["pairs"]
               if p["a"] == "device" and p["b"] == "litert-ref"]
    names = {layer["name"] for layer in pair["layers"]}
    # DEQUANTIZE and float QUANTIZE are in test_conversion_qemu.py's conversion chain.
    assert names >= {spec.name for spec in ELEMENTWISE} | {"QUANTIZE"}, names
    assert all(layer["max_abs_lsb"] == 0 for layer in pair["layers"]), pair["layers"]


def test_int16_chain_in_qemu(tmp_path: Path) -> None:
    """The int16 ops end to end, bit-exact at every layer; needs the builtin runtime to
    accept int16 activations (typed arena pointers in the model template)."""
    if not shutil.which("qemu-system-arm") or not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("qemu-system-arm / arm-none-eabi-gcc not installed")
    model = tmp_path / "elementwise_chain16.tflite"
    model.write_bytes(se.chain_model_int16(1))
    try:
        check_supported(load_model(model))
    except UnsupportedType as exc:
        pytest.skip(f"the builtin runtime does not take int16 activations yet: {exc}")
    res = run(RunConfig(model=model, runtime="builtin", vectors=3, seed=4, per_layer=True,
                        runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (pair,) = [p for p in res["per_layer"]["pairs"]
               if p["a"] == "device" and p["b"] == "litert-ref"]
    assert {layer["name"] for layer in pair["layers"]} >= {"ADD", "SUB", "LEAKY_RELU", "RELU",
                                                            "RELU6", "QUANTIZE"}
    assert all(layer["max_abs_lsb"] == 0 for layer in pair["layers"]), pair["layers"]
