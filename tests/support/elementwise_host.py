"""Running a one-op elementwise model three ways: LiteRT BUILTIN_REF, the host-compiled
C kernel (fed with the parameters harness/ops/elementwise/params.py gives the C emitter) and
the NumPy reference; and the seeded random cases the int8 and int16 tests share.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np
import pytest

from harness.model.graph import Graph
from harness.ops.conversion.params import requantize_params
from harness.ops.elementwise import params as ew
from harness.ops.interpreter import run_op
from harness.ops.validate import load_model_bytes
from support import synth_elementwise as se
from support.kernels_host import HxDims
from support.litert_host import litert_ref
from support.synth_builder import ModelBuilder

N_CASES = 24

CTYPE = {"int8": ctypes.c_int8, "int16": ctypes.c_int16}
Case = tuple[bytes, list[np.ndarray], dict[str, Any]]


def _dims(shape: tuple[int, ...]) -> HxDims:
    return HxDims(*([1] * (4 - len(shape)) + [int(d) for d in shape]))


def _params(p: dict[str, int]) -> ctypes.Array:
    """A C params struct: every field is an int32_t, in declaration order."""
    return (ctypes.c_int32 * len(p))(*p.values())


def _buf(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


def host_c(lib: ctypes.CDLL, g: Graph, arrays: list[np.ndarray]) -> np.ndarray:
    """Run the graph's single op through the host-compiled C kernel."""
    op = g.ops[0]
    ts = [g.tensors[i] for i in op.inputs]
    out_t = g.tensors[op.outputs[0]]
    vals = [np.ascontiguousarray(t.data if t.is_const else arrays.pop(0), t.dtype) for t in ts]
    out = np.zeros(out_t.shape, out_t.dtype)
    act = int(op.options.get("fusedActivationFunction", 0) or 0)
    sfx = {"int8": "s8", "int16": "s16"}
    if op.name in ("ADD", "SUB", "MUL", "PRELU"):
        if op.name == "MUL":
            p = ew.mul_params(ts[0], ts[1], out_t, act)
        elif op.name == "PRELU":
            p = ew.prelu_params(ts[0], ts[1], out_t)
        else:
            p = ew.add_params(ts[0], ts[1], out_t, act)
        fn = getattr(lib, f"hx_{op.name.lower()}_{sfx[out_t.dtype]}")
        fn(_params(p), _dims(ts[0].shape), _buf(vals[0]), _dims(ts[1].shape), _buf(vals[1]),
           _dims(out_t.shape), _buf(out))
        return out
    if op.name in ("MAXIMUM", "MINIMUM"):
        fn = getattr(lib, f"hx_{op.name.lower()}_{sfx[out_t.dtype]}")
        fn(_dims(ts[0].shape), _buf(vals[0]), _dims(ts[1].shape), _buf(vals[1]),
           _dims(out_t.shape), _buf(out))
        return out
    size = ctypes.c_int32(out.size)
    if op.name in ("LOGISTIC", "TANH"):
        table = np.ascontiguousarray(ew.lut_table(op.name, ts[0], out_t), np.int8)
        lib.hx_lut_s8(_buf(table), size, _buf(vals[0]), _buf(out))
        return out
    if op.name in ("RELU", "RELU6", "QUANTIZE"):
        p = (requantize_params(ts[0], out_t) if op.name == "QUANTIZE"
             else ew.relu_params(op.name, ts[0], out_t))
        pair = (ts[0].dtype, out_t.dtype)
        name = {("int8", "int8"): "s8", ("int16", "int8"): "s16_s8",
                ("int8", "int16"): "s8_s16", ("int16", "int16"): "s16"}[pair]
        fn = getattr(lib, f"hx_rescale_{name}")
    elif op.name == "LEAKY_RELU":
        p = ew.leaky_relu_params(ts[0], out_t, float(op.options["alpha"]))
        fn = getattr(lib, f"hx_leaky_relu_{sfx[out_t.dtype]}")
    else:
        p = ew.hard_swish_params(ts[0], out_t)
        fn = lib.hx_hard_swish_s8
    fn(_params(p), size, _buf(vals[0]), _buf(out))
    return out


