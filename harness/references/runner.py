"""Run a reference in its own process; a crash there is reported, not inherited.

Parent side: `run_reference(name, model, vectors)`. Child side: `python -m
harness.references.runner NAME MODEL IN.npz OUT.npz` writes outputs or a reason.
"""

from __future__ import annotations

import json
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
    outputs: list[np.ndarray] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.status == "ok"


def run_reference(name: str, model: Path, vectors: list[np.ndarray],
                  timeout: float = 600.0) -> ReferenceResult:
    """Run every vector through reference `name` in a worker process."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="harness-ref-") as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, *vectors)
        cmd = [sys.executable, "-m", "harness.references.runner", name, str(model), str(src),
               str(dst)]
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
            tail = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()][-1:] or ["?"]
            how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
            return ReferenceResult(name, "failed", f"worker crashed ({how}): {tail[0][:200]}",
                                   seconds)
        with np.load(dst) as data:
            outputs = [data[f"arr_{i}"] for i in range(len(data.files))]
    return ReferenceResult(name, "ok", "", seconds, outputs)


def _child(name: str, model: str, src: str, dst: str) -> int:
    from . import REFERENCES
    from .base import ReferenceUnavailable

    meta = Path(dst).with_suffix(".json")
    ref = REFERENCES[name]()
    try:
        ref.load(Path(model))
    except ReferenceUnavailable as exc:
        meta.write_text(json.dumps({"status": "unavailable", "reason": str(exc)}))
        return 0
    with np.load(src) as data:
        inputs = [data[f"arr_{i}"] for i in range(len(data.files))]
    count = inputs[0].shape[0] if inputs else 0
    per_output: list[list[np.ndarray]] = []
    for k in range(count):
        outs = ref.run([a[k] for a in inputs])
        if not per_output:
            per_output = [[] for _ in outs]
        for acc, o in zip(per_output, outs, strict=True):
            acc.append(o)
    np.savez(dst, *[np.stack(acc) for acc in per_output])
    meta.write_text(json.dumps({"status": "ok", "reason": ""}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:5]))
