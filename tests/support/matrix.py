"""Matrix folders without running anything: a plan over the example model, and cells
whose run folders hold a results.json (support/results.py) as a finished run leaves it."""

from __future__ import annotations

import json
from pathlib import Path

from harness.matrix import document
from harness.matrix.outcome import from_folder, pending, skipped
from harness.matrix.plan import Plan
from harness.matrix.run import Matrix
from support.paths import EXAMPLE
from support.results import make_results

TARGETS = ["stm32f4", "cortex-m0", "cortex-m55"]
SKIP_REASON = "example_cnn_int8 needs ~30 KB of RAM but cortex-m0 (microbit) has 16 KB"


def plan(targets: list[str] = TARGETS, **options: str) -> Plan:
    return Plan({"models": [str(EXAMPLE)], "targets": list(targets), "runtimes": ["auto"],
                 "kernels": ["reference"]}, dict(options))


def finished_run(folder: Path, status: str = "DRIFT", counter: float | None = 4.7e6) -> None:
    """A run folder as a run that ended with `status` leaves it."""
    folder.mkdir(parents=True)
    res = make_results(verdict={"status": status, "exit_code": 0 if status == "PASS" else 1,
                                "reason": f"{status.lower()} reason"})
    res["device"]["counter"] = {"median": counter, "unit": "instructions"}
    (folder / "results.json").write_text(json.dumps(res))
    (folder / "report.html").write_text("<html></html>")


def matrix_folder(folder: Path, p: Plan | None = None, shard: str | None = None) -> Matrix:
    """A matrix folder whose cells ran: cortex-m0 skipped, the others DRIFT."""
    m = Matrix(folder, p or plan(), shard, "2026-11-29T00:00:00+00:00")
    for cell in m.cells:
        if cell.values["target"] == "cortex-m0":
            m.outcomes[cell.id] = skipped(SKIP_REASON, 2)
            continue
        finished_run(folder / cell.id)
        m.outcomes[cell.id] = from_folder(folder / cell.id, cell.id) or pending()
        m.runs[cell.id] = {"seconds": 1.5, "place": None}
    folder.mkdir(parents=True, exist_ok=True)
    m.outputs()
    return m


def read(folder: Path) -> dict:
    return document.read(folder)