def check(model: bytes, inputs: list[np.ndarray], lib: ctypes.CDLL | None,
          case: dict[str, Any]) -> None:
    """LiteRT BUILTIN_REF vs the C kernel (when ``lib``) and vs NumPy, byte for byte."""
    want = litert_ref(model, inputs)
    g = load_model_bytes(model)
    got = {"numpy": run_op(g, g.ops[0], [x if not g.tensors[i].is_const else None
                                         for x, i in zip(_given(g, inputs), g.ops[0].inputs,
                                                         strict=True)])}
    if lib is not None:
        got["C"] = host_c(lib, g, list(inputs))
    for who, arr in got.items():
        arr = np.asarray(arr).reshape(want.shape)
        if not np.array_equal(arr, want):
            d = np.abs(arr.astype(np.float64) - want.astype(np.float64))
            k = int(np.argmax(d))
            pytest.fail(f"{who} not bit-exact: {int(np.count_nonzero(d))}/{d.size} differ, "
                        f"max |d| {d.max():g}, first at flat {k} ({who} {arr.ravel()[k]}, "
                        f"LiteRT {want.ravel()[k]})\ncase: {case}")


def _given(g: Graph, inputs: list[np.ndarray]) -> list[np.ndarray | None]:
    """The op's inputs in op order: model inputs from ``inputs``, None for constants."""
    it = iter(inputs)
    return [None if g.tensors[i].is_const else next(it) for i in g.ops[0].inputs]


# ---- random cases -------------------------------------------------------------------


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def rand_int8(rng: np.random.Generator, shape: list[int]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


def random_shape(rng: np.random.Generator) -> list[int]:
    """Rank 1-4, at least 16 elements along the last axis."""
    rank = int(rng.integers(1, 5))
    return [int(d) for d in rng.integers(1, 5, size=rank - 1)] + [int(rng.integers(16, 65))]


def quantize_case(seed: int, in_dtype: str = "int8", out_dtype: str = "int8") -> Case:
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    in_scale = None if in_dtype == "float32" else log_uniform(rng, 0.001, 0.3)
    zi = 0 if in_dtype != "int8" else int(rng.integers(-128, 128))
    zo = 0 if out_dtype != "int8" else int(rng.integers(-128, 128))
    out_scale = None if out_dtype == "float32" else log_uniform(rng, 0.001, 0.3)
    if in_dtype == "int16":
        in_scale = (out_scale or 0.01) * log_uniform(rng, 1 / 300, 1 / 50)
    elif in_dtype == "int8" and out_dtype == "int8":
        out_scale = (in_scale or 0.01) * log_uniform(rng, 0.3, 3.0)
    elif in_dtype == "int8" and out_dtype == "int16":
        out_scale = (in_scale or 0.01) * log_uniform(rng, 1 / 256, 1 / 8)
    b = ModelBuilder(seed)
    x = se.add_input(b, shape, in_dtype, in_scale, zi)
    op = "DEQUANTIZE" if out_dtype == "float32" else "QUANTIZE"
    model = b.build(se.add_unary(b, op, x, scale=out_scale, zero_point=zo, dtype=out_dtype))
    if in_dtype == "float32":
        data = (rng.standard_normal(shape) * 128 * (out_scale or 1)).astype(np.float32)
    elif in_dtype == "int16":
        data = rng.integers(-32768, 32768, size=shape, dtype=np.int16)
    else:
        data = rand_int8(rng, shape)
    return model, [data], dict(op=op, seed=seed, dtypes=(in_dtype, out_dtype), shape=shape,
                               scales=(in_scale, out_scale), zps=(zi, zo))


SEEDS = range(N_CASES)
