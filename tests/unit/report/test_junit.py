"""junit.xml (harness/report/junit.py), made from the results.json dict only."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report.junit import write_junit
from support.results import check_junit_structure, make_results


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
