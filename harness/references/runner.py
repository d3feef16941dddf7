"""Run a reference in its own process; a crash there is reported, not inherited.

Parent side: `run_reference(name, model, vectors)`. Child side:
`python -m harness.references.runner NAME MODEL OPTIONS_JSON` reads the vectors (.npz)
on stdin and writes outputs (and, per layer, every activation tensor), or the reason
it cannot run the model, as one .npz on stdout.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from harness.children import kill_group, reaped, spawn


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


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def run_reference(name: str, model: Path, vectors: list[np.ndarray], *, per_layer: bool = False,
                  float_model: Path | None = None, timeout: float = 600.0) -> ReferenceResult:
    """Run every vector through reference `name` in a worker process.

    The vectors go to the worker on its stdin and its results come back on its stdout
    (both .npz), so nothing is left on disk whatever happens to either process; the
    worker dies with the harness (harness/children.py)."""
    from harness.references import REFERENCES

    real = REFERENCES[name].real_valued
    start = time.monotonic()
    opts = json.dumps({"per_layer": per_layer,
                       "float_model": str(float_model) if float_model else None})
    cmd = [sys.executable, "-m", "harness.references.runner", name, str(model), opts]
    with reaped(spawn(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)) as proc:
        try:
            out, err = proc.communicate(_npz({f"arr_{i}": v for i, v in enumerate(vectors)}),
                                        timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return ReferenceResult(name, "failed", f"timed out after {timeout:.0f} s",
                                   time.monotonic() - start)
    seconds = time.monotonic() - start
    data = _read_answer(out) if proc.returncode == 0 else None
    if data is None:
        return ReferenceResult(name, "failed", _crash(proc.returncode, err), seconds)
    meta = json.loads(str(data.pop("meta")))
    if meta["status"] != "ok":
        return ReferenceResult(name, meta["status"], meta["reason"], seconds)
    outputs = [data[f"out_{i}"] for i in range(sum(k.startswith("out_") for k in data))]
    tensors = {int(k[2:]): v for k, v in data.items() if k.startswith("t_")}
    return ReferenceResult(name, "ok", "", seconds, outputs, tensors, real)


def _read_answer(out: bytes) -> dict[str, np.ndarray] | None:
    """The worker's .npz answer, or None if it is not a whole one."""
    try:
        with np.load(io.BytesIO(out), allow_pickle=False) as d:
            data = {k: d[k] for k in d.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    return data if "meta" in data else None


def _crash(returncode: int, stderr: bytes) -> str:
    """Why a worker gave no answer, for the report."""
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines()
             if ln.strip() and not ln.startswith(("INFO:", "WARNING:"))]
    if returncode < 0:
        how = f"killed by {signal.Signals(-returncode).name}"
    else:
        how = f"exit {returncode}"
    said = f": {lines[-1][:200]}" if lines else ""
    return f"worker crashed ({how}){said}"


def _stack(rows: list[dict[int, np.ndarray]]) -> dict[int, np.ndarray]:
    keys = set(rows[0]) if rows else set()
    for r in rows[1:]:
        keys &= set(r)
    return {k: np.stack([r[k] for r in rows]) for k in sorted(keys)}


def _child(name: str, model: str, opts_json: str, answer: BinaryIO, inputs: BinaryIO) -> int:
    """The worker: vectors from `inputs`, the .npz answer (outputs, tensors and a
    `meta` status) to `answer`."""
    from harness.references import REFERENCES
    from harness.references.base import ReferenceUnavailable

    opts = json.loads(opts_json)
    cls = REFERENCES[name]
    ref = cls(opts["float_model"]) if name == "float-model" else cls()
    try:
        ref.load(Path(model), per_layer=bool(opts["per_layer"]))
    except ReferenceUnavailable as exc:
        answer.write(_npz({"meta": np.array(json.dumps({"status": "unavailable",
                                                         "reason": str(exc)}))}))
        return 0
    with np.load(io.BytesIO(inputs.read()), allow_pickle=False) as data:
        vectors = [data[f"arr_{i}"] for i in range(len(data.files))]
    count = vectors[0].shape[0] if vectors else 0
    per_output: list[list[np.ndarray]] = []
    per_tensor: list[dict[int, np.ndarray]] = []
    for k in range(count):
        outs = ref.run([a[k] for a in vectors])
        if not per_output:
            per_output = [[] for _ in outs]
        for acc, o in zip(per_output, outs, strict=True):
            acc.append(o)
        if opts["per_layer"]:
            per_tensor.append(ref.tensors())
    arrays = {f"out_{i}": np.stack(acc) for i, acc in enumerate(per_output)}
    arrays.update({f"t_{k}": v for k, v in _stack(per_tensor).items()})
    arrays["meta"] = np.array(json.dumps({"status": "ok", "reason": ""}))
    answer.write(_npz(arrays))
    return 0


def _worker_main(argv: list[str]) -> int:
    # The answer goes to the original stdout; whatever the libraries print (C code
    # writing to fd 1) goes to stderr instead, so it cannot corrupt the answer.
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with answer:
        return _child(*argv[:3], answer=answer, inputs=sys.stdin.buffer)


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
