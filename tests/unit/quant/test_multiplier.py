"""harness/quant/multiplier.py: quantized multipliers from the formulas, and what
LiteRT computes (scale-product precision and rounding), checked against LiteRT, TFLite
Micro and the host-built kernels with their rounding variants.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.quant.geometry import PADDING_VALID
from harness.quant.multiplier import (
    FC_SINGLE_ROUNDING,
    _saturating_rounding_doubling_high_mul,
    conv_requant,
    effective_scale,
    fc_requant,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_single,
    quantize_multiplier,
    requant_params,
)
from harness.quant.ranges import ACT_NONE
from support import synth
from support.kernel_cases import assert_bit_exact, conv_params, reconstruct, tflm_ref
from support.kernels_host import HostKernels, HxFcParams
from support.litert_host import litert_ref


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


# ---- what LiteRT computes: scale-product precision and rounding ---------------
#
# With input values equal to the input zero point every accumulator is its
# bias, so the biases choose the accumulators. These tests pick biases where the
# candidate formulas disagree and check that LiteRT agrees with harness.quant and
# the kernels, and not with the alternative.

OPS = ("conv", "depthwise", "fc")


def requant_np(acc: np.ndarray, mult: int, shift: int, single: bool) -> np.ndarray:
    """Vectorized requantization (int64 numpy), double or single rounding."""
    acc = acc.astype(np.int64)

    def div_pot(v: np.ndarray, e: int) -> np.ndarray:
        if e <= 0:
            return v
        mag = (np.abs(v) + (1 << (e - 1))) >> e
        return np.where(v < 0, -mag, mag)

    if single:
        return div_pot(acc * mult, 31 - shift)
    prod = (acc << max(shift, 0)) * mult
    num = prod + np.where(prod >= 0, 1 << 30, 1 - (1 << 30))
    high = np.where(num >= 0, num >> 31, -((-num) >> 31))
    return div_pot(high, max(-shift, 0))


def test_requant_np_matches_quant() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        mult, shift = int(rng.integers(1 << 30, 1 << 31)), int(rng.integers(-20, 3))
        acc = rng.integers(-(1 << 24), 1 << 24, size=200)
        for single, ref in ((False, multiply_by_quantized_multiplier),
                            (True, multiply_by_quantized_multiplier_single)):
            want = [ref(int(a), mult, shift) for a in acc]
            assert requant_np(acc, mult, shift, single).tolist() == want


def litert_single_rounding(op: str, per_channel: bool) -> bool:
    """LiteRT's FULLY_CONNECTED rounds once, its convolutions twice."""
    del per_channel  # the same either way
    return op == "fc" and FC_SINGLE_ROUNDING


def one_op_model(op: str, per_channel: bool, in_scale: float, ws: list[float],
                 out_scale: float, biases: list[int]) -> tuple[bytes, np.ndarray]:
    """A 1x1 op with one output per bias and an all-zero-point input."""
    n, zp = len(biases), 7
    common: dict[str, Any] = {
        "input_scale": in_scale, "input_zp": zp, "weight_scale": ws if per_channel else ws[0],
        "output_scale": out_scale, "output_zp": 0, "bias_values": biases}
    if op == "conv":
        return synth.conv2d([1, 1, 1, 3], n, 1, **common), np.full((1, 1, 1, 3), zp, np.int8)
    if op == "depthwise":
        return (synth.depthwise_conv2d([1, 1, 1, n], 1, **common),
                np.full((1, 1, 1, n), zp, np.int8))
    return synth.fully_connected([1, 3], n, **common), np.full((1, 3), zp, np.int8)


def run_one_op(kernels: HostKernels, op: str, per_channel: bool, model: bytes,
               x: np.ndarray) -> np.ndarray:
    """The C kernel's output for a model from :func:`one_op_model`."""
    if op == "fc":
        inp = synth.tensor_by_name(model, "input")
        wts = synth.tensor_by_name(model, "fc/weights")
        out = synth.tensor_by_name(model, "fc")
        mults, shifts = fc_requant(inp.scales[0], wts.scales, out.scales[0])
        p = HxFcParams(input_offset=-inp.zero_points[0], filter_offset=0,
                       output_offset=out.zero_points[0], act_min=-128, act_max=127)
        assert wts.data is not None
        return kernels.fully_connected(p, mults, shifts, x, wts.data,
                                       synth.tensor_by_name(model, "fc/bias").data,
                                       per_channel=per_channel).ravel()
    prefix = "conv" if op == "conv" else "dwconv"
    p, mults, shifts, filt, bias, out_shape = conv_params(
        model, prefix, ACT_NONE, (1, 1), (1, 1), PADDING_VALID)
    run = kernels.conv2d if op == "conv" else kernels.depthwise_conv2d
    return run(p, mults, shifts, x, filt, bias, out_shape).ravel()


