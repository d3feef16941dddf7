"""harness/matrix/progress.py: a line per cell, the counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.matrix.outcome import from_folder, skipped
from harness.matrix.progress import Progress, cell_line
from harness.report.console import WIDTH
from support.matrix import finished_run


def test_a_cell_line_has_the_figures(tmp_path: Path) -> None:
    finished_run(tmp_path / "c")
    line = cell_line(3, 8, "c", from_folder(tmp_path / "c", "c"), 3.14)
    assert line.startswith("[3/8] DRIFT       c - max |d| 2 LSB (op 5 FULLY_CONNECTED, ")
    assert len(line) <= WIDTH
    assert cell_line(1, 2, "s", skipped("too big", 2), 0.2) == "[1/2] SKIPPED     s - too big"


def test_the_counts(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    finished_run(tmp_path / "c")
    p = Progress(4)
    with p:
        p.kept(skipped("too big", 2))
        p.started("c", None)
        p.started("d", "place-1")
        assert p.summary() == ("4 cells: 1 done (none yet), 2 running, 0 failed, "
                               "1 skipped, 1 waiting")
        p.finished("c", from_folder(tmp_path / "c", "c"), 1.0)
    assert p.summary() == "4 cells: 2 done (1 DRIFT), 1 running, 1 failed, 1 skipped, 1 waiting"
    assert "[2/4] DRIFT" in capsys.readouterr().out


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture) -> None:
    p = Progress(1, quiet=True)
    with p:
        p.finished("s", skipped("too big", 2), None)
    assert capsys.readouterr().out == ""
