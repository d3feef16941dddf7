"""The NumPy int8 kernels (harness/ops/*/numpy_int8.py, run by harness/ops/interpreter.py)
must be bit-exact with LiteRT's reference kernels (BUILTIN_REF), output and every
intermediate tensor, and its requantization variants must do what they say.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from ai_edge_litert.interpreter import OpResolverType

from harness.model.graph import Graph
from harness.ops.interpreter import Int8Interpreter, run_graph, run_op
from harness.ops.plan import OpPlan
from harness.ops.requant import plan_requant
from harness.ops.validate import load_model, load_model_bytes
from harness.quant.geometry import PADDING_SAME, conv_output_and_padding
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1
from support import synth
from support.int8_checks import assert_all_tensors, assert_same, litert, random_int8
from support.paths import EXAMPLE, shared_model

N_CASES = 24
ACTS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)
Case = dict[str, Any]


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def out_scale(rng: np.random.Generator, depth: int, in_scale: float, w_scale: float) -> float:
    """An output scale that spreads typical accumulators over the int8 range."""
    return math.sqrt(depth) * 74.0 * 74.0 * in_scale * w_scale / rng.uniform(15.0, 60.0)


def weight_scale(rng: np.random.Generator, per_channel: bool, channels: int
                 ) -> tuple[float | list[float], float]:
    base = log_uniform(rng, 1e-3, 5e-2)
    if per_channel:
        return [base * log_uniform(rng, 0.5, 2.0) for _ in range(channels)], base
    return base, base


def padding(rng: np.random.Generator, hw: tuple[int, int], k: tuple[int, int],
            d: tuple[int, int] = (1, 1)) -> int:
    """SAME or VALID, VALID only where it leaves an output."""
    if any((kk - 1) * dd + 1 > n for n, kk, dd in zip(hw, k, d, strict=True)):
        return PADDING_SAME
    return int(rng.integers(0, 2))


# ---- random one-op cases -------------------------------------------------------


def conv_case(i: int) -> tuple[bytes, list[int]]:
    rng = np.random.default_rng(11_000 + i)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if i % 3 == 0 else (1, 1)
    hw = (int(rng.integers(3, 11)), int(rng.integers(3, 11)))
    c, oc = int(rng.integers(1, 7)), int(rng.integers(1, 9))
    ws, w0 = weight_scale(rng, i % 2 == 0, oc)
    in_s = log_uniform(rng, 0.005, 0.2)
    shape = [int(rng.integers(1, 3)), *hw, c]
    model = synth.conv2d(
        shape, oc, k, stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), dilation=d,
        padding=padding(rng, hw, k, d), activation=ACTS[i % 4], weight_scale=ws,
        input_scale=in_s, input_zp=int(rng.integers(-100, 101)),
        output_scale=out_scale(rng, k[0] * k[1] * c, in_s, w0),
        output_zp=int(rng.integers(-100, 101)),
        bias_range=int(math.sqrt(k[0] * k[1] * c) * 74 * 74 * 2), seed=i)
    return model, shape


def depthwise_case(i: int) -> tuple[bytes, list[int]]:
    rng = np.random.default_rng(12_000 + i)
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3))) if i % 4 == 1 else (1, 1)
    hw = (int(rng.integers(3, 11)), int(rng.integers(3, 11)))
    c, mult = int(rng.integers(1, 6)), 1 + i % 3
    ws, w0 = weight_scale(rng, i % 2 == 0, c * mult)
    in_s = log_uniform(rng, 0.005, 0.2)
    shape = [int(rng.integers(1, 3)), *hw, c]
    model = synth.depthwise_conv2d(
        shape, k, depth_multiplier=mult,
        stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), dilation=d,
        padding=padding(rng, hw, k, d), activation=ACTS[(i // 3) % 4], weight_scale=ws,
        input_scale=in_s, input_zp=int(rng.integers(-100, 101)),
        output_scale=out_scale(rng, k[0] * k[1], in_s, w0),
        output_zp=int(rng.integers(-100, 101)), bias=i % 5 != 2,
        bias_range=int(math.sqrt(k[0] * k[1]) * 74 * 74 * 2), seed=i)
    return model, shape


def fc_case(i: int) -> tuple[bytes, list[int]]:
    rng = np.random.default_rng(13_000 + i)
    depth, units = int(rng.integers(1, 97)), int(rng.integers(1, 21))
    batches = int(rng.integers(1, 6)) if i % 4 else 1
    shape = [batches, depth] if i % 5 else [batches, 1, 1, depth]
    ws, w0 = weight_scale(rng, i % 2 == 0, units)
    in_s = log_uniform(rng, 0.005, 0.2)
    model = synth.fully_connected(
        shape, units, activation=ACTS[(i // 2) % 4], weight_scale=ws, input_scale=in_s,
        input_zp=int(rng.integers(-100, 101)), output_scale=out_scale(rng, depth, in_s, w0),
        output_zp=int(rng.integers(-100, 101)), bias=i % 6 != 5,
        bias_range=int(math.sqrt(depth) * 74 * 74 * 2), seed=i)
    return model, shape


def pool_case(i: int, build: Callable[..., bytes], base: int) -> tuple[bytes, list[int]]:
    rng = np.random.default_rng(base + i)
    k = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
    hw = (int(rng.integers(2, 12)), int(rng.integers(2, 12)))
    shape = [int(rng.integers(1, 3)), *hw, int(rng.integers(1, 7))]
    model = build(shape, k, stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                  padding=padding(rng, hw, k), activation=ACTS[i % 4],
                  scale=log_uniform(rng, 0.005, 0.2), zero_point=int(rng.integers(-128, 128)))
    return model, shape


def softmax_case(i: int) -> tuple[bytes, list[int]]:
    rng = np.random.default_rng(15_000 + i)
    depth = int(rng.choice([1, 2, 3, 4, 7, 10, 16, 37, 100, 300]))
    shape = [int(rng.integers(1, 6)), depth] if i % 3 else [1, 2, int(rng.integers(1, 4)), depth]
    beta, scale = log_uniform(rng, 0.1, 3.0), log_uniform(rng, 0.003, 0.5)
    if i == 0:
        beta, scale = 10.0, 4.0  # beta * scale * 2**26 beyond 2**31: the multiplier saturates
    return synth.softmax(shape, beta=beta, input_scale=scale,
                         input_zp=int(rng.integers(-128, 128))), shape


def reshape_case(i: int) -> tuple[bytes, list[int]]:
    rng = np.random.default_rng(16_000 + i)
    dims = [int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 5)))]
    new = [int(np.prod(dims))]
    for _ in range(int(rng.integers(0, 3))):  # split the last dimension by a divisor
        last = new[-1]
        divs = [v for v in range(2, last + 1) if last % v == 0]
        if divs:
            f = int(rng.choice(divs))
            new[-1:] = [last // f, f]
    return synth.reshape(dims, new, scale=log_uniform(rng, 0.005, 0.2),
                         zero_point=int(rng.integers(-128, 128))), dims


CASES: dict[str, Callable[[int], tuple[bytes, list[int]]]] = {
    "conv2d": conv_case,
    "depthwise": depthwise_case,
    "fully_connected": fc_case,
    "avg_pool": lambda i: pool_case(i, synth.avg_pool2d, 14_000),
    "max_pool": lambda i: pool_case(i, synth.max_pool2d, 14_500),
    "softmax": softmax_case,
    "reshape": reshape_case,
}


def case_input(kind: str, i: int, shape: list[int]) -> np.ndarray:
    rng = np.random.default_rng(i)
    x = random_int8(rng, shape)
    if kind == "softmax" and i % 4 == 3:  # a narrow spread keeps many values near the max
        x = np.clip(x // 16 + rng.integers(-128, 112), -128, 127).astype(np.int8)
    return x


# ---- bit-exact: one op at a time -------------------------------------------------


@pytest.mark.parametrize("i", range(N_CASES))
@pytest.mark.parametrize("kind", list(CASES))
def test_op_bit_exact(kind: str, i: int) -> None:
    model, shape = CASES[kind](i)
    graph = load_model_bytes(model)
    assert [op.name for op in graph.ops] and len(graph.ops) == 1
    x = case_input(kind, i, shape)
    want = litert(model, [x])[0][0]
    got = run_op(graph, graph.ops[0], [x])  # constants (weights, bias, shape) as None
    assert_same(got, want, f"{kind} case {i}")


@pytest.mark.parametrize("name", ["micro_speech_quantized.tflite", "hello_world_int8.tflite"])
def test_shared_model_outputs_and_intermediates(name: str) -> None:
    path = shared_model(name)
    graph = load_model(path)
    interp = Int8Interpreter(graph)
    rng = np.random.default_rng(8)
    for k in range(4):
        x = random_int8(rng, graph.tensors[graph.inputs[0]].shape)
        outs, tensors = litert(path, [x], all_tensors=True)
        got, values = interp.run([x])
        assert_same(got[0], outs[0], f"{name} vector {k}")
        assert_all_tensors(graph, values, tensors, f"{name} vector {k}")


CHAIN = [
    ("conv2d", {"out_channels": 6, "kernel": 3, "activation": ACT_RELU6,
                "weight_scale": [0.01, 0.02, 0.015, 0.03, 0.005, 0.012], "output_scale": 0.04,
                "output_zp": -20}),
    ("depthwise_conv2d", {"kernel": 3, "depth_multiplier": 2, "stride": 2, "padding": "VALID",
                          "weight_scale": 0.02, "output_scale": 0.06, "output_zp": 5}),
    ("max_pool2d", {"kernel": 2, "stride": 1, "padding": "SAME"}),
    ("avg_pool2d", {"kernel": 2, "stride": 2}),
    ("reshape", {"new_shape": [1, 48]}),
    ("fully_connected", {"units": 10, "weight_scale": 0.03, "output_scale": 0.15,
                         "activation": ACT_RELU}),
    ("fully_connected", {"units": 5, "weight_scale": [0.02, 0.03, 0.025, 0.01, 0.04],
                         "output_scale": 0.2, "output_zp": 10}),
    ("softmax", {"beta": 0.8}),
]


def test_chain_model_intermediates() -> None:
    model = synth.chain([1, 10, 10, 3], CHAIN, input_scale=0.03, input_zp=-7, seed=5)
    graph = load_model_bytes(model)
    interp = Int8Interpreter(graph)
    rng = np.random.default_rng(9)
    for k in range(5):
        x = random_int8(rng, [1, 10, 10, 3])
        outs, tensors = litert(model, [x], all_tensors=True)
        got, values = interp.run([x])
        assert_same(got[0], outs[0], f"chain vector {k}")
        assert_all_tensors(graph, values, tensors, f"chain vector {k}")


def test_trace_exposes_the_stages() -> None:
    model, shape = conv_case(4)
    graph = load_model_bytes(model)
    x = case_input("conv2d", 4, shape)
    trace: dict = {}
    out = run_op(graph, graph.ops[0], [x, None, None], trace=trace)
    assert trace["acc"].shape == out.shape and trace["rounding"] == "double"
    lo, hi = trace["act_range"]
    again = np.clip(trace["scaled"] + trace["output_zero_point"], lo, hi)
    assert np.array_equal(again, out)
    # Explicit weights replace the constant ones.
    w = graph.tensors[graph.ops[0].inputs[1]].data
    zero = run_op(graph, graph.ops[0], [x, np.zeros_like(w), None])
    assert not np.array_equal(zero, out) or not w.any()

    sm = load_model_bytes(synth.softmax([2, 5], beta=1.0, input_scale=0.1))
    trace = {}
    run_op(sm, sm.ops[0], [random_int8(np.random.default_rng(0), [2, 5])], trace=trace)
    assert {"diff", "scaled_diff", "exp", "sum", "reciprocal", "prob"} <= set(trace)
    with pytest.raises(ValueError, match="requant"):
        run_op(sm, sm.ops[0], [None], requant="nearest")


# ---- the requantization variants -----------------------------------------------------


def big_case(kind: str, i: int) -> tuple[bytes, list[int]]:
    """A one-op model with some 10,000 outputs, so that rare rounding differences show."""
    rng = np.random.default_rng(17_000 + i)
    in_s, per_channel = log_uniform(rng, 0.005, 0.2), i % 2 == 0
    common: dict[str, Any] = {"input_scale": in_s, "input_zp": int(rng.integers(-50, 51)),
                              "output_zp": int(rng.integers(-20, 21)), "seed": i}
    if kind == "conv2d":
        ws, w0 = weight_scale(rng, per_channel, 16)
        return synth.conv2d([1, 24, 24, 4], 16, 2, weight_scale=ws,
                            output_scale=out_scale(rng, 16, in_s, w0), **common), [1, 24, 24, 4]
    if kind == "depthwise":
        ws, w0 = weight_scale(rng, per_channel, 16)
        return synth.depthwise_conv2d([1, 24, 24, 8], 2, depth_multiplier=2, weight_scale=ws,
                                      output_scale=out_scale(rng, 4, in_s, w0),
                                      **common), [1, 24, 24, 8]
    if kind == "softmax":
        return synth.softmax([4000, 10], beta=1.0, input_scale=0.1), [4000, 10]
    if i == 3:  # power-of-two scales: exact ties, where half-even and half-away disagree
        common.update(input_scale=2.0**-6, output_zp=0)
        return synth.fully_connected([256, 8], 16, weight_scale=2.0**-6, output_scale=2.0**-4,
                                     **common), [256, 8]
    ws, w0 = weight_scale(rng, per_channel, 64)
    return synth.fully_connected([160, 16], 64, weight_scale=ws,
                                 output_scale=out_scale(rng, 16, in_s, w0), **common), [160, 16]


@pytest.mark.parametrize("i", range(4))
@pytest.mark.parametrize("kind", ["conv2d", "depthwise", "fully_connected", "softmax"])
def test_big_op_bit_exact(kind: str, i: int) -> None:
    """Bit-exact on ~10,000 outputs, where rounding alternatives would show."""
    model, shape = big_case(kind, i)
    graph = load_model_bytes(model)
    x = case_input(kind, i, shape)
    assert_same(run_op(graph, graph.ops[0], [x]), litert(model, [x])[0][0], f"big {kind} {i}")


def test_litert_rounds_fc_once_and_convolutions_twice() -> None:
    """Measured fact: LiteRT BUILTIN_REF's FULLY_CONNECTED (per-tensor and per-channel)
    disagrees with double rounding, its convolutions with single rounding."""
    for kind, other, cases in (("fully_connected", "double", (0, 1)),
                               ("conv2d", "single", (0, 1)), ("depthwise", "single", (0, 1))):
        for i in cases:  # even i: per-channel weights, odd: per-tensor
            model, shape = big_case(kind, i)
            graph = load_model_bytes(model)
            x = case_input(kind, i, shape)
            got = run_op(graph, graph.ops[0], [x], requant=other)
            assert not np.array_equal(got, litert(model, [x])[0][0]), (kind, i, other)


def test_variants_change_the_arithmetic() -> None:
    """Across random cases "single" and "float" differ from "reference" (by at most
    1); "double" differs only where the reference rounds once (FULLY_CONNECTED)."""
    differ: dict[tuple[str, str], int] = {}
    for kind in ("conv2d", "depthwise", "fully_connected", "softmax"):
        cases = [(CASES[kind], i) for i in range(N_CASES)]
        cases += [(lambda j, k=kind: big_case(k, j), i) for i in range(4)]
        for make, i in cases:
            model, shape = make(i)
            graph = load_model_bytes(model)
            x = case_input(kind, i, shape)
            ref = run_op(graph, graph.ops[0], [x])
            for m in ("double", "single", "float"):
                got = run_op(graph, graph.ops[0], [x], requant=m)
                differ[(kind, m)] = differ.get((kind, m), 0) + int(np.count_nonzero(got != ref))
                assert np.abs(got.astype(int) - ref).max() <= 1, (kind, i, m)
    for kind in ("conv2d", "depthwise", "fully_connected", "softmax"):
        if kind != "softmax":
            assert differ[(kind, "single" if kind != "fully_connected" else "double")] > 0
        assert differ[(kind, "float")] > 0, str(differ)
    assert differ[("conv2d", "double")] == differ[("depthwise", "double")] == 0
    assert differ[("fully_connected", "single")] == 0
    assert differ[("softmax", "double")] == differ[("softmax", "single")] == 0


def _python_conv_single(graph: Graph, x: np.ndarray, pos: tuple[int, int, int, int]) -> int:
    """One CONV_2D output with single rounding, in plain Python integers."""
    op = graph.ops[0]
    inp, filt, bias, out = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
    o = op.options
    b, oy, ox, oc = pos
    _, kh, kw, c = filt.shape
    _, pad_h = conv_output_and_padding(inp.shape[1], kh, o["strideH"],
                                             o["dilationHFactor"], o["padding"])
    _, pad_w = conv_output_and_padding(inp.shape[2], kw, o["strideW"],
                                             o["dilationWFactor"], o["padding"])
    acc = int(bias.data[oc]) if bias is not None and bias.data is not None else 0
    for fy in range(kh):
        for fx in range(kw):
            iy = oy * o["strideH"] - pad_h + fy * o["dilationHFactor"]
            ix = ox * o["strideW"] - pad_w + fx * o["dilationWFactor"]
            if 0 <= iy < inp.shape[1] and 0 <= ix < inp.shape[2]:
                for ic in range(c):
                    acc += int(filt.data[oc, fy, fx, ic]) * (int(x[b, iy, ix, ic])
                                                             - inp.zero_point)
    ws = float(filt.scales[oc if filt.per_channel else 0])
    real = float(inp.scales[0]) * ws / float(out.scales[0])  # float64 of the float32s
    frac, exp = math.frexp(real)
    mult = math.floor(frac * 2**31 + 0.5)
    if mult == 2**31:
        mult, exp = 2**30, exp + 1
    total = 31 - (exp)  # acc * real = acc * mult / 2**(31 - exp)
    prod = acc * mult
    q = (abs(prod) + (1 << (total - 1))) >> total
    q = q if prod >= 0 else -q
    return max(-128, min(127, q + out.zero_point))


def test_single_rounding_matches_python_integers() -> None:
    shape = [2, 16, 19, 5]
    model = synth.conv2d(shape, 8, (3, 2), stride=(1, 2), dilation=(2, 1), padding="SAME",
                         weight_scale=[0.011, 0.02, 0.007, 0.015, 0.009, 0.03, 0.012, 0.004],
                         input_scale=0.043, input_zp=9, output_scale=0.9, output_zp=-3,
                         bias_range=20_000, seed=3)
    graph = load_model_bytes(model)
    x = random_int8(np.random.default_rng(3), shape)
    single = run_op(graph, graph.ops[0], [x], requant="single")
    ref = run_op(graph, graph.ops[0], [x], requant="reference")
    # Every position where the roundings disagree, plus a spread of others.
    where = [tuple(int(v) for v in p) for p in np.argwhere(single != ref)]
    assert where, "no element where single and double rounding disagree"
    where += [(b, y, xx, c) for b, y, xx, c in ((0, 0, 0, 0), (1, 15, 9, 7), (0, 5, 3, 1),
                                                (1, 8, 4, 6))]
    for pos in where:
        assert int(single[pos]) == _python_conv_single(graph, x, pos), pos


def _c_kernel_output(kernels: Any, graph: Graph, x: np.ndarray) -> np.ndarray:
    """The host-built C kernel's output for a one-op conv/depthwise/FC graph."""
    from support import kernels_host as kh

    plan = OpPlan(graph, graph.ops[0])
    op, rq = graph.ops[0], plan_requant(plan)
    assert rq is not None
    inp, w, b, out = (graph.tensors[i] for i in (*op.inputs, op.outputs[0]))
    mults, shifts = rq.multiplier.tolist(), rq.shift.tolist()
    if op.name == "FULLY_CONNECTED":
        p = kh.HxFcParams(input_offset=-inp.zero_point, filter_offset=-w.zero_point,
                          output_offset=out.zero_point, act_min=plan.act[0], act_max=plan.act[1])
        return kernels.fully_connected(p, mults, shifts, x, w.data, b.data)
    o = op.options
    pads = [conv_output_and_padding(inp.shape[1 + k], w.shape[1 + k], s, d,
                                          o["padding"])[1]
            for k, s, d in ((0, o["strideH"], o["dilationHFactor"]),
                            (1, o["strideW"], o["dilationWFactor"]))]
    p = kh.HxConvParams(
        input_offset=-inp.zero_point, output_offset=out.zero_point, act_min=plan.act[0],
        act_max=plan.act[1], stride_h=o["strideH"], stride_w=o["strideW"],
        dilation_h=o["dilationHFactor"], dilation_w=o["dilationWFactor"], pad_h=pads[0],
        pad_w=pads[1], depth_multiplier=int(o.get("depthMultiplier", 1)))
    run = kernels.conv2d if op.name == "CONV_2D" else kernels.depthwise_conv2d
    return run(p, mults, shifts, x, w.data, b.data, list(out.shape))


