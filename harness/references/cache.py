"""Cache reference results, so an identical re-run does not recompute them.

A reference is deterministic for a given model, vectors and options, and for
the code that computes it: the key hashes the reference name, the model and
float-model bytes, the vectors, the options, the installed versions of the
reference libraries and every source file of harness/ (so any change to the
harness's own NumPy references invalidates the cache). Failed runs are never
cached. HARNESS_NO_REF_CACHE=1 turns the cache off.

Each entry is a folder `<name>-<key>/` (meta.json, outputs.npz) that appears in one
rename, so a reader never sees half of one; a damaged entry is computed again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from harness.locks import exclusive, install_folder, lock_file
from harness.references.runner import ReferenceResult, run_reference
from harness.runtimes.build import CACHE_DIR

PACKAGES = ("ai-edge-litert", "tflite-micro", "numpy")
_HARNESS = Path(__file__).resolve().parents[1]
_CODE_HASH: list[str] = []


def _code_hash() -> str:
    if not _CODE_HASH:
        h = hashlib.sha256()
        for path in sorted(_HARNESS.rglob("*.py")):
            h.update(path.read_bytes())
        for pkg in PACKAGES:
            try:
                h.update(f"{pkg}={importlib.metadata.version(pkg)}".encode())
            except importlib.metadata.PackageNotFoundError:
                h.update(f"{pkg}=none".encode())
        _CODE_HASH.append(h.hexdigest())
    return _CODE_HASH[0]


def cache_key(name: str, model: Path, vectors: list[np.ndarray], per_layer: bool,
              float_model: Path | None) -> str:
    """The key of one reference run."""
    h = hashlib.sha256(f"{name}\0{int(per_layer)}\0{_code_hash()}".encode())
    h.update(Path(model).read_bytes())
    if float_model:
        h.update(Path(float_model).read_bytes())
    for v in vectors:
        h.update(f"{v.dtype}{v.shape}".encode() + np.ascontiguousarray(v).tobytes())
    return h.hexdigest()[:24]


def _load(entry: Path, name: str) -> ReferenceResult | None:
    """The cached result in folder `entry`, or None (missing, or damaged: recomputed)."""
    try:
        m = json.loads((entry / "meta.json").read_text())
        if m["status"] != "ok":
            return ReferenceResult(name, m["status"], m["reason"], 0.0, real_valued=m["real"])
        with np.load(entry / "outputs.npz", allow_pickle=False) as d:
            outs = [d[f"out_{i}"] for i in range(sum(k.startswith("out_") for k in d.files))]
            tensors = {int(k[2:]): d[k] for k in d.files if k.startswith("t_")}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None
    return ReferenceResult(name, "ok", "", 0.0, outs, tensors, m["real"], cached=True)


def _store(tmp: Path, r: ReferenceResult) -> None:
    """Fill a new cache entry folder (renamed into place by publish_folder)."""
    tmp.mkdir(parents=True)
    if r.status == "ok":
        arrays = {f"out_{i}": o for i, o in enumerate(r.outputs)}
        arrays.update({f"t_{k}": v for k, v in r.tensors.items()})
        np.savez(tmp / "outputs.npz", **arrays)
    (tmp / "meta.json").write_text(json.dumps({"status": r.status, "reason": r.reason,
                                               "real": r.real_valued}))


def run_reference_cached(name: str, model: Path, vectors: list[np.ndarray], *,
                         per_layer: bool = False, float_model: Path | None = None,
                         cache_dir: Path | None = None) -> ReferenceResult:
    """run_reference, answered from the cache when this exact run was done before.

    Several processes asking for the same entry at once compute it once: the others
    wait for its lock and read it (harness/locks.py). Failed runs are not cached."""
    if os.environ.get("HARNESS_NO_REF_CACHE") == "1":
        return run_reference(name, model, vectors, per_layer=per_layer, float_model=float_model)
    entry = (cache_dir or CACHE_DIR / "references") / \
        f"{name}-{cache_key(name, model, vectors, per_layer, float_model)}"
    found = _load(entry, name)
    if found is not None:
        return found
    with exclusive(lock_file(entry)):
        found = _load(entry, name)
        if found is not None:
            return found
        r = run_reference(name, model, vectors, per_layer=per_layer, float_model=float_model)
        if r.status in ("ok", "unavailable"):
            install_folder(entry, lambda tmp: _store(tmp, r))
    return r
