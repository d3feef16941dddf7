"""junit.xml and report.html, both made from the results.json dict only."""

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

CHROMIUM = Path("/usr/bin/chromium")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OPS = ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "RESHAPE",
       "FULLY_CONNECTED", "SOFTMAX"]


def _comparison(a: str, b: str, tol: int | None, hist: dict[str, int], **extra) -> dict:
    elements = sum(hist.values())
    mism = elements - hist.get("0", 0)
    max_abs = max(abs(int(k)) for k in hist)
    c = {"a": a, "b": b, "output": "StatefulPartitionedCall_1:0", "vectors": 10,
         "elements": elements, "exact_rate": hist.get("0", 0) / elements,
         "max_abs_lsb": max_abs, "mismatches": mism, "tolerance_lsb": tol,
         "enforced": tol is not None, "passed": tol is None or max_abs <= tol,
         "first_mismatch": {"vector": 1, "index": 2, "a": -97, "b": -99} if mism else None,
         "histogram": hist, "mae": 0.0012, "rmse": 0.0031, "cosine": 0.99987,
         "snr_db": 41.5 if mism else None, "top1_agreement": 1.0, "scatter": {}}
    c.update(extra)
    return c


def make_results(**overrides) -> dict:
    """A realistic results.json dict: a drifting device, a reported-only float reference,
    an unavailable reference, per-layer data with a divergence and an attribution."""
    pts = [i / 40 for i in range(40)]
    res = {
        "schema": "harness.results/1", "harness_version": "0.1.0",
        "created": "2026-11-26T19:37:24+00:00", "run_dir": "runs/x_example_cnn_int8_stm32f4",
        "host": {"machine": "x86_64", "python": "3.11.7", "cpus": 2},
        "config": {"runtime": "builtin", "vectors": 10, "seed": 0, "inputs": None,
                   "references": ["litert-ref", "numpy-float", "tflm-host"],
                   "tolerances": {"litert-ref": 0}, "rounding": "single"},
        "model": {"path": "/work/main/examples/example_cnn_int8.tflite",
                  "name": "example_cnn_int8", "sha256": "33403043f609fd08" + "0" * 48,
                  "ops": OPS,
                  "inputs": [{"index": 0, "name": "serving_default_keras_tensor:0",
                              "shape": [1, 32, 32, 1], "dtype": "int8",
                              "scale": 0.0191732, "zero_point": -1}],
                  "outputs": [{"index": 14, "name": "StatefulPartitionedCall_1:0",
                               "shape": [1, 4], "dtype": "int8", "scale": 0.00390625,
                               "zero_point": -128}]},
        "target": {"name": "stm32f4", "cpu": "cortex-m4", "qemu_machine": "netduinoplus2"},
        "build": {"elf": "/work/main/build/stm32f4/firmware.elf", "folder": "/b", "cached": True,
                  "seconds": 0.0, "flash_bytes": 10856, "ram_bytes": 15716,
                  "arena_bytes": 11792, "build_id": "55e5338a37bc"},
        "references": {"litert-ref": {"status": "ok", "reason": "", "seconds": 0.27},
                       "numpy-float": {"status": "ok", "reason": "", "seconds": 0.05},
                       "tflm-host": {"status": "unavailable", "seconds": 0.01,
                                     "reason": "tflite_micro has no <SOFTMAX> int16 & co"}},
        "device": {"backend": {"name": "qemu", "machine": "netduinoplus2"},
                   "info": {"proto": "1", "build_id": "55e5338a37bc", "cpu": "cortex-m4",
                            "counter": "none", "arena_used": "11792"},
                   "link": {"frames_sent": 42, "retries": 0, "bad_crc": 0},
                   "vectors_done": 10, "counts": [0] * 10, "seconds": 2.998},
        "comparisons": [
            _comparison("device", "litert-ref", 0, {"-1": 1, "0": 36, "2": 3},
                        scatter={"a": pts, "b": [p + 0.004 for p in pts]}),
            _comparison("device", "numpy-float", None, {"-3": 2, "-1": 6, "0": 30, "1": 2},
                        scatter={"a": pts, "b": [p * 1.02 for p in pts]}),
            _comparison("litert-ref", "numpy-float", None, {"0": 40}),
        ],
        "per_layer": {
            "ops": [{"index": i, "name": n, "tensor": 8 + i, "tensor_name": f"t{i}"}
                    for i, n in enumerate(OPS)],
            "pairs": [{"a": "device", "b": "litert-ref",
                       "layers": [{"op": i, "max_abs_lsb": 0 if i < 5 else 2,
                                   "exact_rate": 1.0 if i < 5 else 0.9, "rmse": 0.0}
                                  for i in range(len(OPS))],
                       "first_divergence": {"op": 5, "name": "FULLY_CONNECTED",
                                            "max_abs_lsb": 2}},
                      {"a": "litert-ref", "b": "numpy-float",
                       "layers": [{"op": i, "max_abs_lsb": 1, "exact_rate": 0.8, "rmse": 0.01}
                                  for i in range(len(OPS))],
                       "first_divergence": {"op": 0, "name": "CONV_2D", "max_abs_lsb": 1}}]},
        "attribution": {
            "chain": [{"stage": "float-model", "status": "not run"},
                      {"stage": "numpy-float", "status": "ok"},
                      {"stage": "litert-ref", "status": "ok"},
                      {"stage": "tflm-host", "status": "unavailable"},
                      {"stage": "device", "status": "ok"}],
            "parts": [{"part": "quantization", "from": "numpy-float", "to": "litert-ref",
                       "max_abs_lsb": 1, "rmse": 0.004, "first_divergence": None, "cause": None},
                      {"part": "kernel implementation", "from": "litert-ref", "to": "tflm-host",
                       "max_abs_lsb": None, "rmse": None, "first_divergence": None,
                       "cause": None},
                      {"part": "platform", "from": "litert-ref", "to": "device",
                       "max_abs_lsb": 2, "rmse": 0.006,
                       "first_divergence": {"op": 5, "name": "FULLY_CONNECTED",
                                            "max_abs_lsb": 2},
                       "cause": {"id": "double vs single rounding",
                                 "evidence": "rounding=single; deltas are ±1 at ties"}}],
            "summary": "The device drifts from litert-ref by up to 2 LSB starting at "
                       "FULLY_CONNECTED; the firmware was built with single rounding."},
        "verdict": {"status": "DRIFT", "exit_code": 1,
                    "reason": "device vs litert-ref [StatefulPartitionedCall_1:0]: 4/40 "
                              "elements differ, max |d| 2 LSB (tolerance 0)"},
        "timings": {"build_s": 0.04, "device_s": 3.36, "total_s": 3.7},
    }
    res.update(overrides)
    return res


