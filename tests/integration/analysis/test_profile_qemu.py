"""`--profile`: per-op counts from the device (builtin stepping; tflm's profiler)."""

from __future__ import annotations

from pathlib import Path

from harness.config import RunConfig
from harness.run.pipeline import run
from support.paths import EXAMPLE, tflm_tree


def _check_profile(res: dict) -> None:
    rows = res["device"]["profile"]
    ops = res["model"]["ops"]
    assert [r["name"] for r in rows] == ops
    assert rows[0]["unit"] == "instructions"  # QEMU -icount: never called cycles
    # The per-op counts add up to the whole inference (stepping adds a little per call).
    total = sum(r["median"] for r in rows)
    whole = res["device"]["counter"]["median"]
    assert 0.9 * whole <= total <= 1.1 * whole, (total, whole)
    conv = next(r for r in rows if r["name"] == "CONV_2D")
    assert conv["median"] == max(r["median"] for r in rows)  # the 3x3 conv dominates
    assert abs(sum(r["share"] for r in rows) - 1) < 0.01


def test_builtin_profile_counts_every_op(runs_dir: Path) -> None:
    res = run(RunConfig(model=EXAMPLE, runtime="builtin", vectors=2, runs_dir=runs_dir,
                        quiet=True, profile=True, references=["litert-ref"])).to_dict()
    assert res["verdict"]["status"] == "PASS"
    _check_profile(res)


def test_tflm_profile_counts_every_op(runs_dir: Path) -> None:
    res = run(RunConfig(model=EXAMPLE, runtime="tflm", tflm_dir=tflm_tree(), vectors=2,
                        runs_dir=runs_dir, quiet=True, profile=True,
                        references=["tflm-host"])).to_dict()
    assert res["verdict"]["status"] == "PASS"
    _check_profile(res)
