"""Unit tests for harness.quant: values derivable by hand from the formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.ops.softmax.params import softmax_params
from harness.quant.geometry import PADDING_SAME, PADDING_VALID, conv_output_and_padding
from harness.quant.multiplier import (
    _saturating_rounding_doubling_high_mul,
    conv_requant,
    effective_scale,
    fc_requant,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_single,
    quantize_multiplier,
    quantize_value,
)
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1, activation_range


def reconstruct(mult: int, shift: int) -> float:
    return mult * 2.0 ** (shift - 31)


@pytest.mark.parametrize("seed", range(5))
def test_quantize_multiplier_reconstructs_within_2_pow_minus_31(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for real in np.exp(rng.uniform(math.log(1e-9), math.log(1e3), size=400)):
        mult, shift = quantize_multiplier(float(real))
        assert (1 << 30) <= mult < (1 << 31)
        assert abs(reconstruct(mult, shift) - real) <= real * 2.0**-31


@pytest.mark.parametrize(("real", "expected"), [
    (0.5, (1 << 30, 0)),
    (1.0, (1 << 30, 1)),
    (0.25, (1 << 30, -1)),
    (3.0, (3 << 29, 2)),
    (0.75, (3 << 29, 0)),
    (2.0**-32, (1 << 30, -31)),  # the smallest shift kept
])
def test_quantize_multiplier_exact_values(real: float, expected: tuple[int, int]) -> None:
    assert quantize_multiplier(real) == expected


def test_quantize_multiplier_rounds_half_away_and_carries() -> None:
    # q * 2^31 = 2^30 + 0.5 exactly -> rounds up
    assert quantize_multiplier((2**30 + 0.5) / 2**31) == (2**30 + 1, 0)
    # q rounds to 2^31: the significand is halved and the shift bumped
    assert quantize_multiplier(1.0 - 2.0**-40) == (1 << 30, 1)


def test_quantize_multiplier_zero_tiny_negative_and_cap() -> None:
    assert quantize_multiplier(0.0) == (0, 0)
    assert quantize_multiplier(2.0**-33) == (0, 0)  # shift would be -32
    assert quantize_multiplier(1e-20) == (0, 0)
    with pytest.raises(ValueError):
        quantize_multiplier(-0.5)
    assert quantize_multiplier(2.0**31) == (1 << 30, 32)
    assert quantize_multiplier(2.0**31, single_rounding=True) == ((1 << 31) - 1, 30)


def test_effective_scale_precision() -> None:
    i, f, o = 0.024535097181797028, 0.0009208336123265326, 0.8174424767494202
    f64 = effective_scale(i, f, o, "float64")
    f32 = effective_scale(i, f, o, "float32")
    assert f64 == float(np.float32(i)) * float(np.float32(f)) / float(np.float32(o))
    assert f32 == float(np.float32(np.float32(i) * np.float32(f))) / float(np.float32(o))
    assert f32 != f64
    with pytest.raises(ValueError):
        effective_scale(i, f, o, "float16")  # type: ignore[arg-type]


def test_conv_and_fc_requant() -> None:
    mults, shifts = conv_requant(0.5, [0.25, 0.125], 0.0625)
    assert mults == [1 << 30, 1 << 30] and shifts == [2, 1]  # 2.0 and 1.0
    assert conv_requant(0.5, 0.25, 0.5) == ([1 << 30], [-1])  # per-tensor: one entry
    assert fc_requant(0.5, np.float32(0.25), 0.5) == ([1 << 30], [-1])
    with pytest.raises(ValueError):
        conv_requant(0.5, [], 0.5)


def test_requant_reference_functions() -> None:
    srdhm = _saturating_rounding_doubling_high_mul
    assert srdhm(3, 1 << 30) == 2  # 1.5 rounds up
    assert srdhm(-3, 1 << 30) == -1  # a negative tie goes toward zero here
    assert srdhm(-(1 << 31), -(1 << 31)) == (1 << 31) - 1
    mbqm = multiply_by_quantized_multiplier
    single = multiply_by_quantized_multiplier_single
    assert mbqm(-3 * 2**15, 1 << 30, -15) == -2  # -1.5: the final shift rounds away
    assert single(-3 * 2**15, 1 << 30, -15) == -2
    assert mbqm(100, 1 << 30, 2) == 200 and single(100, 1 << 30, 2) == 200
    # double rounding can land one off where the single rounding is exact
    m, s = 1944874336, -15
    acc = -3672436  # real value -101.49998...
    assert single(acc, m, s) == -101
    assert mbqm(acc, m, s) == -102


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


def test_softmax_params() -> None:
    # beta * scale = 2^-4 -> real 2^22 = 0.5 * 2^23
    assert softmax_params(1.0, 1 / 16) == (1 << 30, 23, -math.floor(31 * 2**26 / 2**23))
    assert softmax_params(1.0, 1 / 16)[2] == -248
    mult, shift, diff_min = softmax_params(2.0, 0.1)
    real = 2.0 * float(np.float32(0.1)) * 2**26
    assert abs(reconstruct(mult, shift) - real) <= real * 2.0**-31
    assert diff_min == -math.floor(31 * 2**26 / 2**shift)
    # beta * scale above 32 caps the real multiplier at 2^31 - 1
    assert softmax_params(10.0, 4.0) == ((1 << 31) - 1, 31, 0)
    with pytest.raises(ValueError):
        softmax_params(1.0, 1e-9)
