"""harness/quant/ranges.py: fused activation ranges, from the formulas."""

from __future__ import annotations

import pytest

from harness.quant.multiplier import quantize_value
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1, activation_range


@pytest.mark.parametrize(("fused", "scale", "zp", "expected"), [
    (ACT_NONE, 0.1, 3, (-128, 127)),
    (ACT_RELU, 0.1, -10, (-10, 127)),
    (ACT_RELU, 0.1, -128, (-128, 127)),
    (ACT_RELU6, 0.05, -128, (-128, -8)),  # 6 / 0.05 = 120
    (ACT_RELU6, 0.01, 0, (0, 127)),  # 600 saturates
    (ACT_RELU_N1_TO_1, 1 / 128, 0, (-128, 127)),
    (ACT_RELU_N1_TO_1, 0.02, 10, (-40, 60)),
    (ACT_RELU6, 0.08, 0, (0, 75)),  # 75 exactly: 6 / 0.08 in float32
    (ACT_RELU6, 0.048, -128, (-128, -3)),  # 125 exactly
])
def test_activation_range(fused: int, scale: float, zp: int,
                          expected: tuple[int, int]) -> None:
    assert activation_range(fused, scale, zp) == expected


def test_activation_range_rounds_ties_away_and_rejects_unknown() -> None:
    assert quantize_value(6.0, 4.0, 0) == 2  # 1.5 -> 2
    assert quantize_value(-6.0, 4.0, 0) == -2  # -1.5 -> -2
    assert quantize_value(1.0, 4.0, 0) == 0  # 0.25 -> 0
    with pytest.raises(ValueError):
        activation_range(4, 0.1, 0)  # TANH is not a clamp
