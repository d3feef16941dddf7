"""The C kernels in firmware/kernels must be bit-exact with LiteRT's reference kernels.

Each case builds a one-op int8 model with support.synth, runs it through LiteRT
(BUILTIN_REF) and through the host-compiled kernels fed with parameters from
harness.quant, and compares every output byte.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.ops.softmax.params import softmax_params
from harness.quant.geometry import PADDING_SAME, PADDING_VALID, conv_output_and_padding
from harness.quant.multiplier import (
    FC_SINGLE_ROUNDING,
    conv_requant,
    fc_requant,
    multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_single,
    requant_params,
)
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1, activation_range
from support import synth
from support.kernels_host import (
    ARM_FLAGS,
    KERNEL_DIR,
    HostKernels,
    HxConvParams,
    HxFcParams,
    HxPoolParams,
    HxSoftmaxParams,
    build_host_library,
    have_host_gcc,
    kernel_sources,
)
from support.litert_host import litert_ref

N_CASES = 24
ACTIVATIONS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)

Case = dict[str, Any]


# ---- fixtures and helpers ----------------------------------------------------


_VARIANTS: dict[tuple[str, ...], HostKernels] = {}


def host_kernels(tmp_path_factory: pytest.TempPathFactory, *defines: str) -> HostKernels:
    """The kernels built (once per session and set of defines) with the host gcc."""
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    if defines not in _VARIANTS:
        out = tmp_path_factory.mktemp("hx_kernels")
        _VARIANTS[defines] = HostKernels(build_host_library(out, defines=defines))
    return _VARIANTS[defines]


@pytest.fixture(scope="session")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    """The kernels as the firmware builds them by default."""
    return host_kernels(tmp_path_factory)


@pytest.fixture(scope="session")
def kernels_single_rounding(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    """The kernels built with HX_REQUANT_SINGLE_ROUNDING."""
    return host_kernels(tmp_path_factory, "HX_REQUANT_SINGLE_ROUNDING")


@pytest.fixture(scope="session")
def kernels_fc_double_rounding(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    """The kernels built with HX_FC_REQUANT_DOUBLE_ROUNDING (TFLite Micro's FC)."""
    return host_kernels(tmp_path_factory, "HX_FC_REQUANT_DOUBLE_ROUNDING")



def assert_bit_exact(got: np.ndarray, want: np.ndarray, case: Case) -> None:
    """Fail with the case, the mismatch count and the largest difference."""
    assert got.shape == want.shape, f"{case}: shape {got.shape} != reference {want.shape}"
    if not np.array_equal(got, want):
        delta = np.abs(got.astype(np.int32) - want.astype(np.int32))
        first = tuple(int(i) for i in np.argwhere(delta)[0])
        pytest.fail(
            f"not bit-exact: {int(np.count_nonzero(delta))} of {delta.size} outputs differ, "
            f"max |delta| = {int(delta.max())}, first at {first} "
            f"(kernel {int(got[first])}, LiteRT {int(want[first])})\ncase: {case}")


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def random_input(rng: np.random.Generator, shape: list[int]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def output_scale_for(rng: np.random.Generator, depth: int, in_scale: float,
                     w_scale: float) -> float:
    """An output scale that spreads a typical accumulator over the int8 range."""
    acc_std = math.sqrt(depth) * 74.0 * 74.0
    return acc_std * in_scale * w_scale / rng.uniform(15.0, 60.0)


def weight_scales(rng: np.random.Generator, per_channel: bool, channels: int
                  ) -> tuple[float | list[float], float]:
    """(weight_scale argument for synth, a representative scale)."""
    base = log_uniform(rng, 1e-3, 5e-2)
    if not per_channel:
        return base, base
    return [base * log_uniform(rng, 0.5, 2.0) for _ in range(channels)], base


def padding_for(rng: np.random.Generator, sizes: tuple[int, int], kernel: tuple[int, int],
                dilation: tuple[int, int]) -> int:
    """A random padding code that yields a non-empty output on both axes."""
    pad = int(rng.integers(0, 2))
    too_big = any((k - 1) * d + 1 > n for n, k, d in zip(sizes, kernel, dilation, strict=True))
    return PADDING_SAME if pad == PADDING_VALID and too_big else pad


def conv_params(model: bytes, prefix: str, act: int, stride: tuple[int, int],
                dilation: tuple[int, int], pad: int, depth_multiplier: int = 1
                ) -> tuple[HxConvParams, list[int], list[int], np.ndarray, np.ndarray | None,
                           list[int]]:
    """Kernel parameters for a conv/depthwise model, computed with harness.quant."""
    by_name = {t.name: t for t in synth.tensors(model)}
    inp = by_name["input"]
    filt = by_name[f"{prefix}/filter"]
    bias = by_name.get(f"{prefix}/bias")
    out = synth.tensor_by_name(model, prefix)
    mults, shifts = conv_requant(inp.scales[0], filt.scales, out.scales[0])
    act_min, act_max = activation_range(act, out.scales[0], out.zero_points[0])
    _, pad_h = conv_output_and_padding(inp.shape[1], filt.shape[1], stride[0],
                                             dilation[0], pad)
    _, pad_w = conv_output_and_padding(inp.shape[2], filt.shape[2], stride[1],
                                             dilation[1], pad)
    p = HxConvParams(
        input_offset=-inp.zero_points[0], output_offset=out.zero_points[0],
        act_min=act_min, act_max=act_max, stride_h=stride[0], stride_w=stride[1],
        dilation_h=dilation[0], dilation_w=dilation[1], pad_h=pad_h, pad_w=pad_w,
        depth_multiplier=depth_multiplier)
    assert filt.data is not None
    return p, mults, shifts, filt.data, None if bias is None else bias.data, list(out.shape)


def pool_params(model: bytes, name: str, act: int, kernel: tuple[int, int],
                stride: tuple[int, int], pad: int) -> tuple[HxPoolParams, list[int]]:
    inp = synth.tensor_by_name(model, "input")
    out = synth.tensor_by_name(model, name)
    act_min, act_max = activation_range(act, out.scales[0], out.zero_points[0])
    _, pad_h = conv_output_and_padding(inp.shape[1], kernel[0], stride[0], 1, pad)
    _, pad_w = conv_output_and_padding(inp.shape[2], kernel[1], stride[1], 1, pad)
    p = HxPoolParams(stride_h=stride[0], stride_w=stride[1], filter_h=kernel[0],
                     filter_w=kernel[1], pad_h=pad_h, pad_w=pad_w, act_min=act_min,
                     act_max=act_max)
    return p, list(out.shape)


# ---- random cases ------------------------------------------------------------


def conv_case(i: int) -> Case:
    rng = np.random.default_rng(1000 + i)
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    dh, dw = (int(v) for v in (rng.integers(1, 3, size=2) if i % 3 == 0 else (1, 1)))
    h, w = (int(v) for v in rng.integers(3, 10, size=2))
    c, oc = int(rng.integers(1, 6)), int(rng.integers(1, 7))
    per_channel = i % 2 == 0
    ws, w0 = weight_scales(rng, per_channel, oc)
    in_scale = log_uniform(rng, 0.005, 0.2)
    return {
        "input_shape": [int(rng.integers(1, 3)), h, w, c], "out_channels": oc,
        "kernel": (kh, kw), "stride": tuple(int(v) for v in rng.integers(1, 3, size=2)),
        "dilation": (dh, dw),
        "padding": padding_for(rng, (h, w), (kh, kw), (dh, dw)),
        "activation": ACTIVATIONS[i % 4], "weight_scale": ws,
        "input_scale": in_scale, "input_zp": int(rng.integers(-100, 101)),
        "output_scale": output_scale_for(rng, kh * kw * c, in_scale, w0),
        "output_zp": int(rng.integers(-100, 101)),
        "bias_range": int(math.sqrt(kh * kw * c) * 74 * 74 * 2), "seed": i,
    }


def depthwise_case(i: int) -> Case:
    rng = np.random.default_rng(2000 + i)
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    dh, dw = (int(v) for v in (rng.integers(1, 3, size=2) if i % 3 == 1 else (1, 1)))
    h, w = (int(v) for v in rng.integers(3, 10, size=2))
    c, mult = int(rng.integers(1, 5)), 1 + i % 3
    per_channel = i % 2 == 0
    ws, w0 = weight_scales(rng, per_channel, c * mult)
    in_scale = log_uniform(rng, 0.005, 0.2)
    return {
        "input_shape": [int(rng.integers(1, 3)), h, w, c], "depth_multiplier": mult,
        "kernel": (kh, kw), "stride": tuple(int(v) for v in rng.integers(1, 3, size=2)),
        "dilation": (dh, dw),
        "padding": padding_for(rng, (h, w), (kh, kw), (dh, dw)),
        "activation": ACTIVATIONS[(i // 2) % 4], "weight_scale": ws,
        "input_scale": in_scale, "input_zp": int(rng.integers(-100, 101)),
        "output_scale": output_scale_for(rng, kh * kw, in_scale, w0),
        "output_zp": int(rng.integers(-100, 101)),
        "bias_range": int(math.sqrt(kh * kw) * 74 * 74 * 2), "bias": i % 7 != 3,
        "seed": i,
    }


def fc_case(i: int) -> Case:
    rng = np.random.default_rng(3000 + i)
    depth, units = int(rng.integers(1, 65)), int(rng.integers(1, 17))
    per_channel = i % 2 == 0
    ws, w0 = weight_scales(rng, per_channel, units)
    in_scale = log_uniform(rng, 0.005, 0.2)
    return {
        "input_shape": [int(rng.integers(1, 5)), depth], "units": units,
        "activation": ACTIVATIONS[(i // 2) % 4], "weight_scale": ws,
        "input_scale": in_scale, "input_zp": int(rng.integers(-100, 101)),
        "output_scale": output_scale_for(rng, depth, in_scale, w0),
        "output_zp": int(rng.integers(-100, 101)),
        "bias_range": int(math.sqrt(depth) * 74 * 74 * 2), "bias": i % 7 != 3,
        "seed": i,
    }


def pool_case(i: int, base: int) -> Case:
    rng = np.random.default_rng(base + i)
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    h, w = (int(v) for v in rng.integers(2, 11, size=2))
    pad = int(rng.integers(0, 2))
    if pad == PADDING_VALID and (kh > h or kw > w):
        pad = PADDING_SAME
    return {
        "input_shape": [int(rng.integers(1, 3)), h, w, int(rng.integers(1, 6))],
        "kernel": (kh, kw), "stride": tuple(int(v) for v in rng.integers(1, 4, size=2)),
        "padding": pad, "activation": ACTIVATIONS[i % 4],
        "scale": log_uniform(rng, 0.005, 0.2), "zero_point": int(rng.integers(-128, 128)),
    }


def softmax_case(i: int) -> Case:
    rng = np.random.default_rng(5000 + i)
    depth = int(rng.choice([1, 2, 3, 5, 10, 16, 37, 100, 255, 300]))
    shape = [int(rng.integers(1, 5)), depth] if i % 3 else [1, 2, int(rng.integers(1, 4)), depth]
    beta, scale = log_uniform(rng, 0.1, 3.0), log_uniform(rng, 0.005, 0.5)
    if i == 0:
        beta, scale = 10.0, 4.0  # beta*scale*2^26 above 2^31: the multiplier is capped
    return {"input_shape": shape, "beta": beta, "input_scale": scale,
            "input_zp": int(rng.integers(-128, 128)), "seed": i}


# ---- bit-exactness tests -----------------------------------------------------


@pytest.mark.parametrize("i", range(N_CASES))
def test_fully_connected(kernels: HostKernels, i: int) -> None:
    case = fc_case(i)
    kw = {k: v for k, v in case.items() if k not in ("input_shape", "units")}
    model = synth.fully_connected(case["input_shape"], case["units"], **kw)
    inp = synth.tensor_by_name(model, "input")
    wts = synth.tensor_by_name(model, "fc/weights")
    bias = synth.tensor_by_name(model, "fc/bias").data if case["bias"] else None
    out = synth.tensor_by_name(model, "fc")
    mults, shifts = fc_requant(inp.scales[0], wts.scales, out.scales[0])
    act_min, act_max = activation_range(case["activation"], out.scales[0],
                                              out.zero_points[0])
    p = HxFcParams(input_offset=-inp.zero_points[0], filter_offset=-wts.zero_points[0],
                   output_offset=out.zero_points[0], act_min=act_min, act_max=act_max)
    x = random_input(np.random.default_rng(i), case["input_shape"])
    assert wts.data is not None
    got = kernels.fully_connected(p, mults, shifts, x, wts.data, bias,
                                  per_channel=len(wts.scales) > 1)
    assert_bit_exact(got, litert_ref(model, x), case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_conv2d(kernels: HostKernels, i: int) -> None:
    case = conv_case(i)
    kw = {k: v for k, v in case.items() if k not in ("input_shape", "out_channels", "kernel")}
    model = synth.conv2d(case["input_shape"], case["out_channels"], case["kernel"], **kw)
    p, mults, shifts, filt, bias, out_shape = conv_params(
        model, "conv", case["activation"], case["stride"], case["dilation"], case["padding"])
    x = random_input(np.random.default_rng(i), case["input_shape"])
    got = kernels.conv2d(p, mults, shifts, x, filt, bias, out_shape)
    assert_bit_exact(got, litert_ref(model, x), case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_depthwise_conv2d(kernels: HostKernels, i: int) -> None:
    case = depthwise_case(i)
    kw = {k: v for k, v in case.items() if k not in ("input_shape", "kernel")}
    model = synth.depthwise_conv2d(case["input_shape"], case["kernel"], **kw)
    p, mults, shifts, filt, bias, out_shape = conv_params(
        model, "dwconv", case["activation"], case["stride"], case["dilation"], case["padding"],
        depth_multiplier=case["depth_multiplier"])
    x = random_input(np.random.default_rng(i), case["input_shape"])
    got = kernels.depthwise_conv2d(p, mults, shifts, x, filt, bias, out_shape)
    assert_bit_exact(got, litert_ref(model, x), case)


def _pool_test(kernels: HostKernels, i: int, kind: str) -> None:
    case = pool_case(i, 4000 if kind == "avg" else 4500)
    build: Callable[..., bytes] = synth.avg_pool2d if kind == "avg" else synth.max_pool2d
    model = build(case["input_shape"], case["kernel"], stride=case["stride"],
                  padding=case["padding"], activation=case["activation"],
                  scale=case["scale"], zero_point=case["zero_point"])
    name = "avgpool" if kind == "avg" else "maxpool"
    p, out_shape = pool_params(model, name, case["activation"], case["kernel"],
                               case["stride"], case["padding"])
    x = random_input(np.random.default_rng(i), case["input_shape"])
    run = kernels.avg_pool if kind == "avg" else kernels.max_pool
    assert_bit_exact(run(p, x, out_shape), litert_ref(model, x), case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_avg_pool(kernels: HostKernels, i: int) -> None:
    _pool_test(kernels, i, "avg")


@pytest.mark.parametrize("i", range(N_CASES))
def test_max_pool(kernels: HostKernels, i: int) -> None:
    _pool_test(kernels, i, "max")


@pytest.mark.parametrize("i", range(N_CASES))
def test_softmax(kernels: HostKernels, i: int) -> None:
    case = softmax_case(i)
    model = synth.softmax(case["input_shape"], beta=case["beta"],
                          input_scale=case["input_scale"], input_zp=case["input_zp"])
    inp = synth.tensor_by_name(model, "input")
    mult, shift, diff_min = softmax_params(case["beta"], inp.scales[0])
    p = HxSoftmaxParams(input_multiplier=mult, input_left_shift=shift, diff_min=diff_min)
    rng = np.random.default_rng(i)
    x = random_input(rng, case["input_shape"])
    if i % 4 == 3:  # a narrow spread keeps many values near the row maximum
        x = np.clip(x // 16 + rng.integers(-128, 112), -128, 127).astype(np.int8)
    assert_bit_exact(kernels.softmax(p, x), litert_ref(model, x), case)


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


# ---- TFLite Micro ---------------------------------------------------------------


def tflm_ref(model: bytes, x: np.ndarray) -> np.ndarray:
    """Run ``model`` on ``x`` with TFLite Micro's Python interpreter."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    interp = runtime.Interpreter.from_bytes(model)
    interp.set_input(x, 0)
    interp.invoke()
    return np.asarray(interp.get_output(0)).copy()


def _synth_example(op: str) -> tuple[bytes, list[int]]:
    if op == "conv2d":
        c = conv_case(1)
        kw = {k: v for k, v in c.items() if k not in ("input_shape", "out_channels", "kernel")}
        return synth.conv2d(c["input_shape"], c["out_channels"], c["kernel"], **kw), \
            c["input_shape"]
    if op == "depthwise_conv2d":
        c = depthwise_case(2)
        kw = {k: v for k, v in c.items() if k not in ("input_shape", "kernel")}
        return synth.depthwise_conv2d(c["input_shape"], c["kernel"], **kw), c["input_shape"]
    if op in ("avg_pool2d", "max_pool2d"):
        c = pool_case(3, 4000)
        build = synth.avg_pool2d if op == "avg_pool2d" else synth.max_pool2d
        return build(c["input_shape"], c["kernel"], stride=c["stride"], padding=c["padding"],
                     activation=c["activation"], scale=c["scale"],
                     zero_point=c["zero_point"]), c["input_shape"]
    if op == "softmax":
        return synth.softmax([3, 40], beta=1.0, input_scale=0.07, input_zp=5), [3, 40]
    if op == "reshape":
        return synth.reshape([1, 2, 3, 4], [1, 24]), [1, 2, 3, 4]
    layers: list[tuple[str, dict[str, object]]] = [
        ("conv2d", {"out_channels": 4, "kernel": 3, "activation": ACT_RELU,
                    "weight_scale": [0.02, 0.03, 0.01, 0.02]}),
        ("depthwise_conv2d", {"kernel": 3, "depth_multiplier": 2, "output_scale": 0.1}),
        ("max_pool2d", {"kernel": 2, "stride": 2}),
        ("avg_pool2d", {"kernel": 2, "stride": 2}),
        ("reshape", {"new_shape": [1, 32]}),
        ("softmax", {}),
    ]
    return synth.chain([1, 8, 8, 3], layers, seed=4), [1, 8, 8, 3]


@pytest.mark.parametrize("op", ["conv2d", "depthwise_conv2d", "avg_pool2d", "max_pool2d",
                                "softmax", "reshape", "chain"])
def test_synth_models_agree_in_tflite_micro(op: str) -> None:
    """synth's models load in TFLite Micro, which agrees with LiteRT on these ops."""
    model, shape = _synth_example(op)
    x = random_input(np.random.default_rng(11), shape)
    assert_bit_exact(tflm_ref(model, x), litert_ref(model, x), {"op": op})


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


# ---- the target build --------------------------------------------------------


def test_kernels_build_warning_free_for_cortex_m4(tmp_path: Path) -> None:
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    for src in kernel_sources():
        for defines in ([], ["-DHX_REQUANT_SINGLE_ROUNDING"], ["-DHX_FC_REQUANT_DOUBLE_ROUNDING"]):
            cmd = [cc, *ARM_FLAGS, *defines, f"-I{KERNEL_DIR}", "-c", str(src),
                   "-o", str(tmp_path / (src.stem + ".o"))]
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stderr}"
            assert res.stderr == "", res.stderr
