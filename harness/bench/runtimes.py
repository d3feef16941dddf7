"""builtin against tflm: the same model, target and vectors on both runtimes.

Figures per runtime: the device's instructions per inference (QEMU -icount),
arena bytes (builtin: the host-planned arena; tflm: the device's
arena_used_bytes) and flash bytes of the ELF; and whether the two devices'
outputs are bit-exact. Where they differ, both are re-run with --per-layer
and the first differing op is named.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from harness.config import RunConfig
from harness.ops.validate import load_model
from harness.run.pipeline import run
from harness.run.result import RunResult


def _run(model: Path, runtime: str, vectors: int, runs: Path, tflm_dir: Path | None,
         target: str, per_layer: bool = False) -> RunResult:
    refs = ["tflm-host"] if runtime == "tflm" else ["litert-ref", "numpy-int8"]
    return run(RunConfig(model=model, runtime=runtime, tflm_dir=tflm_dir, vectors=vectors,
                         seed=7, runs_dir=runs, quiet=True, references=refs, target=target,
                         per_layer=per_layer))


def _outputs(res: RunResult) -> list[np.ndarray]:
    with np.load(res.run_dir / "outputs_device.npz") as d:
        return [d[k] for k in sorted(d.files)]


def _first_layer_difference(model: Path, vectors: int, runs: Path, tflm_dir: Path | None,
                            target: str) -> str:
    """Re-run both per layer and name the first op whose output differs."""
    a = _run(model, "builtin", vectors, runs, tflm_dir, target, per_layer=True)
    b = _run(model, "tflm", vectors, runs, tflm_dir, target, per_layer=True)
    ta = np.load(a.run_dir / "tensors_device.npz")
    tb = np.load(b.run_dir / "tensors_device.npz")
    for op in load_model(model).ops:
        key = f"t_{op.outputs[0]}"
        if key in ta.files and key in tb.files:
            d = int(np.abs(ta[key].astype(np.int64) - tb[key].astype(np.int64)).max())
            if d:
                return f"first differs at op {op.index} {op.name} (max {d} LSB)"
    return "no op output differs"


def compare_runtimes(model: Path, vectors: int, tflm_dir: Path | None, target: str) -> dict:
    """Both runtimes on one model: the figures and the agreement."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        rows = {}
        for runtime in ("builtin", "tflm"):
            res = _run(model, runtime, vectors, runs, tflm_dir, target)
            info = res.device["info"]
            rows[runtime] = {
                "verdict": str(res.verdict.status),
                "instructions": res.device["counter"]["median"],
                "arena": int(info.get("arena_used_bytes") or info.get("arena_used") or 0),
                "flash": res.build["flash_bytes"],
                "outputs": _outputs(res),
            }
        diff = max(int(np.abs(a.astype(np.int64) - b.astype(np.int64)).max())
                   for a, b in zip(rows["builtin"]["outputs"], rows["tflm"]["outputs"],
                                   strict=True))
        where = ("" if diff == 0 else
                 _first_layer_difference(model, vectors, runs, tflm_dir, target))
    return {"model": model.name, "rows": rows, "max_diff": diff, "where": where}


def table(results: list[dict], target: str) -> str:
    """The markdown table of `compare` results."""
    lines = [f"| model ({target}) | runtime | instructions/inference | arena B | flash B | "
             "verdict | builtin vs tflm |", "|---|---|---|---|---|---|---|"]
    for r in results:
        agree = "bit-exact" if r["max_diff"] == 0 else f"max {r['max_diff']} LSB; {r['where']}"
        for runtime, row in r["rows"].items():
            lines.append(f"| {r['model']} | {runtime} | {row['instructions']:,} | "
                         f"{row['arena']:,} | {row['flash']:,} | {row['verdict']} | {agree} |")
    return "\n".join(lines)
