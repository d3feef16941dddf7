"""The shape ops end to end: one int8 chain model with every shape op, generated,
cross-compiled, run in QEMU and compared with LiteRT BUILTIN_REF layer by layer.
"""

from __future__ import annotations

from pathlib import Path

from harness.config import RunConfig
from harness.run.pipeline import run
from support.synth_shape import shape_chain

SHAPE_OPS = {"PAD", "PADV2", "STRIDED_SLICE", "TRANSPOSE_CONV", "CONCATENATION", "TRANSPOSE",
             "SQUEEZE", "BATCH_MATMUL", "EXPAND_DIMS", "MEAN"}


def test_shape_chain_bit_exact_in_qemu(tmp_path: Path) -> None:
    model = tmp_path / "shape_chain.tflite"
    model.write_bytes(shape_chain(seed=3))
    res = run(RunConfig(model=model, vectors=3, seed=7, per_layer=True,
                        references=["litert-ref", "numpy-int8"],
                        runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert set(res["model"]["ops"]) >= SHAPE_OPS
    device = [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == "litert-ref"]
    assert device and all(c["exact_rate"] == 1.0 for c in device)
    pairs = [p for p in res["per_layer"]["pairs"] if {p["a"], p["b"]} == {"device", "litert-ref"}]
    assert pairs and len(pairs[0]["layers"]) == len(res["model"]["ops"])
    assert all(layer["max_abs_lsb"] == 0 for layer in pairs[0]["layers"])
