"""report.html (harness/report/html.py), made from the results.json dict only: every
section and plot, damaged input, and the page in headless Chromium. Also that neither
report changes the dict.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import signal
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.report.html import render_html, write_html
from harness.report.junit import write_junit
from support.results import check_junit_structure, make_results

CHROMIUM = Path("/usr/bin/chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- html

class _Imgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str]] = []
        self.scripts: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        d = {k: v or "" for k, v in attrs}
        {"img": self.imgs, "script": self.scripts, "link": self.links}.get(tag, []).append(d)


def _imgs(html: str) -> _Imgs:
    p = _Imgs()
    p.feed(html)
    return p


def test_html_has_every_section_and_plot(tmp_path: Path) -> None:
    path = write_html(make_results(), tmp_path)
    assert path == tmp_path / "report.html"
    html = path.read_text()
    page = _imgs(html)
    ids = sorted(i["id"] for i in page.imgs)
    assert ids == sorted(["plot-hist-0", "plot-hist-1", "plot-scatter-0", "plot-scatter-1",
                          "plot-layers", "plot-attribution"])
    texts = {}
    for img in page.imgs:
        assert img["alt"], img["id"]
        head, data = img["src"].split(",", 1)
        assert head == "data:image/svg+xml;base64"
        svg = ET.fromstring(base64.b64decode(data))  # well-formed, sized SVG
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        assert (svg.get("width"), svg.get("height")) == (img["width"], img["height"])
        assert int(img["width"]) > 0 and int(img["height"]) > 0
        texts[img["id"]] = " ".join(t.strip() for t in svg.itertext())
    for plot_id, words in {"plot-hist-0": ("Δ per element, device − litert-ref", "elements",
                                           "Δ = device − litert-ref (LSB)"),
                           "plot-scatter-0": ("y = x", "40 elements", "litert-ref (real)"),
                           "plot-layers": ("max |Δ| (LSB)", "5 FULLY_CONNECTED",
                                           "first divergence: op 5 FULLY_CONNECTED",
                                           "device vs litert-ref"),
                           "plot-attribution": ("max |Δ| (LSB)", "2 LSB — double vs single "
                                                "rounding", "quantization")}.items():
        for word in words:  # titles, axis labels, legends and annotations are drawn
            assert word in texts[plot_id], (plot_id, word, texts[plot_id])
    assert not page.links and all("src" not in s for s in page.scripts)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    assert len(html) < 400_000
    for text in ("example_cnn_int8", "stm32f4", "builtin", ">DRIFT<", "#cf222e",
                 "10,856 B", "15,716 B", "11,792 B", "55e5338a37bc", "netduinoplus2",
                 "frames_sent", "vector 1 index 2: -97 vs -99", ">reported<",
                 "∞: identical", "90.00 %", "first diverges at op 5 FULLY_CONNECTED",
                 "double vs single rounding", "rounding=single; deltas are ±1 at ties",
                 "The device drifts from litert-ref", "float-model: not run"):
        assert text in html, text
    assert "tflite_micro has no &lt;SOFTMAX&gt; int16 &amp; co" in html  # autoescaped
    assert "not available" not in html


def test_html_minimal_results_say_not_available(tmp_path: Path) -> None:
    res = {"schema": "harness.results/1", "model": {"name": "m"}, "target": {"name": "t"},
           "comparisons": [], "build": None, "device": {},
           "verdict": {"status": "ERROR", "reason": "toolchain missing", "exit_code": 3}}
    html = write_html(res, tmp_path).read_text()
    assert ">ERROR<" in html and "toolchain missing" in html
    for why in ("no build section", "no device section", "no reference ran",
                "no comparisons (toolchain missing)",
                "per-layer capture was not part of this run",
                "attribution was not part of this run"):
        assert f"not available: {why}" in html, why
    assert not _imgs(html).imgs


def test_html_survives_malformed_sections() -> None:
    res = make_results()
    res["comparisons"][0]["histogram"] = {"not-a-number": 3}
    res["per_layer"] = {"ops": [{"name": "no index"}], "pairs": [{"layers": None}]}
    res["attribution"] = {"parts": "nonsense"}
    res["device"] = {"info": {"proto": "1"}, "counts": "x"}
    res["model"]["name"] = "<script>alert(1)</script>"
    html = render_html(res)
    assert "not available: could not draw this plot (ValueError" in html
    assert html.count("not available: could not render this section") == 2
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'id="plot-scatter-0"' in html  # the rest still renders


@pytest.mark.parametrize("res", [
    {},
    {"model": None, "target": 5, "comparisons": [None, {"a": "device"}], "verdict": None,
     "references": {"x": None}, "build": "x", "device": [], "per_layer": {"pairs": 3},
     "attribution": {"chain": "?", "parts": [None]}, "timings": {"total_s": "soon"}},
], ids=["empty", "damaged"])
def test_partial_or_damaged_results_never_crash(tmp_path: Path, res: dict) -> None:
    check_junit_structure(write_junit(res, tmp_path / "junit.xml"))
    html = write_html(res, tmp_path).read_text()
    assert "not available" in html and "</html>" in html


def test_junit_and_html_do_not_mutate_results(tmp_path: Path) -> None:
    res = make_results()
    before = copy.deepcopy(res)
    write_junit(res, tmp_path / "junit.xml")
    write_html(res, tmp_path)
    assert res == before
    json.dumps(res)  # still the plain JSON dict


# ---------------------------------------------------------------- in a real browser

def _chromium(html: Path, profile: Path, *args: str) -> tuple[int, str, str]:
    """Run headless Chromium in its own process group; kill the whole group on a hang."""
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
           *args, html.as_uri()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"chromium hung: {err[-2000:]}")
    return proc.returncode, out, err


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("install Debian's chromium package (scripts/bootstrap.sh does)")
    path = write_html(make_results(), tmp_path)
    expected = {i["id"] for i in _imgs(path.read_text()).imgs}
    code, dom, err = _chromium(path, tmp_path / "profile", "--dump-dom")
    assert code == 0, err[-2000:]
    page = _imgs(dom)
    widths = {i["id"]: i.get("data-natural-width") for i in page.imgs}
    assert set(widths) == expected
    assert all(w and int(w) > 0 for w in widths.values()), widths
    check = re.search(r'id="img-check"[^>]*data-total="(\d+)" data-decoded="(\d+)"', dom)
    assert check and check.group(1) == check.group(2) == str(len(expected))
    shot = tmp_path / "report.png"
    _, _, err = _chromium(path, tmp_path / "profile2", f"--screenshot={shot}",
                          "--window-size=1360,2400", "--hide-scrollbars")
    assert shot.exists(), err[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000