def find_biases(rng: np.random.Generator, in_s: float, ws: list[float], out_s: float,
                n: int, per_channel: bool, differ: Callable[[np.ndarray, int], np.ndarray]
                ) -> list[int] | None:
    """One accumulator per output channel where ``differ(accs, k)`` is true.

    Candidates sit next to the rounding ties ``(v + 0.5) / real_multiplier``,
    where the formulas can disagree."""
    out: list[int] = []
    for ch in range(n):
        k = ch if per_channel else 0
        real = in_s * ws[k] / out_s
        ties = (np.arange(-120, 120) + 0.5) / real
        accs = (np.round(ties)[:, None] + np.arange(-64, 65)[None, :]).ravel().astype(np.int64)
        hits = accs[differ(accs, k)]
        if hits.size == 0:
            return None
        out.append(int(rng.choice(hits)))
    return out


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@pytest.mark.parametrize("op", OPS)
def test_litert_scale_product_is_float64(kernels: HostKernels, op: str,
                                         per_channel: bool) -> None:
    """The effective scale is computed in float64, not from a float32 product."""
    n, single = 8, litert_single_rounding(op, per_channel)
    rng = np.random.default_rng(77 + 2 * OPS.index(op) + per_channel)
    while True:
        in_s = float(np.float32(rng.uniform(0.005, 0.05)))
        out_s = float(np.float32(rng.uniform(0.5, 2.0)))
        ws = [float(np.float32(rng.uniform(1e-4, 1e-3))) for _ in range(n)]
        f32 = requant_params(in_s, ws, out_s, "float32")
        f64 = requant_params(in_s, ws, out_s, "float64")

        def differ(accs: np.ndarray, k: int, f32=f32, f64=f64) -> np.ndarray:
            return (requant_np(accs, f32[0][k], f32[1][k], single)
                    != requant_np(accs, f64[0][k], f64[1][k], single))

        biases = find_biases(rng, in_s, ws, out_s, n, per_channel, differ)
        if biases is not None:
            break
    model, x = one_op_model(op, per_channel, in_s, ws, out_s, biases)
    want = litert_ref(model, x).ravel()

    def expect(mults: list[int], shifts: list[int]) -> np.ndarray:
        idx = range(n) if per_channel else [0] * n
        vals = [requant_np(np.array([b]), mults[k], shifts[k], single)[0]
                for b, k in zip(biases, idx, strict=True)]
        return np.clip(vals, -128, 127)

    assert want.tolist() == expect(*f64).tolist()
    assert want.tolist() != expect(*f32).tolist()
    calc = fc_requant if op == "fc" else conv_requant
    assert want.tolist() == expect(*calc(in_s, ws, out_s)).tolist()
    assert_bit_exact(run_one_op(kernels, op, per_channel, model, x), want,
                     {"op": op, "per_channel": per_channel, "biases": biases})


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
@pytest.mark.parametrize("op", OPS)
def test_litert_requant_rounding(kernels: HostKernels, op: str, per_channel: bool) -> None:
    """Exact ties round away from zero everywhere; accumulators where double and
    single rounding disagree show which one LiteRT uses (single only for
    FULLY_CONNECTED)."""
    ties = [k * 2**15 for k in (-5, -3, -1, 1, 3, 5)]  # real -2.5 ... 2.5
    model, x = one_op_model(op, per_channel, 2.0**-8, [2.0**-8] * 6, 1.0, ties)
    assert litert_ref(model, x).ravel().tolist() == [-3, -2, -1, 1, 2, 3]
    assert run_one_op(kernels, op, per_channel, model, x).tolist() == [-3, -2, -1, 1, 2, 3]

    n, single = 8, litert_single_rounding(op, per_channel)
    rng = np.random.default_rng(99 + OPS.index(op))
    ws = [float(np.float32(rng.uniform(1e-4, 1e-3))) for _ in range(n)]
    in_s, out_s = 0.0123, 0.77
    mults, shifts = requant_params(in_s, ws, out_s, "float64")

    def differ(accs: np.ndarray, k: int) -> np.ndarray:
        return (requant_np(accs, mults[k], shifts[k], False)
                != requant_np(accs, mults[k], shifts[k], True))

    biases = find_biases(rng, in_s, ws, out_s, n, per_channel, differ)
    assert biases is not None
    model, x = one_op_model(op, per_channel, in_s, ws, out_s, biases)
    want = litert_ref(model, x).ravel()
    idx = range(n) if per_channel else [0] * n
    for rounding in (single, not single):
        vals = [requant_np(np.array([b]), mults[k], shifts[k], rounding)[0]
                for b, k in zip(biases, idx, strict=True)]
        same = want.tolist() == np.clip(vals, -128, 127).tolist()
        assert same == (rounding == single), f"{op} per_channel={per_channel} single={rounding}"
    assert_bit_exact(run_one_op(kernels, op, per_channel, model, x), want,
                     {"op": op, "per_channel": per_channel, "biases": biases})


