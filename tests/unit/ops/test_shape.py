"""Shape and data-movement ops: host-compiled C kernels and the NumPy reference
must be bit-exact with LiteRT BUILTIN_REF.

Each case builds a one-op model with support.synth_shape (seeded random
shapes, options and quantization), runs it through LiteRT's reference
kernels, through the C kernel (parameters resolved by the C emitters' host
code) and through the numpy-int8 kernel, and compares every output element.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from harness.ops.c_emit import LoweredOp
from harness.ops.interpreter import run_op
from harness.ops.registry import OPS
from harness.ops.validate import load_model_bytes
from harness.quant.ranges import ACT_NONE, ACT_RELU
from support.litert_host import litert_ref
from support.shape_host import host_library, run_c
from support.synth_shape import one_op

N_CASES = 20
Case = dict[str, Any]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The kernels built for the host."""
    return host_library(tmp_path_factory)


def check_case(lib: ctypes.CDLL, case: Case) -> None:
    """Build the case's model and compare C and NumPy with LiteRT, bit for bit."""
    kw = dict(case)
    act, shapes, method, seed = kw.pop("act"), kw.pop("shapes"), kw.pop("method"), kw["seed"]
    model = one_op(act, shapes, method, **kw)
    dt = np.dtype(np.int16 if act == "int16" else np.int8)
    info = np.iinfo(dt)
    rng = np.random.default_rng(10_000 + seed)
    xs = [rng.integers(info.min, info.max + 1, size=s, dtype=dt) for s in shapes]
    want = litert_ref(model, xs)
    graph = load_model_bytes(model)
    (op,) = graph.ops
    given = [xs[graph.inputs.index(i)] if i in graph.inputs else None for i in op.inputs]
    lo = LoweredOp(op.index, op.name, [])
    OPS[op.name].emit(graph, op, lo)  # the lowering accepts the op
    assert lo.call.startswith("hx_") or op.name in ("SQUEEZE", "EXPAND_DIMS"), lo.call
    got_np = run_op(graph, op, given)
    for label, got in (("numpy", got_np), ("C", None)):
        if got is None:
            if op.name in ("SQUEEZE", "EXPAND_DIMS"):
                continue  # no kernel: the arena aliases the input
            got = run_c(lib, graph, op, given).reshape(want.shape)
        assert got.dtype == want.dtype and got.shape == want.shape, (label, got.shape, case)
        if not np.array_equal(got, want):
            delta = np.abs(got.astype(np.int64) - want.astype(np.int64))
            pytest.fail(f"{label} not bit-exact: {int(np.count_nonzero(delta))} of "
                        f"{delta.size} differ, max |delta| {int(delta.max())}\ncase: {case}")


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def rand_shape(rng: np.random.Generator, rank: int, lo: int = 1, hi: int = 6) -> list[int]:
    return [int(v) for v in rng.integers(lo, hi + 1, size=rank)]


def quant_kw(rng: np.random.Generator, act: str) -> Case:
    zp = 0 if act == "int16" else int(rng.integers(-100, 101))
    return {"scales": (log_uniform(rng, 1e-3, 0.2),), "zero_points": (zp,)}


# ---- random cases, one generator per op ------------------------------------------


def concat_case(i: int, act: str = "int8") -> Case:
    rng = np.random.default_rng(100 + i)
    rank = int(rng.integers(1, 5))
    base = rand_shape(rng, rank)
    axis = int(rng.integers(-rank, rank))
    shapes = []
    for _ in range(int(rng.integers(1, 5))):
        s = list(base)
        s[axis] = int(rng.integers(1, 5))
        shapes.append(s)
    return {"act": act, "shapes": shapes, "method": "concatenation", "axis": axis, "seed": i,
            **quant_kw(rng, act)}


def pad_case(i: int, act: str = "int8") -> Case:
    rng = np.random.default_rng(200 + i)
    rank = int(rng.integers(1, 5))
    pads = [(int(a), int(b)) for a, b in rng.integers(0, 3, size=(rank, 2))]
    case = {"act": act, "shapes": [rand_shape(rng, rank)], "method": "pad", "paddings": pads,
            "seed": i, **quant_kw(rng, act)}
    if i % 3 == 2:  # PADV2 with an explicit constant
        info = np.iinfo(np.int16 if act == "int16" else np.int8)
        case["constant"] = int(rng.integers(info.min, info.max + 1))
    return case


