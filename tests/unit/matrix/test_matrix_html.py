"""harness/matrix/html.py: the grid of matrix.html (its layout in Chromium:
tests/integration/matrix/test_matrix.py)."""

from __future__ import annotations

import re
from pathlib import Path

from harness.matrix import html
from support.matrix import SKIP_REASON, matrix_folder, read


def test_the_grid_is_models_by_targets(tmp_path: Path) -> None:
    matrix_folder(tmp_path)
    g = html.grid(read(tmp_path))
    assert [h["label"] for h in g["heads"]] == ["stm32f4", "cortex-m0", "cortex-m55"]
    assert [h["sub"] for h in g["heads"]] == ["auto reference"] * 3
    (row,) = g["rows"]
    assert row["model"] == "example_cnn_int8"
    assert [c["status"] for c in row["cells"]] == ["DRIFT", "SKIPPED", "DRIFT"]


def test_matrix_html_shows_figures_links_and_reasons(tmp_path: Path) -> None:
    m = matrix_folder(tmp_path)
    page = (tmp_path / "matrix.html").read_text()
    assert "<script src" not in page and "<link" not in page  # self-contained
    drift = page[page.index(f'id="cell-{m.cells[0].id}"'):]
    drift = drift[:drift.index("</td>")]
    assert f'href="{m.cells[0].id}/report.html"' in drift
    for text in ("max |Δ| 2 LSB", "op 5 FULLY_CONNECTED: double vs single rounding",
                 "4.70 M instructions/inference"):
        assert text in drift
    skip = page[page.index(f'id="cell-{m.cells[1].id}"'):]
    assert 'data-status="SKIPPED"' in skip[:200]
    assert SKIP_REASON in skip[:skip.index("</td>")]
    assert re.search(r">\s*2 DRIFT</span>", page) and "exit code 1" in page
