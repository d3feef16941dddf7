"""`--resume RUN_DIR`: finish a run that died, keeping every vector already measured.

A run folder holds what is needed: results.json (the configuration), vectors.npz
(the exact inputs) and device_outputs.jsonl (one line per finished vector).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from harness.errors import BadInput

Done = dict[int, tuple[int, list[bytes]]]


def load_run(folder: Path, cfg: Any) -> tuple[Any, list[np.ndarray], Done]:
    """The original config, the vectors, and {vector: (count, raw outputs)} already done."""
    folder = Path(folder)
    results, vectors_file = folder / "results.json", folder / "vectors.npz"
    if not results.exists() or not vectors_file.exists():
        raise BadInput(f"{folder} is not a run folder (no results.json and vectors.npz)",
                       hint="pass a folder under runs/ made by an earlier run")
    res = json.loads(results.read_text())
    c = res.get("config", {})
    cfg = replace(
        cfg, model=Path(res["model"]["path"]), target=res["target"]["name"],
        runtime=c.get("runtime", cfg.runtime),
        tflm_dir=Path(c["tflm_dir"]) if c.get("tflm_dir") else cfg.tflm_dir,
        vectors=int(c.get("vectors", cfg.vectors)),
        seed=int(c.get("seed", cfg.seed)), references=list(c.get("references", cfg.references)),
        tolerances=dict(c.get("tolerances", {})), rounding=c.get("rounding", cfg.rounding),
        per_layer=bool(c.get("per_layer", False)), profile=bool(c.get("profile", False)),
        float_model=Path(c["float_model"]) if c.get("float_model") else None,
        inputs=None, resume=folder)
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
