"""`harness matrix` with the real cross-compiler, QEMU and references, on a small matrix:
the example model and person_detect on cortex-m0 (16 KB of RAM: person_detect does not
fit, the cell is skipped with the run's own reason) and cortex-m55.

One unsharded run writes matrix.json, junit.xml (a testsuite per cell) and matrix.html,
which opens in headless Chromium with the skipped cell's reason in the grid; shard 1/2 +
shard 2/2 merged give the same cells; a matrix killed outright (SIGKILL on its whole
process group) is finished by --resume, keeping the cells it had finished; the exit code
is the worst cell's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from support.browser import chromium, measure, need_chromium
from support.paths import EXAMPLE, ROOT, shared_model

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")),
    reason="needs qemu-system-arm and arm-none-eabi-gcc (scripts/bootstrap.sh installs them)")

TARGETS = "cortex-m0,cortex-m55"
OPTIONS = ("--vectors", "2", "--references", "litert-ref,numpy-int8")
SKIPPED_ID = "person_detect_cortex-m0_auto"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _args(out: Path, *more: str) -> list[str]:
    models = f"{EXAMPLE},{shared_model('person_detect.tflite')}"
    return [sys.executable, "-m", "harness", "matrix", "--models", models, "--targets",
            TARGETS, *OPTIONS, "--out", str(out), *more]


def matrix(out: Path, *more: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(_args(out, *more), cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


def doc(folder: Path) -> dict:
    return json.loads((folder / "matrix.json").read_text())


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("matrix") / "whole"
    return out, matrix(out, "-j", "2")


def test_the_matrix_writes_its_outputs(whole: tuple[Path, subprocess.CompletedProcess]
                                       ) -> None:
    out, proc = whole
    d = doc(out)
    assert proc.returncode == d["exit_code"] == 0, proc.stdout + proc.stderr
    assert d["summary"] == {"PASS": 3, "SKIPPED": 1}
    cells = {c["id"]: c for c in d["cells"]}
    assert list(cells) == ["example_cnn_int8_cortex-m0_auto", "example_cnn_int8_cortex-m55_auto",
                           SKIPPED_ID, "person_detect_cortex-m55_auto"]
    skipped = cells[SKIPPED_ID]
    assert re.match(r"person_detect needs ~\d+ KB of RAM .* but cortex-m0 .* has 16 KB",
                    skipped["reason"]), skipped
    assert skipped["report"] is None and not (out / SKIPPED_ID).exists()
    for c in cells.values():
        if c["status"] == "PASS":
            assert (out / c["report"]).is_file() and c["per_inference"] > 0, c
            assert c["counter_unit"] == "instructions" and c["max_abs"] == 0
    assert "4 cells: 4 done (3 PASS), 0 failed, 1 skipped" in proc.stdout
    suites = ET.parse(out / "junit.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == [f"harness.matrix.{i}" for i in cells]
    (skip,) = suites[2].iter("skipped")
    assert skip.get("message") == f"SKIPPED: {skipped['reason']}"


def test_matrix_html_opens_in_chromium(whole: tuple[Path, subprocess.CompletedProcess],
                                       tmp_path: Path) -> None:
    need_chromium()
    out, _ = whole
    code, dom, err = chromium(out / "matrix.html", tmp_path / "profile", "--dump-dom")
    assert code == 0, err[-2000:]
    cells = dict(re.findall(r'id="cell-([^"]+)" data-status="([A-Z]+)"', dom))
    assert cells == {c["id"]: c["status"] for c in doc(out)["cells"]}
    skipped = dom[dom.index(f'id="cell-{SKIPPED_ID}"'):]
    assert "person_detect needs ~" in skipped[:skipped.index("</td>")]
    assert 'href="example_cnn_int8_cortex-m55_auto/report.html"' in dom
    lay = measure(out / "matrix.html", 1000, 700, tmp_path)
    assert lay.probe["page_width"] <= lay.probe["client_width"], "the page scrolls sideways"


def test_shards_merge_into_the_unsharded_cells(whole: tuple[Path, subprocess.CompletedProcess],
                                               tmp_path: Path) -> None:
    out, _ = whole
    shards = [tmp_path / "shard-1", tmp_path / "shard-2"]
    for k, folder in enumerate(shards, 1):
        assert matrix(folder, "-j", "2", "--shard", f"{k}/2").returncode == 0
    assert len(doc(shards[0])["cells"]) + len(doc(shards[1])["cells"]) == 4
    merged = tmp_path / "merged"
    proc = subprocess.run([sys.executable, "-m", "harness", "merge", *map(str, shards),
                           "--out", str(merged)], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    by_id = {c["id"]: c for k in (0, 1) for c in doc(shards[k])["cells"]}
    assert doc(merged)["cells"] == [by_id[c["id"]] for c in doc(out)["cells"]]
    assert _same_cells(doc(merged)["cells"], doc(out)["cells"])
    assert doc(merged)["summary"] == doc(out)["summary"]
    assert (merged / "example_cnn_int8_cortex-m0_auto" / "report.html").is_file()


def _same_cells(a: list[dict], b: list[dict]) -> bool:
    """The same cells, the counter per inference to 0.01 %: cortex-m0 has no cycle
    counter, its firmware counts a timer, and under QEMU a few ticks vary between runs."""
    def close(x: float | None, y: float | None) -> bool:
        return x == y or (x is not None and y is not None and abs(x - y) <= 1e-4 * x)

    plain = [[{**c, "per_inference": None} for c in cells] for cells in (a, b)]
    return plain[0] == plain[1] and all(
        close(x["per_inference"], y["per_inference"]) for x, y in zip(a, b, strict=True))


def _finished(folder: Path) -> list[str]:
    try:
        return [c["id"] for c in doc(folder)["cells"] if c["status"] in ("PASS", "SKIPPED")]
    except (OSError, ValueError):
        return []


def test_a_killed_matrix_is_finished_by_resume(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    proc = subprocess.Popen(_args(out, "-j", "1"), cwd=ROOT, env=_env(), text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not _finished(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # into the next cell's run
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = _finished(out)
    assert kept and len(kept) < 4, kept
    stamps = {c: (out / c / "results.json").stat().st_mtime_ns for c in kept
              if (out / c).is_dir()}
    resumed = subprocess.run([sys.executable, "-m", "harness", "matrix", "--resume", str(out)],
                             cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert doc(out)["summary"] == {"PASS": 3, "SKIPPED": 1}
    to_run = int(re.search(r"4 cells, (\d+) to run", resumed.stdout).group(1))
    assert 0 < to_run <= 4 - len(kept), resumed.stdout
    assert {c: (out / c / "results.json").stat().st_mtime_ns for c in stamps} == stamps


def test_the_exit_code_is_the_worst_cell(tmp_path: Path) -> None:
    """Single rounding built into the kernels: the example model drifts from op 0 on,
    person_detect does not fit cortex-m0; the matrix exits 1 (DRIFT), and the grid names
    the first diverging op and its cause."""
    out = tmp_path / "drift"
    proc = subprocess.run([sys.executable, "-m", "harness", "matrix", "--models",
                           f"{EXAMPLE},{shared_model('person_detect.tflite')}", "--targets",
                           "cortex-m0", "--rounding", "single", "--per-layer", *OPTIONS,
                           "--out", str(out)], cwd=ROOT, env=_env(), capture_output=True,
                          text=True, timeout=600)
    d = doc(out)
    assert proc.returncode == d["exit_code"] == 1, proc.stderr
    drift = d["cells"][0]
    assert (drift["status"], drift["first_op"], drift["first_op_name"]) == ("DRIFT", 0, "CONV_2D")
    assert drift["cause"] and drift["cause"] in (out / "matrix.html").read_text()
