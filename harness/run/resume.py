"""`--resume RUN_DIR`: finish a run that died, keeping every vector already measured.

A run folder holds what is needed: results.json (written before the first stage and
after each: the configuration, the model's hash, the vectors' hash, the build id),
vectors.npz (the exact inputs) and device_outputs.jsonl (one line per finished
vector). A resume cannot mix two runs: it refuses a folder that another process
holds (the pipeline locks it), options given again with other values, a model or
vectors file that changed, and (pipeline) a firmware with another build id. A
finished run is not run again. A record cut short by a crash is dropped, so each
vector is measured exactly once.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.config import BY_NAME, RunConfig
from harness.errors import BadInput
from harness.locks import write_atomic

Done = dict[int, tuple[int, list[bytes]]]
JSONL = "device_outputs.jsonl"
FINISHED = ("PASS", "DRIFT", "UNCHECKED")  # verdicts of a run that ran to its end


@dataclass
class Resumed:
    """A run folder read back for --resume."""

    folder: Path
    cfg: RunConfig  # the recorded options over the ones given now
    recorded: dict[str, Any]  # its results.json
    vectors: list[np.ndarray] = field(default_factory=list)
    done: Done = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.recorded.get("verdict", {}).get("status") in FINISHED

    def check_model(self, sha256: str) -> None:
        """Refuse a model file that is not the one the run measured."""
        was = self.recorded.get("model", {}).get("sha256")
        if was and was != sha256:
            raise BadInput(f"the model changed since {self.folder} was run: "
                           f"{self.cfg.model} has sha256 {sha256[:16]}, the run measured "
                           f"{was[:16]}", hint="put the original model back, or start a new run")

    def check_build(self, build_id: str) -> None:
        """Refuse a firmware other than the one the run's vectors ran on."""
        was = (self.recorded.get("build") or {}).get("build_id")
        if was and build_id and was != build_id:
            raise BadInput(f"the firmware changed since {self.folder} was run: build "
                           f"{build_id}, the run measured build {was}",
                           hint="the harness, the TFLM tree or an option changed; start a "
                                "new run")


def vectors_hash(vectors: list[np.ndarray]) -> str:
    """sha256 of the vectors: dtype, shape and bytes of each input's array."""
    h = hashlib.sha256()
    for v in vectors:
        h.update(f"{v.dtype}{v.shape}".encode() + np.ascontiguousarray(v).tobytes())
    return h.hexdigest()


def vectors_section(vectors: list[np.ndarray]) -> dict[str, Any]:
    """results.json's `vectors`: how many, and their hash (checked by --resume)."""
    return {"count": int(vectors[0].shape[0]) if vectors else 0,
            "sha256": vectors_hash(vectors)}


_NEEDED = (("model", "path"), ("model", "outputs"), ("target", "name"), ("verdict", "status"))


def _read_results(folder: Path) -> dict[str, Any]:
    results = folder / "results.json"
    if not results.is_file() or not (folder / "vectors.npz").is_file():
        raise BadInput(f"{folder} is not a run folder (no results.json and vectors.npz)",
                       hint="pass a folder under runs/ made by an earlier run")
    try:
        doc = json.loads(results.read_text())
        missing = [f"{s}.{k}" for s, k in _NEEDED
                   if not isinstance(doc.get(s), dict) or k not in doc[s]]
    except (OSError, ValueError, AttributeError) as exc:
        missing = [f"{type(exc).__name__}: {exc}"]
    if missing:
        raise BadInput(f"{results} is damaged ({', '.join(missing)})",
                       hint="it cannot be resumed; start a new run")
    return doc


def _read_vectors(folder: Path, recorded: dict[str, Any]) -> list[np.ndarray]:
    path = folder / "vectors.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = [data[f"arr_{i}"] for i in range(len(data.files))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise BadInput(f"{path} is damaged ({type(exc).__name__}: {exc})",
                       hint="it cannot be resumed; start a new run") from None
    want = (recorded.get("vectors") or {}).get("sha256")
    if want and vectors_hash(vectors) != want:
        raise BadInput(f"{path} changed since the run started (its sha256 differs from "
                       "results.json's)", hint="it cannot be resumed; start a new run")
    if not vectors:
        raise BadInput(f"{path} holds no vectors", hint="start a new run")
    return vectors


