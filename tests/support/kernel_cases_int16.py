"""Seeded random cases for the 16x8 (int16 activations, int8 weights) and float32
C kernels' tests, and the kernels built once per session with the host gcc.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.model.graph import Graph
from harness.ops.validate import load_model
from harness.quant.geometry import PADDING_SAME
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1
from support.kernels_host import build_host_library, have_host_gcc
from support.kernels_host_dtypes import DtypeKernels

N_CASES = 24
ACTIVATIONS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)
INPUT_STD = 32768 / math.sqrt(3)  # uniform int16
WEIGHT_STD = 127 / math.sqrt(3)  # uniform int8


def graph_of(model: bytes, tmp_path: Path) -> Graph:
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    return load_model(path)


def assert_bit_exact(got: np.ndarray, want: np.ndarray, what: str, case: dict) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if not np.array_equal(got, want):
        delta = np.abs(got.astype(np.int64) - want.astype(np.int64))
        first = tuple(int(i) for i in np.argwhere(delta)[0])
        pytest.fail(f"{what} not bit-exact: {int(np.count_nonzero(delta))}/{delta.size} differ, "
                    f"max {int(delta.max())}, first at {first}: {got[first]} vs LiteRT "
                    f"{want[first]}\ncase: {case}")


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def int16_input(rng: np.random.Generator, shape: list[int], i: int) -> np.ndarray:
    x = rng.integers(-32768, 32768, size=shape, dtype=np.int16)
    return (x // 16).astype(np.int16) if i % 5 == 4 else x  # some cases with a narrow spread


def _common(rng: np.random.Generator, i: int, taps: int, channels: int) -> dict[str, Any]:
    in_scale = log_uniform(rng, 1e-4, 1e-2)
    base = log_uniform(rng, 1e-3, 5e-2)
    ws = [base * log_uniform(rng, 0.5, 2.0) for _ in range(channels)] if i % 2 == 0 else base
    acc_std = math.sqrt(taps) * INPUT_STD * WEIGHT_STD
    return {"input_scale": in_scale, "weight_scale": ws, "activation": ACTIVATIONS[i % 4],
            "output_scale": acc_std * in_scale * base / rng.uniform(3000.0, 20000.0),
            "bias_range": int(acc_std * 2), "seed": i}


def conv_case(i: int, depthwise: bool) -> dict[str, Any]:
    rng = np.random.default_rng((7000 if depthwise else 6000) + i)
    kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
    dil = (int(v) for v in (rng.integers(1, 3, size=2) if i % 3 == 0 else (1, 1)))
    dh, dw = dil
    h, w = (int(v) for v in rng.integers(3, 9, size=2))
    c = int(rng.integers(1, 5))
    pad = int(rng.integers(0, 2))
    if (kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > w:
        pad = PADDING_SAME
    case = {"input_shape": [int(rng.integers(1, 3)), h, w, c], "kernel": (kh, kw),
            "stride": tuple(int(v) for v in rng.integers(1, 3, size=2)), "dilation": (dh, dw),
            "padding": pad}
    if depthwise:
        mult = 1 + i % 3
        case.update(depth_multiplier=mult, **_common(rng, i, kh * kw, c * mult))
    else:
        oc = int(rng.integers(1, 6))
        case.update(out_channels=oc, **_common(rng, i, kh * kw * c, oc))
    return case


def fc_case(i: int) -> dict[str, Any]:
    rng = np.random.default_rng(8000 + i)
    depth, units = int(rng.integers(1, 65)), int(rng.integers(1, 17))
    return {"input_shape": [int(rng.integers(1, 4)), depth], "units": units,
            **_common(rng, i, depth, units)}


_BUILT: list[DtypeKernels] = []


def dtype_kernels(tmp_path_factory: pytest.TempPathFactory) -> DtypeKernels:
    """firmware/kernels built (once per session) with the host gcc, for the 16x8 and float
    entry points."""
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    if not _BUILT:
        _BUILT.append(DtypeKernels(build_host_library(tmp_path_factory.mktemp("hx_dtypes"))))
    return _BUILT[0]
