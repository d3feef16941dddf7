"""harness/matrix/junit.py: one testsuite per cell."""

from __future__ import annotations

from pathlib import Path

from harness.matrix import junit
from harness.matrix.outcome import failed
from support.matrix import SKIP_REASON, matrix_folder, read
from support.results import check_junit_structure


def test_a_testsuite_per_cell(tmp_path: Path) -> None:
    m = matrix_folder(tmp_path)
    root = check_junit_structure(tmp_path / "junit.xml")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"harness.matrix.{c.id}" for c in m.cells]
    assert suites[0].find("testcase/failure") is not None  # the run's own suite: DRIFT
    (skip,) = suites[1].iter("skipped")
    assert skip.get("message") == f"SKIPPED: {SKIP_REASON}"


def test_a_cell_that_failed_before_its_results_is_an_error(tmp_path: Path) -> None:
    m = matrix_folder(tmp_path)
    m.outcomes[m.cells[1].id] = failed("ERROR", "the cell's process ended (killed)", 6)
    tree = junit.build(tmp_path, m.doc())
    (err,) = tree.getroot().findall("testsuite")[1].iter("error")
    assert err.get("type") == "ERROR" and "killed" in err.get("message")
    assert read(tmp_path)  # still a matrix folder
