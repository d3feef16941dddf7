"""matrix.json (schema `harness.matrix/1`): the plan and every cell's outcome.

`cells` holds only what the cells measured and decided, in matrix order, so a matrix
run in shards and merged (harness/matrix/merge.py) has the same `cells` as one run of
the same plan; what differs between runs (when, how long, which place) is kept apart,
in `created`, `shard`, `merged_from` and `runs`. The matrix.html and the JUnit file are
rendered from this document and the cells' results.json.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import BadInput
from harness.locks import write_atomic
from harness.matrix.outcome import Outcome, exit_code
from harness.matrix.plan import Cell, Plan

SCHEMA = "harness.matrix/1"
FILE = "matrix.json"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def cell_entry(cell: Cell, outcome: Outcome) -> dict[str, Any]:
    """One cell of `cells`: its id, its value on every axis, its outcome."""
    return {"id": cell.id, **cell.values, **outcome.to_dict()}


def document(plan: Plan, cells: list[Cell], outcomes: dict[str, Outcome],
             runs: dict[str, dict[str, Any]], *, created: str, shard: str | None = None,
             merged_from: list[str] | None = None) -> dict[str, Any]:
    """The matrix.json of `cells` (the whole plan, or one shard of it)."""
    ordered = [outcomes[c.id] for c in cells]
    return {"schema": SCHEMA, "harness_version": __version__, "created": created,
            "shard": shard, "merged_from": merged_from, "plan": plan.to_dict(),
            "cells": [cell_entry(c, outcomes[c.id]) for c in cells],
            "summary": dict(sorted(Counter(o.status for o in ordered).items())),
            "exit_code": exit_code(ordered),
            "runs": {c.id: runs[c.id] for c in cells if c.id in runs}}


def write(folder: Path, doc: dict[str, Any]) -> Path:
    return write_atomic(folder / FILE, json.dumps(doc, indent=1) + "\n")


def read(folder: Path) -> dict[str, Any]:
    """A matrix folder's matrix.json; BadInput when it is not one."""
    path = Path(folder) / FILE
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"{folder} is not a matrix folder (no {FILE})",
                       hint="pass a folder made by harness matrix") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path} cannot be read ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or "plan" not in doc:
        raise BadInput(f"{path} is not a {SCHEMA} document")
    return doc


def outcomes_of(doc: dict[str, Any]) -> dict[str, Outcome]:
    """The outcomes a matrix.json records, by cell id."""
    return {c["id"]: Outcome.from_dict(c) for c in doc.get("cells") or []}