@pytest.mark.parametrize("op", ["conv", "depthwise"])
def test_single_rounding_build_rounds_once(kernels: HostKernels,
                                           kernels_single_rounding: HostKernels,
                                           op: str) -> None:
    """HX_REQUANT_SINGLE_ROUNDING switches the convolutions to one rounding:
    on accumulators where the two roundings disagree the default build matches
    LiteRT and the variant matches the single-rounding formula instead."""
    n = 8
    rng = np.random.default_rng(21)
    ws = [float(np.float32(rng.uniform(1e-4, 1e-3))) for _ in range(n)]
    in_s, out_s = 0.0123, 0.77
    mults, shifts = conv_requant(in_s, ws, out_s)

    def differ(accs: np.ndarray, k: int) -> np.ndarray:
        return (requant_np(accs, mults[k], shifts[k], False)
                != requant_np(accs, mults[k], shifts[k], True))

    biases = find_biases(rng, in_s, ws, out_s, n, True, differ)
    assert biases is not None
    model, x = one_op_model(op, True, in_s, ws, out_s, biases)
    single = [requant_np(np.array([b]), mults[k], shifts[k], True)[0]
              for k, b in enumerate(biases)]
    assert_bit_exact(run_one_op(kernels, op, True, model, x), litert_ref(model, x).ravel(),
                     {"op": op, "biases": biases})
    got = run_one_op(kernels_single_rounding, op, True, model, x)
    assert got.tolist() == np.clip(single, -128, 127).tolist()


@pytest.mark.parametrize("per_channel", [False, True], ids=["per_tensor", "per_channel"])
def test_fc_double_rounding_build_matches_tflite_micro(
        kernels_fc_double_rounding: HostKernels, per_channel: bool) -> None:
    """TFLite Micro's FULLY_CONNECTED rounds twice (unlike LiteRT's);
    HX_FC_REQUANT_DOUBLE_ROUNDING reproduces it."""
    n = 8
    rng = np.random.default_rng(5)
    ws = [float(np.float32(rng.uniform(1e-4, 1e-3))) for _ in range(n)]
    in_s, out_s = 0.0123, 0.77
    mults, shifts = requant_params(in_s, ws, out_s, "float64")

    def differ(accs: np.ndarray, k: int) -> np.ndarray:
        return (requant_np(accs, mults[k], shifts[k], False)
                != requant_np(accs, mults[k], shifts[k], True))

    biases = find_biases(rng, in_s, ws, out_s, n, per_channel, differ)
    assert biases is not None
    model, x = one_op_model("fc", per_channel, in_s, ws, out_s, biases)
    micro = tflm_ref(model, x).ravel()
    assert not np.array_equal(micro, litert_ref(model, x).ravel())
    got = run_one_op(kernels_fc_double_rounding, "fc", per_channel, model, x)
    assert_bit_exact(got, micro, {"per_channel": per_channel, "biases": biases})
