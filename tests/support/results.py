"""A realistic results.json dict for the report tests, and the structure every
junit.xml must have.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

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
