"""harness/matrix/outcome.py: a cell's figures from its results.json; the worst cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.matrix.outcome import (
    Outcome,
    exit_code,
    failed,
    from_folder,
    pending,
    skipped,
)
from support.matrix import finished_run


def test_a_run_folder_gives_the_grid_figures(tmp_path: Path) -> None:
    finished_run(tmp_path / "c")
    o = from_folder(tmp_path / "c", "c")
    assert (o.status, o.max_abs, o.unit, o.runtime_used) == ("DRIFT", 2, "LSB", "builtin")
    assert (o.first_op, o.first_op_name, o.part) == (5, "FULLY_CONNECTED", "platform")
    assert o.cause == "double vs single rounding"
    assert (o.per_inference, o.counter_unit, o.report) == (4.7e6, "instructions",
                                                           "c/report.html")
    assert Outcome.from_dict(o.to_dict()) == o and o.finished


def test_a_folder_without_results_is_no_outcome(tmp_path: Path) -> None:
    assert from_folder(tmp_path, "x") is None
    (tmp_path / "results.json").write_text("{not json")
    assert from_folder(tmp_path, "x") is None


def o(status: str, code: int | None = None) -> Outcome:
    return skipped("r", 2) if status == "SKIPPED" else failed(status, "r", code)


@pytest.mark.parametrize("statuses, code", [
    ([("PASS", 0), ("SKIPPED", None)], 0),
    ([("PASS", 0), ("UNCHECKED", 7), ("SKIPPED", None)], 7),
    ([("UNCHECKED", 7), ("DRIFT", 1), ("PASS", 0)], 1),
    ([("DRIFT", 1), ("ERROR", 4)], 4),
    ([("ERROR", 3), ("INTERRUPTED", 130)], 130),
    ([("SKIPPED", None), ("SKIPPED", None)], 2),  # nothing could run
    ([], 0),
])
def test_the_exit_code_is_the_worst_cells(statuses: list, code: int) -> None:
    assert exit_code([o(s, c) for s, c in statuses]) == code


def test_a_cell_not_run_is_pending_and_unfinished() -> None:
    assert not pending().finished and exit_code([o("PASS", 0), pending()]) == 130
