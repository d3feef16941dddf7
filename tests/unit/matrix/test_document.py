"""harness/matrix/document.py: matrix.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import BadInput
from harness.matrix import document
from support.matrix import matrix_folder


def test_matrix_json_holds_the_plan_cells_and_summary(tmp_path: Path) -> None:
    m = matrix_folder(tmp_path)
    d = document.read(tmp_path)
    assert d["schema"] == "harness.matrix/1" and d["plan"]["cells"] == 3
    assert [c["id"] for c in d["cells"]] == [c.id for c in m.cells]
    assert d["cells"][1]["status"] == "SKIPPED" and d["cells"][1]["target"] == "cortex-m0"
    assert d["summary"] == {"DRIFT": 2, "SKIPPED": 1} and d["exit_code"] == 1
    assert set(d["runs"]) == {m.cells[0].id, m.cells[2].id}
    assert document.outcomes_of(d) == m.outcomes


@pytest.mark.parametrize("text, message", [(None, "not a matrix folder"),
                                           ("[1", "cannot be read"),
                                           ('{"schema": "x"}', "not a harness.matrix/1")])
def test_what_is_not_a_matrix_folder(tmp_path: Path, text: str | None, message: str) -> None:
    if text is not None:
        (tmp_path / "matrix.json").write_text(text)
    with pytest.raises(BadInput, match=message):
        document.read(tmp_path)
