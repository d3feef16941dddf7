"""`--resume RUN_DIR`: finish a run that died, keeping every vector already measured.

A run folder holds what is needed: results.json (the configuration), vectors.npz
(the exact inputs) and device_outputs.jsonl (one line per finished vector).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from harness.config import RunConfig
from harness.errors import BadInput

Done = dict[int, tuple[int, list[bytes]]]


def load_run(folder: Path, cfg: RunConfig) -> tuple[RunConfig, list[np.ndarray], Done]:
    """The original config (every recorded option; `cfg` keeps the others), the vectors,
    and {vector: (count, raw outputs)} already done."""
    folder = Path(folder)
    results, vectors_file = folder / "results.json", folder / "vectors.npz"
    if not results.exists() or not vectors_file.exists():
        raise BadInput(f"{folder} is not a run folder (no results.json and vectors.npz)",
                       hint="pass a folder under runs/ made by an earlier run")
    res = json.loads(results.read_text())
    # Folders written before model and target were in `config` hold them elsewhere.
    recorded = {"model": res["model"]["path"], "target": res["target"]["name"],
                **res.get("config", {})}
    cfg = replace(cfg.restore(recorded), resume=folder)
    with np.load(vectors_file) as data:
        vectors = [data[f"arr_{i}"] for i in range(len(data.files))]
    done: Done = {}
    jsonl = folder / "device_outputs.jsonl"
    if jsonl.exists() and not cfg.per_layer:  # per-layer tensors are not kept line by line
        for line in jsonl.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by the crash
            done[int(row["vector"])] = (int(row["count"]),
                                        [bytes.fromhex(h) for h in row["outputs"]])
    if cfg.per_layer and jsonl.exists():
        jsonl.unlink()  # every vector runs again, so its lines are written again
    return cfg, vectors, done
