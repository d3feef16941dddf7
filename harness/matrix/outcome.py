"""How a cell ended, in the few figures a matrix shows, read from its run's results.json.

A cell that ran has a run folder, and its results.json says everything: the verdict,
the largest |Δ| of the enforced comparisons, the first op where the device part of the
drift chain diverges and its likely cause, the counter per inference. A cell the run's
own checks refused before any work (a model that does not fit the target, an op the
runtime lacks) is SKIPPED with that one-line reason; a cell not run yet is PENDING.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.errors import ExitCode

SKIPPED = "SKIPPED"
PENDING = "PENDING"
FINISHED = ("PASS", "DRIFT", "UNCHECKED", SKIPPED)  # a resumed matrix keeps these
# Worst last: the matrix exits with the code of its worst cell.
SEVERITY = ("PASS", SKIPPED, "UNCHECKED", "DRIFT", "ERROR", "INCOMPLETE", PENDING,
            "INTERRUPTED")
# What the run's checks before any work refuse for the cell's combination alone: the
# options together, the model on this target (memory), the runtime's ops and types.
SKIP_CODES = (ExitCode.BAD_INPUT, ExitCode.UNSUPPORTED_OP, ExitCode.UNSUPPORTED_TYPE)


@dataclass(frozen=True)
class Outcome:
    """A cell's verdict and the figures the grid shows (None: not measured)."""

    status: str
    reason: str
    exit_code: int | None
    runtime_used: str | None = None  # the runtime that ran (auto resolved)
    max_abs: float | None = None  # the enforced comparisons' largest |Δ|
    unit: str | None = None  # of max_abs: LSB (ULP for float outputs)
    first_op: int | None = None  # where the device part diverges first
    first_op_name: str | None = None
    part: str | None = None  # the drift chain's part that names that op and cause
    cause: str | None = None
    per_inference: float | None = None  # the device counter's median per inference
    counter_unit: str | None = None  # instructions (emulators) or cycles (boards)
    report: str | None = None  # report.html, relative to the matrix folder

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__})

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


def skipped(reason: str, code: int) -> Outcome:
    return Outcome(SKIPPED, reason, code)


def pending(reason: str = "not run yet") -> Outcome:
    return Outcome(PENDING, reason, None)


def failed(status: str, reason: str, code: int | None) -> Outcome:
    """A cell that ended before its run folder had a results.json."""
    return Outcome(status, reason, code)


def from_folder(folder: Path, cell_id: str) -> Outcome | None:
    """The outcome a cell's run folder records, or None when it has no readable
    results.json (the run never started writing)."""
    try:
        doc = json.loads((folder / "results.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("verdict"), dict):
        return None
    return from_results(doc, cell_id if (folder / "report.html").exists() else None)


def from_results(doc: dict[str, Any], cell_id: str | None) -> Outcome:
    """The outcome of results.json `doc`; `cell_id`: the folder holding its report.html."""
    v = doc.get("verdict") or {}
    enforced = [c for c in doc.get("comparisons") or [] if c.get("enforced")]
    worst = max(enforced, key=lambda c: c.get("max_abs_lsb") or 0, default=None)
    counter = (doc.get("device") or {}).get("counter") or {}
    part = _device_part(doc)
    first = (part or {}).get("first_divergence") or {}
    return Outcome(
        status=str(v.get("status", "INCOMPLETE")), reason=str(v.get("reason") or ""),
        exit_code=v.get("exit_code"), runtime_used=(doc.get("config") or {}).get("runtime"),
        max_abs=worst.get("max_abs_lsb") if worst else None,
        unit=worst.get("unit", "LSB") if worst else None,
        first_op=first.get("op"), first_op_name=first.get("name"),
        part=part.get("part") if part else None,
        cause=((part or {}).get("cause") or {}).get("id"),
        per_inference=counter.get("median"), counter_unit=counter.get("unit"),
        report=f"{cell_id}/report.html" if cell_id else None)


def _device_part(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The part of the drift chain that ends at the device, when it diverges."""
    for p in (doc.get("attribution") or {}).get("parts") or []:
        if isinstance(p, dict) and p.get("to") == "device" and (
                p.get("max_abs_lsb") or p.get("first_divergence")):
            return p
    return None


def worst(outcomes: list[Outcome]) -> Outcome | None:
    """The cell whose status is worst (the first of those, in matrix order)."""
    rank = {s: i for i, s in enumerate(SEVERITY)}
    return max(outcomes, key=lambda o: rank.get(o.status, len(SEVERITY)), default=None)


def exit_code(outcomes: list[Outcome]) -> int:
    """The matrix's exit code: its worst cell's (0 when every cell passed or was
    skipped; 2 when no cell could run at all)."""
    if outcomes and all(o.status == SKIPPED for o in outcomes):
        return int(ExitCode.BAD_INPUT)
    w = worst(outcomes)
    if w is None or w.status in ("PASS", SKIPPED):
        return 0
    if w.exit_code is not None:
        return int(w.exit_code)
    return int(ExitCode.INTERRUPTED) if w.status in (PENDING, "INTERRUPTED") else int(
        ExitCode.INTERNAL)
