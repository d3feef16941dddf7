"""int16 (16x8) and float32 kernels against LiteRT BUILTIN_REF.

Each case builds a one-op model with support.synth_dtypes and runs it three
ways: LiteRT with its reference kernels, the C kernel compiled for the host
(parameters from the same host code the lowering uses), and the NumPy
reference (harness/ops/*/numpy_int8.py). int16 results must be bit-exact; float32 results
within :data:`harness.analysis.compare.FLOAT_TOLERANCE_ULP` ULPs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from harness.analysis.compare import FLOAT_TOLERANCE_ULP, float_ulp_keys
from harness.model.graph import Graph
from harness.ops.c_emit import fused_act_range
from harness.ops.interpreter import run_op
from harness.ops.softmax.params import softmax_int16_params, softmax_luts
from harness.ops.validate import load_model
from harness.quant.geometry import PADDING_SAME, conv_output_and_padding
from harness.quant.multiplier import conv_requant, fc_requant
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1
from support.kernels_host import HxConvParams, HxFcParams, build_host_library, have_host_gcc
from support.kernels_host_dtypes import DtypeKernels, Requant
from support.litert_host import litert_ref
from support.synth_dtypes import one_op

N_CASES = 24
ACTIVATIONS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)
INPUT_STD = 32768 / math.sqrt(3)  # uniform int16
WEIGHT_STD = 127 / math.sqrt(3)  # uniform int8


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> DtypeKernels:
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    return DtypeKernels(build_host_library(tmp_path_factory.mktemp("hx_dtypes")))



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


def _run_conv(kernels: DtypeKernels, tmp_path: Path, i: int, depthwise: bool) -> None:
    case = conv_case(i, depthwise)
    kw = {k: v for k, v in case.items() if k != "input_shape"}
    model = one_op("int16", "depthwise_conv2d" if depthwise else "conv2d",
                   case["input_shape"], **kw)
    g = graph_of(model, tmp_path)
    op = g.ops[0]
    inp, filt, bias, out = (g.tensors[k] for k in (*op.inputs, op.outputs[0]))
    mults, shifts = conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    act_min, act_max = fused_act_range(op, out)
    pads = [conv_output_and_padding(inp.shape[1 + a], filt.shape[1 + a],
                                          case["stride"][a], case["dilation"][a],
                                          case["padding"])[1] for a in (0, 1)]
    p = HxConvParams(0, 0, act_min, act_max, *case["stride"], *case["dilation"], *pads,
                     case.get("depth_multiplier", 1))
    x = int16_input(np.random.default_rng(i), case["input_shape"], i)
    want = litert_ref(model, x)
    got = kernels.conv(depthwise, p, Requant(mults, shifts), x, filt.data, bias.data,
                       out.shape)
    assert_bit_exact(got, want, "C kernel", case)
    assert_bit_exact(run_op(g, op, [x]), want, "numpy", case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_conv2d_16x8(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    _run_conv(kernels, tmp_path, i, depthwise=False)


@pytest.mark.parametrize("i", range(N_CASES))
def test_depthwise_conv2d_16x8(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    _run_conv(kernels, tmp_path, i, depthwise=True)


@pytest.mark.parametrize("i", range(N_CASES))
def test_fully_connected_16x8(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    case = fc_case(i)
    model = one_op("int16", "fully_connected", case["input_shape"],
                   **{k: v for k, v in case.items() if k != "input_shape"})
    g = graph_of(model, tmp_path)
    op = g.ops[0]
    inp, w, bias, out = (g.tensors[k] for k in (*op.inputs, op.outputs[0]))
    mults, shifts = fc_requant(inp.scale, [float(s) for s in w.scales], out.scale)
    act_min, act_max = fused_act_range(op, out)
    x = int16_input(np.random.default_rng(i), case["input_shape"], i)
    want = litert_ref(model, x)
    got = kernels.fully_connected(HxFcParams(0, 0, 0, act_min, act_max),
                                  Requant(mults, shifts), x, w.data, bias.data)
    assert_bit_exact(got, want, "C kernel", case)
    assert_bit_exact(run_op(g, op, [x]), want, "numpy", case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_softmax_int16(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    rng = np.random.default_rng(9000 + i)
    depth = int(rng.choice([1, 2, 3, 5, 10, 16, 37, 100, 300]))
    shape = [int(rng.integers(1, 5)), depth] if i % 3 else [1, 2, int(rng.integers(1, 4)), depth]
    case = {"shape": shape, "beta": log_uniform(rng, 0.1, 3.0),
            "input_scale": log_uniform(rng, 1e-5, 2e-3)}
    model = one_op("int16", "softmax", shape, input_scale=case["input_scale"],
                   beta=case["beta"])
    g = graph_of(model, tmp_path)
    x = int16_input(rng, shape, i)
    want = litert_ref(model, x)
    mult, shift = softmax_int16_params(case["beta"], g.tensors[g.inputs[0]].scale)
    exp_lut, recip_lut = softmax_luts()
    assert_bit_exact(kernels.softmax(mult, shift, exp_lut, recip_lut, x), want, "C kernel", case)
    assert_bit_exact(run_op(g, g.ops[0], [x]), want, "numpy", case)


FLOAT_RANGES = {0: (-3.4028234663852886e38, 3.4028234663852886e38), 1: (0.0, 3.4028234663852886e38),
                2: (-1.0, 1.0), 3: (0.0, 6.0)}


@pytest.mark.parametrize("i", range(N_CASES))
def test_fully_connected_float(kernels: DtypeKernels, i: int) -> None:
    rng = np.random.default_rng(9500 + i)
    depth, units, batches = int(rng.integers(1, 65)), int(rng.integers(1, 17)), int(
        rng.integers(1, 4))
    act = ACTIVATIONS[i % 4]
    model = one_op("float32", "fully_connected", [batches, depth], units=units,
                   activation=act, bias=i % 5 != 2, seed=i)
    it = Interpreter(model_content=model)
    details = {d["name"]: d["index"] for d in it.get_tensor_details()}
    w = it.get_tensor(details["fc/weights"])
    bias = it.get_tensor(details["fc/bias"]) if "fc/bias" in details else None
    x = rng.normal(0.0, 2.0, size=(batches, depth)).astype(np.float32)
    want = litert_ref(model, x)
    got = kernels.fully_connected_f32(FLOAT_RANGES[act], x, w, bias)
    ulps = np.abs(float_ulp_keys(got) - float_ulp_keys(want))
    assert ulps.max() <= FLOAT_TOLERANCE_ULP, f"{ulps.max()} ULP apart: {got} vs {want}"
