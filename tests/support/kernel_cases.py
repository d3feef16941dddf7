"""Seeded random cases and kernel parameters for the int8 C kernels' tests.

Each case describes a one-op int8 model for support.synth; the parameters the host-built
kernels (support.kernels_host) take are computed with harness.quant, as the C emitter does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from harness.quant.geometry import PADDING_SAME, PADDING_VALID, conv_output_and_padding
from harness.quant.multiplier import conv_requant
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1, activation_range
from support import synth
from support.kernels_host import (
    HostKernels,
    HxConvParams,
    HxPoolParams,
    build_host_library,
    have_host_gcc,
)

N_CASES = 24
ACTIVATIONS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)

Case = dict[str, Any]


# ---- the host builds and helpers ----------------------------------------------------


_VARIANTS: dict[tuple[str, ...], HostKernels] = {}


def host_kernels(tmp_path_factory: pytest.TempPathFactory, *defines: str) -> HostKernels:
    """The kernels built (once per session and set of defines) with the host gcc."""
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    if defines not in _VARIANTS:
        out = tmp_path_factory.mktemp("hx_kernels")
        _VARIANTS[defines] = HostKernels(build_host_library(out, defines=defines))
    return _VARIANTS[defines]


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


# ---- TFLite Micro ---------------------------------------------------------------


def tflm_ref(model: bytes, x: np.ndarray) -> np.ndarray:
    """Run ``model`` on ``x`` with TFLite Micro's Python interpreter."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    interp = runtime.Interpreter.from_bytes(model)
    interp.set_input(x, 0)
    interp.invoke()
    return np.asarray(interp.get_output(0)).copy()


def reconstruct(mult: int, shift: int) -> float:
    return mult * 2.0 ** (shift - 31)
