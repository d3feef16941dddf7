"""`harness merge DIR...`: the matrix folders of a sharded matrix, as one matrix folder.

Each shard (`--shard K/N`, one CI job each) leaves a matrix folder with its cells' run
folders and its matrix.json. Merging checks the folders are shards of one plan, copies
every cell's run folder and log into the merged folder, and writes matrix.json, junit.xml
and matrix.html from the cells' outcomes in plan order: the same `cells` an unsharded run
of the plan writes. A cell no folder ran stays PENDING (say, a shard's job was cancelled),
and the merge exits with the code of the worst cell, as the matrix would have.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.errors import BadInput
from harness.matrix import document
from harness.matrix.outcome import pending
from harness.matrix.plan import Plan, shard
from harness.matrix.run import LOGS, Matrix


def _plan_key(doc: dict[str, Any]) -> dict[str, Any]:
    plan = dict(doc["plan"])
    plan.pop("project", None)  # each CI job's invoke.yaml section; the options decide
    return plan


def _check_shards(folders: list[Path], docs: list[dict[str, Any]]) -> None:
    """Every folder is a shard of one plan, each shard once."""
    first = _plan_key(docs[0])
    for folder, doc in zip(folders[1:], docs[1:], strict=True):
        if _plan_key(doc) != first:
            raise BadInput(f"{folder} ran another plan than {folders[0]} (axes, options or "
                           "places differ)", hint="merge the shards of one matrix")
    seen: dict[str, Path] = {}
    for folder, doc in zip(folders, docs, strict=True):
        which = doc.get("shard") or "the whole matrix"
        if which in seen:
            raise BadInput(f"{folder} and {seen[which]} are both {which}",
                           hint="give each shard's folder once")
        seen[which] = folder


def merge(folders: list[Path], out: Path | None = None, *, quiet: bool = False) -> int:
    """Merge `folders` into `out` (default: beside the first, matrix-merged-<time>);
    the worst cell's exit code."""
    docs = [document.read(f) for f in folders]
    _check_shards(folders, docs)
    plan = Plan.from_dict(docs[0]["plan"])
    out = out or folders[0].parent / f"matrix-merged-{datetime.now():%Y%m%d-%H%M%S}"
    if out.exists() and any(out.iterdir()):
        raise BadInput(f"{out} exists and is not empty", hint="give another --out")
    m = Matrix(out, plan, None, document.now(), merged_from=[str(f) for f in folders])
    m.outcomes = {c.id: pending("not run by any of the merged folders") for c in plan.cells}
    out.mkdir(parents=True, exist_ok=True)
    for folder, doc in zip(folders, docs, strict=True):
        _take(folder, doc, m)
    m.outputs()
    doc = m.doc()
    if not quiet:
        counts = ", ".join(f"{n} {s}" for s, n in doc["summary"].items())
        print(f"merged {len(folders)} folders, {len(plan.cells)} cells ({counts}): "
              f"{out}/matrix.json (also junit.xml, matrix.html)")
    return int(doc["exit_code"])


def _take(folder: Path, doc: dict[str, Any], m: Matrix) -> None:
    """One shard's cells: its outcomes and runs, and a copy of each run folder and log."""
    ids = {c.id for c in shard(m.plan.cells, doc.get("shard"))}
    for cid, outcome in document.outcomes_of(doc).items():
        if cid not in ids:
            raise BadInput(f"{folder}'s matrix.json names a cell {cid} its shard does not have")
        m.outcomes[cid] = outcome if outcome.status != "PENDING" else m.outcomes[cid]
        if cid in (doc.get("runs") or {}):
            m.runs[cid] = doc["runs"][cid]
        if (folder / cid).is_dir():
            shutil.copytree(folder / cid, m.folder / cid, symlinks=True,
                            ignore=shutil.ignore_patterns("*.lock", "*.tmp*"))
        log = folder / LOGS / f"{cid}.log"
        if log.exists():
            (m.folder / LOGS).mkdir(exist_ok=True)
            shutil.copy2(log, m.folder / LOGS / log.name)
