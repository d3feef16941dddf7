"""`--profile`: TFLM's per-op profiler lines grouped per inference."""

from __future__ import annotations

from harness.analysis.profile import tflm_op_counts


def test_tflm_profile_lines_group_per_inference() -> None:
    logs = ["harness firmware up", "hx_prof 0 10 CONV_2D", "hx_prof 1 5 SOFTMAX",
            "hx_prof 0 12 CONV_2D", "hx_prof 1 6 SOFTMAX", "hx_prof 0 9 CONV_2D"]
    assert tflm_op_counts(logs, 2) == [[10, 5], [12, 6]]  # the cut-off third is dropped
