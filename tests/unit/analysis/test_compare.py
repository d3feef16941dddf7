"""Float outputs compared in ULPs (harness/analysis/compare.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.analysis.compare import FLOAT_TOLERANCE_ULP, compare_output, float_ulp_keys
from support.dtype_cases import graph
from support.synth_dtypes import one_op

# ---- float comparison in ULPs -----------------------------------------------------


def test_ulp_keys_count_representable_floats() -> None:
    one = np.float32(1.0)
    nxt = np.nextafter(one, np.float32(2.0))
    keys = float_ulp_keys(np.array([one, nxt, -0.0, 0.0, -np.float32(1e-45)], np.float32))
    assert keys[1] - keys[0] == 1 and keys[2] == keys[3] == 0 and keys[4] == -1


def test_float_outputs_compared_in_ulps(tmp_path: Path) -> None:
    g = graph(tmp_path, one_op("float32", "fully_connected", [1, 4], units=3))
    t = g.output_tensors()[0]
    ref = np.array([[[1.0, -2.0, 0.5]]], np.float32)
    dev = ref.copy()
    dev[0, 0, 1] = np.nextafter(np.nextafter(np.float32(-2.0), np.float32(0)), np.float32(0))
    c = compare_output("device", "litert-ref", t, dev, ref, FLOAT_TOLERANCE_ULP)
    assert c.unit == "ULP" and c.max_abs_lsb == 2 and c.passed and c.mismatches == 1
    assert c.first_mismatch["b"] == -2.0 and "ULP" in str(c)
    assert not compare_output("device", "litert-ref", t, dev, ref, 1).passed
