"""Emulated runs: inputs by semihosting, not the UART; instruction counts from -icount."""

from __future__ import annotations

from pathlib import Path

from harness.config import RunConfig
from harness.run.pipeline import run
from support import synth
from support.paths import EXAMPLE


def test_inputs_bypass_the_uart_and_results_stay_exact(tmp_path: Path) -> None:
    res = run(RunConfig(model=EXAMPLE, vectors=4, runs_dir=tmp_path, quiet=True,
                        references=["litert-ref"])).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    assert res["device"]["info"]["semihosting"] == "1"
    input_bytes = 4 * 32 * 32
    # Only requests cross the UART host->device: far fewer bytes than the inputs.
    assert res["device"]["link"]["bytes_sent"] < input_bytes / 4
    assert (Path(res["run_dir"]) / "hx_inputs.bin").stat().st_size == input_bytes


def test_instruction_counts_scale_with_the_work(tmp_path: Path) -> None:
    """A conv over 4x the pixels must count about 4x the instructions."""
    medians = []
    for side in (8, 16):
        model = tmp_path / f"conv{side}.tflite"
        model.write_bytes(synth.conv2d((1, side, side, 4), 8, (3, 3), padding="VALID", seed=3))
        res = run(RunConfig(model=model, vectors=2, runs_dir=tmp_path / "runs", quiet=True,
                            references=["litert-ref"])).to_dict()
        counter = res["device"]["counter"]
        assert counter["unit"] == "instructions" and "icount" in counter["how"]
        medians.append(counter["median"])
    ratio = medians[1] / medians[0]
    # (16-2)^2 / (8-2)^2 = 5.4 output pixels ratio; fixed per-call overhead pulls it down.
    assert 3.5 < ratio < 6.0, (medians, ratio)