# ---------------------------------------------------------------- junit

def check_junit_structure(path: Path) -> ET.Element:
    """What JUnit consumers rely on: root <testsuites>, integer counts that add up."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root.findall("testsuite"):
        assert suite.get("name")
        float(suite.get("time"))
        cases = suite.findall("testcase")
        counted = {"tests": len(cases),
                   "failures": sum(c.find("failure") is not None for c in cases),
                   "errors": sum(c.find("error") is not None for c in cases),
                   "skipped": sum(c.find("skipped") is not None for c in cases)}
        for key, n in counted.items():
            assert re.fullmatch(r"\d+", suite.get(key)), (key, suite.get(key))
            assert int(suite.get(key)) == n, (key, suite.get(key), n)
            totals[key] += n
        for case in cases:
            assert case.get("classname") and case.get("name")
            assert float(case.get("time")) >= 0
            outcomes = [t for t in ("failure", "error", "skipped") if case.find(t) is not None]
            assert len(outcomes) <= 1
            for tag in outcomes:
                assert case.find(tag).get("message")
    for key, n in totals.items():
        assert int(root.get(key)) == n
    assert totals["failures"] + totals["errors"] + totals["skipped"] <= totals["tests"]
    return root


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in root.iter("testcase")}


def test_junit_counts_failures_skips_and_numbers(tmp_path: Path) -> None:
    path = write_junit(make_results(), tmp_path / "junit.xml")
    assert path == tmp_path / "junit.xml"
    root = check_junit_structure(path)
    suite = root.find("testsuite")
    assert suite.get("name") == "harness.example_cnn_int8.stm32f4"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("4", "1", "0", "1")
    assert suite.get("time") == "3.700"
    cases = _cases(root)
    assert all(c.get("classname") == "example_cnn_int8.stm32f4" for c in cases.values())
    drift = cases["device vs litert-ref [StatefulPartitionedCall_1:0]"].find("failure")
    msg = drift.get("message")
    for part in ("max |d| 2 LSB", "tolerance 0 LSB", "4/40 elements", "exact rate 90.00%",
                 "vector 1 index 2: -97 vs -99"):
        assert part in msg, msg
    reported = cases["device vs numpy-float [StatefulPartitionedCall_1:0]"]
    assert reported.find("failure") is None and reported.find("skipped") is None
    out = reported.find("system-out").text
    assert "reported only" in out and "max |d| 3 LSB" in out and "-3: 2" in out
    props = {p.get("name"): p.get("value") for p in reported.iter("property")}
    assert props["max_abs_lsb"] == "3" and props["tolerance_lsb"] == "n/a"
    clean = cases["litert-ref vs numpy-float [StatefulPartitionedCall_1:0]"]
    clean_props = {p.get("name"): p.get("value") for p in clean.iter("property")}
    assert clean_props["snr_db"] == "inf" and clean_props["mismatches"] == "0"
    assert len(clean) == 2  # properties + system-out (reported only), no failure
    skipped = cases["reference tflm-host"].find("skipped")
    assert skipped.get("message") == "unavailable: tflite_micro has no <SOFTMAX> int16 & co"
    raw = path.read_text()
    assert "&lt;SOFTMAX&gt; int16 &amp; co" in raw and raw.startswith("<?xml")


@pytest.mark.parametrize("status", ["ERROR", "INCOMPLETE", "INTERRUPTED"])
def test_junit_run_problem_is_an_error(tmp_path: Path, status: str) -> None:
    reason = 'QEMU exited: "boom" <1> & \x07bell'
    res = make_results(comparisons=[], references={},
                       verdict={"status": status, "reason": reason, "exit_code": 4})
    root = check_junit_structure(write_junit(res, tmp_path / "junit.xml"))
    (case,) = root.iter("testcase")
    assert root.get("errors") == "1" and root.get("tests") == "1"
    assert case.find("error").get("message") == f'{status}: QEMU exited: "boom" <1> & ?bell'


def test_junit_minimal_and_unchecked(tmp_path: Path) -> None:
    res = {"schema": "harness.results/1", "model": {"name": "m"}, "target": {"name": "t"},
           "comparisons": [], "verdict": {"status": "UNCHECKED", "reason": "no reference"}}
    root = check_junit_structure(write_junit(res, tmp_path / "j.xml"))
    assert root.get("skipped") == "1" and root.find("testsuite").get("name") == "harness.m.t"
    res["verdict"]["status"] = "PASS"
    root = check_junit_structure(write_junit(res, tmp_path / "j.xml"))
    assert root.get("tests") == "0"


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


# ---------------------------------------------------------------- the real pipeline

def test_reports_from_a_real_run(tmp_path: Path) -> None:
    from harness.config import RunConfig
    from harness.run.pipeline import run

    res = run(RunConfig(vectors=2, runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    folder = Path(res["run_dir"])
    on_disk = json.loads((folder / "results.json").read_text())
    root = check_junit_structure(write_junit(on_disk, folder / "junit.xml"))
    n_refs_down = sum(r["status"] != "ok" for r in on_disk["references"].values())
    assert int(root.get("tests")) >= len(on_disk["comparisons"]) + n_refs_down
    if on_disk["verdict"]["status"] == "PASS":
        assert root.get("failures") == "0" and root.get("errors") == "0"
    html = write_html(res, folder).read_text()
    assert on_disk["model"]["name"] in html and f">{on_disk['verdict']['status']}<" in html
    for n, c in enumerate(on_disk["comparisons"]):
        if c["a"] == "device" and c.get("histogram"):
            assert f'id="plot-hist-{n}"' in html


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