def slice_case(i: int, act: str = "int8") -> Case:
    rng = np.random.default_rng(300 + i)
    rank = int(rng.integers(1, 5))
    shape = rand_shape(rng, rank, 1, 8)
    begin, end, strides = [], [], []
    for d in shape:
        s = int(rng.choice([1, 1, 2, 3, -1, -2]))
        begin.append(int(rng.integers(-d, d + 1)))
        end.append(int(rng.integers(-d - 1, d + 2)))
        strides.append(s)
    masks = [int(v) for v in rng.integers(0, 1 << rank, size=3)]
    shrink = masks[2] if i % 2 else 0
    for k, d in enumerate(shape):  # a shrunk axis needs an in-range begin
        if shrink >> k & 1:
            begin[k] = int(rng.integers(-d, d))
            strides[k] = 1
            masks[0] &= ~(1 << k)
    return {"act": act, "shapes": [shape], "method": "strided_slice", "begin": begin,
            "end": end, "strides": strides, "begin_mask": masks[0], "end_mask": masks[1],
            "shrink_axis_mask": shrink, "seed": i, **quant_kw(rng, act)}


def transpose_case(i: int) -> Case:
    rng = np.random.default_rng(400 + i)
    rank = int(rng.integers(2, 5))
    return {"act": "int8", "shapes": [rand_shape(rng, rank)], "method": "transpose",
            "perm": [int(p) for p in rng.permutation(rank)], "seed": i, **quant_kw(rng, "int8")}


def squeeze_case(i: int) -> Case:
    rng = np.random.default_rng(500 + i)
    shape = rand_shape(rng, int(rng.integers(2, 5)))
    ones = sorted({int(k) for k in rng.integers(0, len(shape), size=2)})
    for k in ones:
        shape[k] = 1
    axes = [k - len(shape) if rng.integers(0, 2) else k for k in ones]
    return {"act": "int8", "shapes": [shape], "method": "squeeze", "axes": axes, "seed": i,
            **quant_kw(rng, "int8")}


def expand_case(i: int) -> Case:
    rng = np.random.default_rng(600 + i)
    shape = rand_shape(rng, int(rng.integers(1, 4)))
    axis = int(rng.integers(-len(shape) - 1, len(shape) + 1))
    return {"act": "int8", "shapes": [shape], "method": "expand_dims", "axis": axis, "seed": i,
            **quant_kw(rng, "int8")}


def mean_case(i: int) -> Case:
    rng = np.random.default_rng(700 + i)
    rank = int(rng.integers(1, 5))
    shape = rand_shape(rng, rank, 1, 7)
    if i % 4 == 0:  # the global-pooling form: 4-D over H and W, kept
        shape, axes, keep = rand_shape(rng, 4, 1, 9), [1, 2], True
    else:
        n = int(rng.integers(1, rank + 1))
        axes = [int(a) for a in rng.choice(rank, size=n, replace=False)]
        axes = [a - rank if rng.integers(0, 2) else a for a in axes]
        keep = bool(rng.integers(0, 2))
    q = quant_kw(rng, "int8")
    same = i % 5 == 1  # output quantization equal to the input's
    return {"act": "int8", "shapes": [shape], "method": "mean", "axes": axes,
            "keep_dims": keep, "seed": i, **q,
            "output_scale": q["scales"][0] if same else q["scales"][0] * rng.uniform(0.3, 2),
            "output_zp": q["zero_points"][0] if same else int(rng.integers(-100, 101))}


def transpose_conv_case(i: int, act: str = "int8") -> Case:
    rng = np.random.default_rng(800 + i)
    kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
    sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
    c, oc = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    in_scale = log_uniform(rng, 1e-4, 1e-2) if act == "int16" else log_uniform(rng, 5e-3, 0.2)
    w0 = log_uniform(rng, 1e-3, 5e-2)
    ws = [w0 * log_uniform(rng, 0.5, 2.0) for _ in range(oc)] if i % 2 == 0 else w0
    mag = 9000.0 if act == "int16" else 74.0
    acc_std = math.sqrt(max(1.0, kh * kw * c / (sh * sw))) * mag * 74.0
    spread = 4000.0 if act == "int16" else 40.0
    q = quant_kw(rng, act)
    q["scales"] = (in_scale,)
    return {"act": act, "shapes": [[int(rng.integers(1, 3)), *rand_shape(rng, 2, 1, 5), c]],
            "method": "transpose_conv", "out_channels": oc, "kernel": (kh, kw),
            "stride": (sh, sw), "padding": "SAME" if rng.integers(0, 2) else "VALID",
            "weight_scale": ws, "bias": i % 5 != 3,
            "bias_range": int(acc_std * 2), "activation": [0, 1, 3][i % 3] if i >= 10 else 0,
            "output_scale": acc_std * in_scale * w0 / (spread * rng.uniform(0.4, 1.5)),
            "output_zp": 0 if act == "int16" else int(rng.integers(-100, 101)),
            "seed": i, **q}


