"""report.html (harness/report/html.py), made from the results.json dict only: every
section and plot, damaged input, and the page in headless Chromium. Also that neither
report changes the dict.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

import harness.report.html
from harness.report.html import SECTIONS, Section, render_html, write_html
from harness.report.junit import write_junit
from harness.resources import TEMPLATES_DIR
from support.browser import chromium, need_chromium
from support.results import check_junit_structure, make_results

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


# ---------------------------------------------------------------- the order: answer first

def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start:html.index("</section>", start)]


def test_sections_come_in_the_order_a_reader_needs_them() -> None:
    html = render_html(make_results())
    where = [html.index(f'<section id="{s}">') for s in
             ("drift", "enforced", "per-layer", "pairs", "facts", "device")]
    assert html.index('id="verdict-reason"') < where[0] and where == sorted(where)
    assert [s.id for s in SECTIONS] == ["drift", "enforced", "per-layer", "pairs", "facts",
                                        "device"]
    nav = html[html.index("<nav>"):html.index("</nav>")]
    assert re.findall(r'href="#([\w-]+)"', nav) == [s.id for s in SECTIONS]


def test_drift_section_names_the_first_op_and_cause_of_each_part() -> None:
    drift = _section(render_html(make_results()), "drift")
    assert drift.index('id="attribution-summary"') < drift.index('id="plot-attribution"')
    rows = re.findall(r'<tr class="part-(\w+)">(.*?)</tr>', drift, re.S)
    text = {re.sub(r"<[^>]+>", " ", cells).split()[0]: (state, " ".join(
        re.sub(r"<[^>]+>", " ", cells).split())) for state, cells in rows}
    assert text["platform"] == ("drift", "platform litert-ref → device 2 op 5 FULLY_CONNECTED "
                                "double vs single rounding rounding=single; deltas are ±1 at "
                                "ties")
    assert text["quantization"] == ("drift", "quantization numpy-float → litert-ref 1 not "
                                    "localised (needs --per-layer) none identified")
    assert text["kernel"][0] == "na"  # not measured: no litert in this run


def test_enforced_comparison_comes_before_the_other_pairs() -> None:
    html = render_html(make_results())
    enforced, pairs = _section(html, "enforced"), _section(html, "pairs")
    assert "<b>litert-ref</b>" in enforced and ">FAIL<" in enforced
    assert 'id="plot-hist-0"' in enforced and 'id="plot-scatter-0"' in enforced
    assert ">reported<" not in enforced and pairs.count(">reported<") == 2
    assert 'id="plot-hist-1"' in pairs and "vector 1 index 2: -97 vs -99" in pairs
    assert "tflite_micro has no &lt;SOFTMAX&gt; int16 &amp; co" in pairs


def test_device_diagnostics_are_collapsed() -> None:
    device = _section(render_html(make_results()), "device")
    assert '<details id="device-details">' in device  # no `open`
    for shown in ("frames_sent", "netduinoplus2", "build_id"):
        assert shown in device[device.index("</summary>"):], shown


def test_a_section_is_one_entry_and_one_template(tmp_path: Path, monkeypatch) -> None:
    """How another section joins the page (e.g. quantization): a builder in SECTIONS and
    templates/report/sections/<id>.html.j2."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR / "report", templates / "report")
    (templates / "report" / "sections" / "extra.html.j2").write_text(
        "<p id=extra-text>{{ data.word }}</p>\n")
    extra = Section("extra", "An extra section", "extra", lambda r: {"word": r["model"]["name"]})
    monkeypatch.setattr(harness.report.html, "TEMPLATES_DIR", templates)
    monkeypatch.setattr(harness.report.html, "SECTIONS", (*SECTIONS[:2], extra, *SECTIONS[2:]))
    html = render_html(make_results())
    assert "<p id=extra-text>example_cnn_int8</p>" in _section(html, "extra")
    assert html.index('id="enforced"') < html.index('id="extra"') < html.index('id="per-layer"')
    assert '<a href="#extra">extra</a>' in html


# ---------------------------------------------------------------- in a real browser

def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    need_chromium()
    path = write_html(make_results(), tmp_path)
    expected = {i["id"] for i in _imgs(path.read_text()).imgs}
    code, dom, err = chromium(path, tmp_path / "profile", "--dump-dom")
    assert code == 0, err[-2000:]
    page = _imgs(dom)
    widths = {i["id"]: i.get("data-natural-width") for i in page.imgs}
    assert set(widths) == expected
    assert all(w and int(w) > 0 for w in widths.values()), widths
    check = re.search(r'id="img-check"[^>]*data-total="(\d+)" data-decoded="(\d+)"', dom)
    assert check and check.group(1) == check.group(2) == str(len(expected))
    shot = tmp_path / "report.png"
    _, _, err = chromium(path, tmp_path / "profile2", f"--screenshot={shot}",
                          "--window-size=1360,2400", "--hide-scrollbars")
    assert shot.exists(), err[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 20_000
