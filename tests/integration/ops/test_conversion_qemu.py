"""One QEMU chain with every type conversion, bit-exact with LiteRT BUILTIN_REF."""

from __future__ import annotations

from pathlib import Path

from harness.config import RunConfig
from harness.run.pipeline import run
from support import synth_convert


def test_every_conversion_in_qemu(tmp_path: Path) -> None:
    model = tmp_path / "convert_chain.tflite"
    model.write_bytes(synth_convert.chain_model(seed=2))
    res = run(RunConfig(model=model, vectors=3, seed=4, runs_dir=tmp_path / "runs",
                        quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert res["enforced_reference"] == "litert-ref"
    (cmp,) = [c for c in res["comparisons"] if (c["a"], c["b"]) == ("device", "litert-ref")]
    assert cmp["exact_rate"] == 1.0, cmp
