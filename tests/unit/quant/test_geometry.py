"""harness/quant/geometry.py: output sizes and padding, from the formulas."""

from __future__ import annotations

import math

import pytest

from harness.quant.geometry import PADDING_SAME, PADDING_VALID, conv_output_and_padding


@pytest.mark.parametrize(("args", "expected"), [
    # (in, filter, stride, dilation, padding) -> (out, pad_before)
    ((5, 3, 1, 1, PADDING_SAME), (5, 1)),
    ((5, 3, 1, 1, PADDING_VALID), (3, 0)),
    ((6, 3, 2, 1, PADDING_SAME), (3, 0)),  # total 1: the extra goes after
    ((7, 3, 2, 1, PADDING_SAME), (4, 1)),
    ((224, 3, 2, 1, PADDING_SAME), (112, 0)),
    ((224, 7, 2, 1, PADDING_SAME), (112, 2)),
    ((10, 3, 1, 2, PADDING_SAME), (10, 2)),  # effective filter 5
    ((10, 3, 1, 2, PADDING_VALID), (6, 0)),
    ((4, 5, 1, 1, PADDING_SAME), (4, 2)),
    ((4, 5, 1, 1, PADDING_VALID), (0, 0)),
    ((8, 2, 2, 1, PADDING_VALID), (4, 0)),
    ((9, 2, 2, 1, PADDING_VALID), (4, 0)),
])
def test_conv_output_and_padding_known(args: tuple[int, int, int, int, int],
                                       expected: tuple[int, int]) -> None:
    assert conv_output_and_padding(*args) == expected


def test_conv_output_and_padding_properties() -> None:
    for n in range(1, 20):
        for k in range(1, 6):
            for s in range(1, 4):
                for d in range(1, 3):
                    eff = (k - 1) * d + 1
                    out, pad = conv_output_and_padding(n, k, s, d, PADDING_SAME)
                    assert out == math.ceil(n / s)
                    total = max(0, (out - 1) * s + eff - n)
                    assert pad == total // 2
                    out, pad = conv_output_and_padding(n, k, s, d, PADDING_VALID)
                    assert pad == 0
                    # every window inside, and one more would not fit
                    assert out == 0 or (out - 1) * s + eff <= n
                    assert out * s + eff > n


def test_conv_output_and_padding_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        conv_output_and_padding(5, 3, 0, 1, PADDING_SAME)
    with pytest.raises(ValueError):
        conv_output_and_padding(5, 3, 1, 1, 2)
