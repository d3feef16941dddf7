"""report.html as a reader sees it, in headless Chromium at 1400 and at 800 pixels wide:
the answer (verdict, attribution summary, first plot) above the fold of a 1400 x 900
window, the sections in the issue's order, nothing that scrolls the page sideways (a
wide table scrolls inside its own box), and screenshots whose pixels agree.

The DRIFT report comes from a real run with single rounding built into the kernels and
per-layer capture (the README's screenshot is one of these).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.report.html import SECTIONS, write_html
from support.browser import Layout, measure, need_chromium
from support.png import read_rows, size
from support.results import make_results

FOLD = (1400, 900)
VERDICT_RED = (0xCF, 0x22, 0x2E)  # html.VERDICT_COLOURS["DRIFT"], the badge's background
ORDER = ["drift", "enforced", "per-layer", "pairs", "facts", "device"]  # the order


@pytest.fixture(scope="module")
def drift_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from harness.config import RunConfig
    from harness.run.pipeline import run

    need_chromium()
    runs = tmp_path_factory.mktemp("runs")
    res = run(RunConfig(rounding="single", per_layer=True, runs_dir=runs, quiet=True))
    assert res.verdict.status == "DRIFT", res.verdict.reason
    return res.run_dir / "report.html"


@pytest.fixture(scope="module")
def plain_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report without attribution or per-layer data: the enforced plots come first."""
    need_chromium()
    return write_html(make_results(attribution=None, per_layer=None),
                      tmp_path_factory.mktemp("plain"))


def _inside(rect: dict, height: int) -> bool:
    return rect is not None and rect["height"] > 0 and 0 <= rect["top"] and rect["bottom"] <= height


def _nothing_sideways(lay: Layout, width: int) -> None:
    p = lay.probe
    assert p["viewport"][0] == width
    assert p["page_width"] <= p["client_width"] == width, "the page scrolls sideways"
    for t in p["tables"]:  # fits the page, or scrolls inside its own box
        assert t["right"] <= width + 0.5, t
        assert t["in_box"] or t["width"] <= width, t


def _pixel(lay: Layout, rect: dict) -> tuple[int, ...]:
    """The screenshot's colour 5 px into `rect`, half-way down: in the badge's padding,
    clear of its text (device pixel ratio 1)."""
    x, y = int(rect["left"]) + 5, int((rect["top"] + rect["bottom"]) / 2)
    return tuple(int(v) for v in read_rows(lay.screenshot, y + 1)[y, x])


@pytest.mark.parametrize("width", [1400, 800])
def test_drift_report_layout(drift_report: Path, width: int, tmp_path: Path) -> None:
    lay = measure(drift_report, width, FOLD[1], tmp_path)
    p = lay.probe
    assert p["sections"] == ORDER == [s.id for s in SECTIONS]
    assert "device-details" not in p["open_details"]  # diagnostics start collapsed
    _nothing_sideways(lay, width)
    assert size(lay.screenshot) == (width, FOLD[1])
    assert _inside(p["verdict"], FOLD[1]) and _pixel(lay, p["verdict"]) == VERDICT_RED
    if width == FOLD[0]:
        assert p["first_plot_id"] == "plot-attribution"
        for what in ("verdict", "reason", "summary", "first_plot"):
            assert _inside(p[what], FOLD[1]), (what, p[what])
        # The attribution chart is on screen: its bars (svg.py RED) are in the pixels.
        r = p["first_plot"]
        rows = read_rows(lay.screenshot, int(r["bottom"]))[int(r["top"]):, int(r["left"]):
                                                           int(r["right"])]
        assert np.all(rows == VERDICT_RED, axis=-1).sum() > 1000


@pytest.mark.parametrize("width", [1400, 800])
def test_report_without_attribution_leads_with_the_enforced_plots(plain_report: Path,
                                                                  width: int,
                                                                  tmp_path: Path) -> None:
    lay = measure(plain_report, width, FOLD[1], tmp_path)
    p = lay.probe
    _nothing_sideways(lay, width)
    assert p["first_plot_id"] == "plot-hist-0" and p["summary"] is None
    if width == FOLD[0]:
        assert _inside(p["verdict"], FOLD[1]) and _inside(p["first_plot"], FOLD[1])