def test_variants_match_the_c_kernel_builds(tmp_path: Path) -> None:
    """"reference" is the default C build, "single" the -DHX_REQUANT_SINGLE_ROUNDING one."""
    kh = pytest.importorskip("support.kernels_host",
                             reason="tests/support/kernels_host.py not importable")
    if not kh.have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    builds = {"reference": kh.HostKernels(kh.build_host_library(tmp_path / "d")),
              "single": kh.HostKernels(kh.build_host_library(
                  tmp_path / "s", defines=["HX_REQUANT_SINGLE_ROUNDING"]))}
    for kind in ("conv2d", "depthwise", "fully_connected"):
        for i in range(4):
            model, shape = big_case(kind, i)
            graph = load_model_bytes(model)
            x = case_input(kind, i, shape)
            for mode, kernels in builds.items():
                want = _c_kernel_output(kernels, graph, x)
                got = run_op(graph, graph.ops[0], [x], requant=mode)
                assert_same(got.reshape(want.shape), want, f"{kind} {i} {mode} vs C build")


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="XNNPACK's requantization is platform-specific (fp32 on x86)")
def test_float_variant_is_litert_default_on_x86() -> None:
    """Measured fact: "float" reproduces LiteRT's default resolver (XNNPACK, optimized
    softmax) on x86, where "reference" does not."""
    graph = load_model(EXAMPLE)
    rng = np.random.default_rng(12)
    xs = [random_int8(rng, graph.tensors[graph.inputs[0]].shape) for _ in range(40)]
    ours = Int8Interpreter(graph, "float")
    mismatched_reference = 0
    for x in xs:
        want = litert(EXAMPLE, [x], resolver=OpResolverType.AUTO)[0][0]
        assert_same(ours.run([x])[0][0], want, "float vs LiteRT AUTO")
        mismatched_reference += not np.array_equal(run_graph(graph, [x])[0][0], want)
    assert mismatched_reference > 0