def batch_matmul_case(i: int) -> Case:
    rng = np.random.default_rng(900 + i)
    rows, cols, depth = (int(v) for v in rng.integers(1, 7, size=3))
    adj_x, adj_y = bool(i % 2), bool(i // 2 % 2)
    batch_a = rand_shape(rng, int(rng.integers(0, 3)), 1, 3)
    batch_b = list(batch_a[int(rng.integers(0, len(batch_a) + 1)):])
    batch_b = [1 if rng.integers(0, 3) == 0 else d for d in batch_b]
    if rng.integers(0, 3) == 0:
        batch_a = [1 if d > 1 and rng.integers(0, 2) else d for d in batch_a]
    a = batch_a + ([depth, rows] if adj_x else [rows, depth])
    b = batch_b + ([cols, depth] if adj_y else [depth, cols])
    in_scale, rhs_scale = log_uniform(rng, 5e-3, 0.1), log_uniform(rng, 5e-3, 0.1)
    acc_std = math.sqrt(depth) * 74.0 * 74.0
    case = {"act": "int8", "method": "batch_matmul", "adj_x": adj_x, "adj_y": adj_y,
            "output_scale": acc_std * in_scale * rhs_scale / rng.uniform(15, 60),
            "output_zp": int(rng.integers(-100, 101)), "seed": i}
    if i % 3 == 0:  # a constant right-hand side
        return {**case, "shapes": [a], "rhs_shape": tuple(b), "rhs_scale": rhs_scale,
                "rhs_zp": int(rng.integers(-50, 51)), "scales": (in_scale,),
                "zero_points": (int(rng.integers(-100, 101)),)}
    return {**case, "shapes": [a, b], "scales": (in_scale, rhs_scale),
            "zero_points": tuple(int(z) for z in rng.integers(-100, 101, size=2))}


GENERATORS: dict[str, Callable[[int], Case]] = {
    "concatenation": concat_case,
    "pad": pad_case,
    "strided_slice": slice_case,
    "transpose": transpose_case,
    "squeeze": squeeze_case,
    "expand_dims": expand_case,
    "mean": mean_case,
    "transpose_conv": transpose_conv_case,
    "batch_matmul": batch_matmul_case,
}
INT16: dict[str, Callable[[int, str], Case]] = {
    "pad": pad_case, "strided_slice": slice_case, "transpose_conv": transpose_conv_case,
}


@pytest.mark.parametrize("i", range(N_CASES))
@pytest.mark.parametrize("op", sorted(GENERATORS))
def test_int8_bit_exact(lib: ctypes.CDLL, op: str, i: int) -> None:
    check_case(lib, GENERATORS[op](i))


@pytest.mark.parametrize("i", range(N_CASES))
@pytest.mark.parametrize("op", sorted(INT16))
def test_int16_bit_exact(lib: ctypes.CDLL, op: str, i: int) -> None:
    check_case(lib, INT16[op](i, "int16"))


def test_generators_cover_the_options() -> None:
    """The random cases reach PADV2, shrink masks, negative strides, adjoints,
    broadcasting, constant operands and fused activations."""
    pads = [pad_case(i) for i in range(N_CASES)]
    slices = [slice_case(i) for i in range(N_CASES)]
    bmms = [batch_matmul_case(i) for i in range(N_CASES)]
    tconvs = [transpose_conv_case(i) for i in range(N_CASES)]
    assert any("constant" in c for c in pads)
    assert any(c["shrink_axis_mask"] for c in slices)
    assert any(min(c["strides"]) < 0 for c in slices)
    assert {(c["adj_x"], c["adj_y"]) for c in bmms} == {(a, b) for a in (0, 1) for b in (0, 1)}
    assert any("rhs_shape" in c for c in bmms)
    assert any(len(c["shapes"]) == 2 and len(c["shapes"][0]) != len(c["shapes"][1])
               for c in bmms)
    assert {c["activation"] for c in tconvs} >= {ACT_NONE, ACT_RELU}