def _check_given(cfg: RunConfig, recorded: dict[str, Any], given: Collection[str]) -> None:
    """Options given with --resume must agree with the recorded ones: refused, not
    silently replaced."""
    for name in given:
        opt = BY_NAME[name]
        if not opt.recorded or name not in recorded:
            continue
        try:
            was = opt.read(recorded[name])
        except BadInput:
            continue  # an old value the options no longer take: nothing to compare
        now = getattr(cfg, name)
        if now != was:
            raise BadInput(f"{opt.label} {_show(now)} differs from the {_show(was)} that "
                           f"{cfg.resume} was run with",
                           hint=f"--resume keeps the run's options: drop {opt.label}, or "
                                "start a new run")


def _show(value: Any) -> str:
    """An option's value as it is written on the command line."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "(none)"
    if isinstance(value, list):
        return ",".join(value) or "(none)"
    return str(value)


def _outputs_bytes(recorded: dict[str, Any]) -> list[int]:
    """Bytes of each model output, from results.json's `model` section."""
    return [int(np.prod(t["shape"], dtype=np.int64)) * np.dtype(t["dtype"]).itemsize
            for t in recorded["model"]["outputs"]]


def _record(line: str, count: int, sizes: list[int]) -> tuple[int, int, list[bytes]] | None:
    """(vector, count, outputs) of one jsonl line; None for a line cut short or wrong."""
    try:
        row = json.loads(line)
        k, n = int(row["vector"]), int(row["count"])
        outs = [bytes.fromhex(h) for h in row["outputs"]]
    except (ValueError, KeyError, TypeError):
        return None
    if not 0 <= k < count or [len(o) for o in outs] != sizes:
        return None
    return k, n, outs


def _measured(folder: Path, count: int, recorded: dict[str, Any]) -> Done:
    """The vectors device_outputs.jsonl holds, each once; the file is rewritten with
    just those lines, so a line cut short by a crash never joins the next one."""
    jsonl = folder / JSONL
    if not jsonl.exists():
        return {}
    sizes = _outputs_bytes(recorded)
    done: Done = {}
    kept = []
    for line in jsonl.read_text(errors="replace").splitlines():
        rec = _record(line, count, sizes)
        if rec is not None and rec[0] not in done:
            done[rec[0]] = (rec[1], rec[2])
            kept.append(line + "\n")
    write_atomic(jsonl, "".join(kept))
    return done


def _remove_temporaries(folder: Path) -> None:
    """Half-written files of a run that died while writing them (the folder is ours)."""
    for entry in folder.glob("*.tmp*"):
        if entry.is_file():
            entry.unlink(missing_ok=True)


def load_run(folder: Path, cfg: RunConfig, given: Collection[str] = ()) -> Resumed:
    """Read run folder `folder` (its lock held by the caller): the original config (every
    recorded option; `cfg` keeps the others), the vectors, and the vectors already
    measured. `given`: the options given on this command line, checked against the
    recorded ones. A finished run is returned as it is (`Resumed.finished`)."""
    folder = Path(folder)
    doc = _read_results(folder)
    # Folders written before model and target were in `config` hold them elsewhere.
    recorded = {"model": doc["model"]["path"], "target": doc["target"]["name"],
                **doc.get("config", {})}
    if doc["verdict"]["status"] in FINISHED:
        return Resumed(folder, cfg, doc)
    _check_given(replace(cfg, resume=folder), recorded, given)
    cfg = replace(cfg.restore(recorded), resume=folder)
    vectors = _read_vectors(folder, doc)
    _remove_temporaries(folder)
    if cfg.per_layer:  # per-layer tensors are not kept line by line: every vector again
        (folder / JSONL).unlink(missing_ok=True)
        return Resumed(folder, cfg, doc, vectors)
    return Resumed(folder, cfg, doc, vectors, _measured(folder, len(vectors[0]), doc))
