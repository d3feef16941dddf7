"""The Robot Framework keyword library (harness/robot.py): its keywords fail with the
numbers, and a failed run is an ERROR verdict. The suite under plain `robot` is in
tests/integration/test_robot_qemu.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.robot import HarnessLibrary


def _lib(results: dict) -> HarnessLibrary:
    lib = HarnessLibrary()
    lib.results = results
    return lib


RESULTS = {
    "run_dir": "/tmp/x",
    "verdict": {"status": "DRIFT", "reason": "device vs litert-ref differs", "exit_code": 1},
    "references": {"litert-ref": {"status": "ok", "reason": None},
                   "tflite": {"status": "unavailable", "reason": "not installed"}},
    "comparisons": [
        {"a": "device", "b": "litert-ref", "output": 0, "max_abs_lsb": 3, "mismatches": 2,
         "first_mismatch": {"vector": 0, "index": 5}, "exact_rate": 0.9, "passed": False},
        {"a": "device", "b": "litert-ref", "output": 1, "max_abs_lsb": 0, "mismatches": 0,
         "first_mismatch": None, "exact_rate": 1.0, "passed": True},
    ],
}


def test_keywords_fail_with_the_numbers() -> None:
    lib = _lib(RESULTS)
    assert lib.verdict_status() == "DRIFT"
    assert lib.results_folder() == "/tmp/x"
    assert lib.max_delta("litert-ref") == 3
    assert lib.max_delta("litert-ref", output=1) == 0
    lib.max_delta_should_be_at_most("litert-ref", 3)
    with pytest.raises(AssertionError, match=r"max \|d\| 3 LSB > 1 LSB .*2 mismatches"):
        lib.max_delta_should_be_at_most("litert-ref", 1)
    with pytest.raises(AssertionError, match="verdict is DRIFT, expected PASS: device vs"):
        lib.verdict_should_be("pass")
    lib.reference_should_be_available("litert-ref")
    with pytest.raises(AssertionError, match="tflite is unavailable: not installed"):
        lib.reference_should_be_available("tflite")
    with pytest.raises(AssertionError, match="not requested"):
        lib.reference_should_be_available("numpy-float")
    with pytest.raises(AssertionError, match="no device vs numpy-float comparison"):
        lib.max_delta("numpy-float")


def test_keywords_before_a_run_say_so() -> None:
    with pytest.raises(AssertionError, match="Cross Check Model"):
        HarnessLibrary().verdict_should_be("PASS")


def test_failed_run_is_an_error_verdict(tmp_path: Path) -> None:
    lib = HarnessLibrary(runs_dir=str(tmp_path))
    status = lib.cross_check_model(str(tmp_path / "missing.tflite"), vectors=1)
    assert status == "ERROR"
    with pytest.raises(AssertionError, match="verdict is ERROR"):
        lib.verdict_should_be("PASS")
