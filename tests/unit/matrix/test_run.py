"""harness/matrix/run.py: a matrix from its options, --resume, the folder's lock."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.locks import lock_folder
from harness.matrix import run
from harness.matrix.run import matrix_from_options, reopen, run_matrix
from support.matrix import matrix_folder
from support.paths import EXAMPLE


def test_a_new_matrix_is_checked_before_any_cell(tmp_path: Path) -> None:
    m, jobs = matrix_from_options({"models": str(EXAMPLE), "targets": "stm32f4,cortex-m55",
                                   "jobs": "3", "out": str(tmp_path / "m"), "vectors": "2"})
    assert jobs == 3 and len(m.cells) == 2 and m.folder == tmp_path / "m"
    assert {o.status for o in m.outcomes.values()} == {"PENDING"}
    with pytest.raises(BadInput, match="--vectors"):
        matrix_from_options({"models": str(EXAMPLE), "vectors": "lots"})
    with pytest.raises(BadInput, match="unknown target .pdp-11."):
        matrix_from_options({"targets": "pdp-11"})


def test_resume_keeps_the_plan(tmp_path: Path) -> None:
    matrix_folder(tmp_path / "m")
    with pytest.raises(BadInput, match="--resume keeps the matrix's plan: targets, vectors"):
        matrix_from_options({"resume": str(tmp_path / "m"), "targets": "stm32f4",
                             "vectors": "3"})


def test_resume_keeps_finished_cells_and_resumes_unfinished_runs(tmp_path: Path) -> None:
    whole = matrix_folder(tmp_path)
    last = whole.cells[2]
    results = tmp_path / last.id / "results.json"
    doc = json.loads(results.read_text())
    doc["verdict"]["status"] = "INTERRUPTED"
    results.write_text(json.dumps(doc))
    m = reopen(tmp_path)
    assert [m.outcomes[c.id].status for c in m.cells] == ["DRIFT", "SKIPPED", "INTERRUPTED"]
    assert [m.outcomes[c.id].finished for c in m.cells] == [True, True, False]
    assert m.job(last).resume and m.resumed


def test_a_folder_in_use_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matrix_folder(tmp_path)
    monkeypatch.setattr(run, "LOCK_WAIT_S", 0.3)
    fd = lock_folder(tmp_path)
    try:
        with pytest.raises(BadInput, match="in use by another harness matrix"):
            run_matrix(reopen(tmp_path), jobs=1, quiet=True)
    finally:
        os.close(fd)


def test_a_finished_matrix_resumed_runs_nothing(tmp_path: Path, capsys) -> None:
    matrix_folder(tmp_path)
    assert run_matrix(reopen(tmp_path), jobs=1) == 1
    out = capsys.readouterr().out
    assert "3 cells, 0 to run" in out and "3 done (2 DRIFT)" in out
