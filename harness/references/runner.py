"""Run a reference in its own process; a crash there is reported, not inherited.

Parent side: `run_reference(name, model, vectors)`. Child side:
`python -m harness.references.runner NAME MODEL IN.npz OUT.npz OPTIONS_JSON`
writes outputs (and, per layer, every activation tensor) or a reason.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ReferenceResult:
    name: str
    status: str  # "ok" | "unavailable" | "failed"
    reason: str = ""
    seconds: float = 0.0
    outputs: list[np.ndarray] = field(default_factory=list)  # stacked, vectors first
    tensors: dict[int, np.ndarray] = field(default_factory=dict)  # per layer, stacked
    real_valued: bool = False
    cached: bool = False  # answered from harness.references.cache

    def __bool__(self) -> bool:
        return self.status == "ok"


def run_reference(name: str, model: Path, vectors: list[np.ndarray], *, per_layer: bool = False,
                  float_model: Path | None = None, timeout: float = 600.0) -> ReferenceResult:
    """Run every vector through reference `name` in a worker process."""
    from harness.references import REFERENCES

    real = REFERENCES[name].real_valued
    start = time.monotonic()
    opts = json.dumps({"per_layer": per_layer,
                       "float_model": str(float_model) if float_model else None})
    with tempfile.TemporaryDirectory(prefix="harness-ref-") as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, *vectors)
        cmd = [sys.executable, "-m", "harness.references.runner", name, str(model), str(src),
               str(dst), opts]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ReferenceResult(name, "failed", f"timed out after {timeout:.0f} s",
                                   time.monotonic() - start)
        seconds = time.monotonic() - start
        meta_path = dst.with_suffix(".json")
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta["status"] != "ok":
                return ReferenceResult(name, meta["status"], meta["reason"], seconds)
        if proc.returncode != 0 or not dst.exists():
            lines = [ln.strip() for ln in proc.stderr.splitlines()
                     if ln.strip() and not ln.startswith(("INFO:", "WARNING:"))]
            if proc.returncode < 0:
                how = f"killed by {signal.Signals(-proc.returncode).name}"
            else:
                how = f"exit {proc.returncode}"
            said = f": {lines[-1][:200]}" if lines else ""
            return ReferenceResult(name, "failed", f"worker crashed ({how}){said}", seconds)
        with np.load(dst) as data:
            outputs = [data[f"out_{i}"] for i in range(sum(k.startswith("out_")
                                                           for k in data.files))]
            tensors = {int(k[2:]): data[k] for k in data.files if k.startswith("t_")}
    return ReferenceResult(name, "ok", "", seconds, outputs, tensors, real)


def _stack(rows: list[dict[int, np.ndarray]]) -> dict[int, np.ndarray]:
    keys = set(rows[0]) if rows else set()
    for r in rows[1:]:
        keys &= set(r)
    return {k: np.stack([r[k] for r in rows]) for k in sorted(keys)}


def _child(name: str, model: str, src: str, dst: str, opts_json: str) -> int:
    from harness.references import REFERENCES
    from harness.references.base import ReferenceUnavailable

    opts = json.loads(opts_json)
    meta = Path(dst).with_suffix(".json")
    cls = REFERENCES[name]
    ref = cls(opts["float_model"]) if name == "float-model" else cls()
    try:
        ref.load(Path(model), per_layer=bool(opts["per_layer"]))
    except ReferenceUnavailable as exc:
        meta.write_text(json.dumps({"status": "unavailable", "reason": str(exc)}))
        return 0
    with np.load(src) as data:
        inputs = [data[f"arr_{i}"] for i in range(len(data.files))]
    count = inputs[0].shape[0] if inputs else 0
    per_output: list[list[np.ndarray]] = []
    per_tensor: list[dict[int, np.ndarray]] = []
    for k in range(count):
        outs = ref.run([a[k] for a in inputs])
        if not per_output:
            per_output = [[] for _ in outs]
        for acc, o in zip(per_output, outs, strict=True):
            acc.append(o)
        if opts["per_layer"]:
            per_tensor.append(ref.tensors())
    arrays = {f"out_{i}": np.stack(acc) for i, acc in enumerate(per_output)}
    arrays.update({f"t_{k}": v for k, v in _stack(per_tensor).items()})
    np.savez(dst, **arrays)
    meta.write_text(json.dumps({"status": "ok", "reason": ""}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:6]))
