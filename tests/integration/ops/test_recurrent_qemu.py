"""SVDF and LSTM in QEMU: the state kept across vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

# ---- end to end ------------------------------------------------------------------


@pytest.mark.qemu
def test_chain_model_in_qemu_keeps_state_across_vectors(tmp_path: Path) -> None:
    """LSTM -> RESHAPE -> SVDF built for stm32f4 and run in QEMU: bit-exact with LiteRT
    on every vector, and the state matters (the same input twice gives two answers)."""
    from harness.config import RunConfig
    from harness.run.pipeline import run
    from support.synth_recurrent import chain_model

    model = tmp_path / "recurrent_chain.tflite"
    model.write_bytes(chain_model(4))
    x = np.random.default_rng(0).integers(-128, 128, (1, 4, 6)).astype(np.int8)
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, np.stack([x, x, x]))
    res = run(RunConfig(model=model, inputs=inputs, runs_dir=tmp_path / "runs", quiet=True,
                        references=["litert-ref", "numpy-int8"])).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    cmps = [c for c in res["comparisons"] if c["a"] == "device"]
    assert {c["b"] for c in cmps} == {"litert-ref", "numpy-int8"}
    assert all(c["exact_rate"] == 1.0 for c in cmps)
    dev = np.load(Path(res["run_dir"]) / "outputs_device.npz")["arr_0"]
    assert not np.array_equal(dev[0], dev[1])
