"""results.json: the single source of every other report. Schema in the README."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.analysis.compare import Comparison
from harness.errors import ExitCode

SCHEMA = "harness.results/1"


def _tensor(t: Any) -> dict:
    return {"index": t.index, "name": t.name, "shape": list(t.shape), "dtype": t.dtype,
            "scale": t.scale, "zero_point": t.zero_point}


def new_results(cfg: Any, graph: Any, target: Any, folder: Path, version: str,
                runtime_reason: str = "") -> dict:
    """The skeleton written before any stage runs."""
    return {
        "schema": SCHEMA,
        "harness_version": version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_dir": str(folder),
        "host": {"machine": platform.machine(), "python": platform.python_version(),
                 "cpus": os.cpu_count()},
        # every option that changes results, as declared in harness/config.py
        "config": {**cfg.record(), "runtime_reason": runtime_reason},
        "model": {"path": str(graph.path), "name": graph.name, "sha256": graph.sha256,
                  "ops": [op.name for op in graph.ops],
                  "inputs": [_tensor(t) for t in graph.input_tensors()],
                  "outputs": [_tensor(t) for t in graph.output_tensors()]},
        "target": {"name": target.name, "cpu": target.cpu, "qemu_machine": target.qemu_machine},
        "build": None,
        "references": {},
        "device": {},
        "comparisons": [],
        "verdict": {"status": "INCOMPLETE", "reason": "the run did not finish", "exit_code": None},
        "timings": {},
    }


def build_section(built: Any) -> dict:
    d = asdict(built)
    d["elf"], d["folder"] = str(built.elf), str(built.folder)
    d["seconds"] = round(built.seconds, 3)
    return d


def verdict(comparisons: list[Comparison], own: str, references: dict,
            per_layer: dict | None = None) -> dict:
    """PASS when every enforced comparison holds; DRIFT names the worst failure.

    With per-layer data, the device must also match its own reference at every layer.
    """
    enforced = [c for c in comparisons if c.enforced]
    failed = [c for c in enforced if not c.passed]
    if failed:
        worst = max(failed, key=lambda c: c.max_abs_lsb)
        return {"status": "DRIFT", "reason": str(worst), "exit_code": int(ExitCode.DRIFT)}
    for pair in (per_layer or {}).get("pairs", []):
        first = pair["first_divergence"]
        if pair["a"] == "device" and pair["b"] == own and first:
            return {"status": "DRIFT", "exit_code": int(ExitCode.DRIFT),
                    "reason": f"outputs match {own}, but op {first['op']} ({first['name']}) "
                              f"already differs by up to {first['max_abs_lsb']} LSB"}
    if not enforced:
        why = references.get(own, {}).get("reason") or f"{own} was not among the references"
        return {"status": "UNCHECKED", "reason": f"no enforced reference ran: {why}",
                "exit_code": int(ExitCode.UNCHECKED)}
    names = sorted({c.b for c in enforced})
    return {"status": "PASS", "reason": f"bit-exact within tolerance against {', '.join(names)}",
            "exit_code": int(ExitCode.PASS)}


def write(folder: Path, results: dict) -> Path:
    """Write results.json atomically (a crash never leaves half a file)."""
    path = folder / "results.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, default=_default) + "\n")
    tmp.replace(path)
    return path


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
