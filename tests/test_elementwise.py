"""Elementwise ops (firmware/kernels/hx_elementwise.c and harness/ops/elementwise/)
must be bit-exact with LiteRT's reference kernels (BUILTIN_REF).

Each seeded random case builds a one-op model with support.synth_elementwise, runs
it through LiteRT BUILTIN_REF, through the host-compiled C kernel (fed with the
parameters harness/ops/elementwise/params.py gives the C emitter) and through the
NumPy reference, and compares every output byte. int16 variants are in test_elementwise_int16.py.
"""

from __future__ import annotations

import ctypes
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.config import RunConfig
from harness.errors import NotAModel, UnsupportedOp
from harness.model.graph import Graph
from harness.ops.conversion.params import requantize_params
from harness.ops.elementwise import params as ew
from harness.ops.elementwise.spec import SPECS as ELEMENTWISE
from harness.ops.interpreter import run_op
from harness.ops.validate import load_model_bytes
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1
from harness.run.pipeline import run
from harness.runtimes.builtin.lower import check_supported
from support import synth_elementwise as se
from support.kernels_host import HxDims, build_host_library, have_host_gcc
from support.litert_host import litert_ref
from support.synth_builder import ModelBuilder

N_CASES = 24
ACTS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)
CTYPE = {"int8": ctypes.c_int8, "int16": ctypes.c_int16}
Case = tuple[bytes, list[np.ndarray], dict[str, Any]]


# ---- running a one-op model three ways ---------------------------------------------


@pytest.fixture(scope="session")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """firmware/kernels built for the host."""
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    return ctypes.CDLL(str(build_host_library(tmp_path_factory.mktemp("hx_elementwise"))))



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


def broadcast_shapes(rng: np.random.Generator) -> tuple[list[int], list[int]]:
    """Two shapes (ranks 1-4) that broadcast NumPy-style to a shape of up to 4-D."""
    rank = int(rng.integers(1, 5))
    out = [int(d) for d in rng.integers(1, 6, size=rank - 1)] + [int(rng.integers(8, 33))]
    mode = int(rng.integers(0, 4))  # 0: same shape, 1-3: broadcasting variants
    shapes = []
    for _ in range(2):
        s = [d if (mode == 0 or rng.random() < 0.5) else 1 for d in out]
        if mode == 3 and rng.random() < 0.5:
            s = s[int(rng.integers(0, rank)):]  # a lower-rank operand
        shapes.append(s or [1])
    return shapes[0], shapes[1]


def binary_case(op: str, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    s1, s2 = broadcast_shapes(rng)
    sc1, sc2 = log_uniform(rng, 0.005, 0.5), log_uniform(rng, 0.005, 0.5)
    z1, z2, zo = (int(z) for z in rng.integers(-128, 128, size=3))
    if op == "MUL":
        out_scale = sc1 * sc2 * log_uniform(rng, 8.0, 200.0)
    else:
        out_scale = (sc1 + sc2) * log_uniform(rng, 0.3, 3.0)
    act = int(ACTS[seed % len(ACTS)])
    b = ModelBuilder(seed)
    x1 = se.add_input(b, s1, "int8", sc1, z1, "x1")
    const = seed % 5 == 4  # every fifth case: the second operand is a constant
    x2 = (se.add_const(b, rand_int8(rng, s2), sc2, z2, "x2") if const
          else se.add_input(b, s2, "int8", sc2, z2, "x2"))
    model = b.build(se.add_binary(b, op, x1, x2, scale=out_scale, zero_point=zo,
                                  activation=act))
    inputs = [rand_int8(rng, s1)] + ([] if const else [rand_int8(rng, s2)])
    return model, inputs, dict(op=op, seed=seed, shapes=(s1, s2), scales=(sc1, sc2, out_scale),
                               zps=(z1, z2, zo), act=act, const=const)


def unary_case(op: str, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    shape = random_shape(rng)
    in_scale = log_uniform(rng, 0.002, 0.3)
    zi, zo = (int(z) for z in rng.integers(-128, 128, size=2))
    out_scale = log_uniform(rng, 0.002, 0.3)
    alpha = 0.2
    if op == "LOGISTIC":
        out_scale, zo = 1.0 / 256.0, -128
        in_scale = log_uniform(rng, 0.01, 0.2)
    elif op == "TANH":
        out_scale, zo = (1.0 / 128.0, 0) if seed % 2 else (log_uniform(rng, 0.004, 0.02), zo)
        in_scale = log_uniform(rng, 0.005, 0.1)
    elif op == "HARD_SWISH":
        out_scale = in_scale * log_uniform(rng, 0.25, 2.0)  # above input scale / 128
    elif op == "LEAKY_RELU":
        alpha = float(rng.choice([rng.uniform(0.01, 0.99), rng.uniform(1.0, 3.0),
                                  rng.uniform(-2.0, -0.01)]))  # a negative alpha too
        out_scale = in_scale * log_uniform(rng, 0.4, 2.5)
    else:  # RELU, RELU6: keep the output range near the input's
        in_scale = log_uniform(rng, 0.01, 0.08) if op == "RELU6" else in_scale
        out_scale = in_scale * log_uniform(rng, 0.4, 2.5)
    b = ModelBuilder(seed)
    x = se.add_input(b, shape, "int8", in_scale, zi)
    model = b.build(se.add_unary(b, op, x, scale=out_scale, zero_point=zo, alpha=alpha))
    return model, [rand_int8(rng, shape)], dict(op=op, seed=seed, shape=shape,
                                                scales=(in_scale, out_scale), zps=(zi, zo),
                                                alpha=alpha)


def prelu_case(seed: int) -> Case:
    rng = np.random.default_rng(seed)
    shape = [1] + [int(d) for d in rng.integers(1, 5, size=2)] + [int(rng.integers(4, 17))]
    kind = seed % 3  # alpha per channel, per (w, c), or the full shape
    a_shape = [shape[-1]] if kind == 0 else shape[-2:] if kind == 1 else shape
    in_scale, a_scale = log_uniform(rng, 0.005, 0.3), log_uniform(rng, 0.001, 0.05)
    zi, za, zo = (int(z) for z in rng.integers(-128, 128, size=3))
    out_scale = in_scale * log_uniform(rng, 0.3, 3.0)
    b = ModelBuilder(seed)
    x = se.add_input(b, shape, "int8", in_scale, zi)
    alpha = se.add_const(b, rand_int8(rng, a_shape), a_scale, za, "alpha")
    model = b.build(se.add_prelu(b, x, alpha, scale=out_scale, zero_point=zo))
    return model, [rand_int8(rng, shape)], dict(seed=seed, shape=shape, alpha_shape=a_shape,
                                                scales=(in_scale, a_scale, out_scale),
                                                zps=(zi, za, zo))


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


# ---- tests --------------------------------------------------------------------------

SEEDS = range(N_CASES)


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_int8(op: str, seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = binary_case(op, seed)
    check(model, inputs, lib, case)


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH", "HARD_SWISH", "LEAKY_RELU", "RELU",
                                "RELU6"])
@pytest.mark.parametrize("seed", SEEDS)
def test_unary_int8(op: str, seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = unary_case(op, seed)
    check(model, inputs, lib, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_prelu_int8(seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = prelu_case(seed)
    check(model, inputs, lib, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_quantize_int8_to_int8(seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = quantize_case(seed)
    check(model, inputs, lib, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_quantize_float_to_int8_numpy(seed: int) -> None:
    model, inputs, case = quantize_case(seed, "float32", "int8")
    check(model, inputs, None, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_dequantize_int8_numpy(seed: int) -> None:
    model, inputs, case = quantize_case(seed, "int8", "float32")
    check(model, inputs, None, case)


def test_hard_swish_lut_edges(lib: ctypes.CDLL) -> None:
    """Every int8 input value once, over scales that exercise the relu-ish left
    and right shifts (input scales far below and above 3/128)."""
    for seed, in_scale in enumerate((0.0005, 0.004, 0.03, 0.2, 1.5)):
        b = ModelBuilder(seed)
        x = se.add_input(b, [256], "int8", in_scale, 3)
        model = b.build(se.add_unary(b, "HARD_SWISH", x, scale=in_scale * 0.7, zero_point=-5))
        check(model, [np.arange(-128, 128, dtype=np.int8)], lib, dict(in_scale=in_scale))




def _one_op(op: str, shapes: list[list[int] | None], out_shape: list[int],
           activation: int = 0) -> bytes:
    """One int8 ``op`` whose inputs (None: absent) and output have the shapes given."""
    b = ModelBuilder(0)
    ins = [-1 if shape is None else se.add_input(b, shape, "int8", 0.02, 0, f"x{k}")
           for k, shape in enumerate(shapes)]
    y = b.add_tensor("y", out_shape, se.TYPES["int8"], scale=0.03, zero_point=0)
    opt = se.schema.AddOptionsT()
    opt.fusedActivationFunction = activation
    kind = se.OPTS.AddOptions if op == "ADD" else 0
    b.add_op(getattr(se.OPS, op), ins, [y], kind, opt if kind else None)
    return b.build(y)


@pytest.mark.parametrize("op, shapes, out_shape, message", [
    ("ADD", [[2, 3], [4, 3]], [2, 3], r"op 0 \(ADD\): inputs \(2, 3\) and \(4, 3\) do not "
     "broadcast"),
    ("MUL", [[2, 3], [3]], [3, 3], r"op 0 \(MUL\): output \(3, 3\) is not the broadcast "
     r"\(2, 3\) of its inputs"),
    ("SUB", [[2, 3]], [2, 3], r"op 0 \(SUB\): needs 2 input\(s\), has 1"),
    ("PRELU", [[2, 3], None], [2, 3], r"op 0 \(PRELU\): input\(s\) \[1\] are missing"),
    ("RELU", [[2, 3]], [3, 2], r"op 0 \(RELU\): output \(3, 2\) differs from input"),
    ("QUANTIZE", [[2, 3]], [6], r"op 0 \(QUANTIZE\): output \(6,\) differs from input"),
])
def test_inconsistent_ops_are_not_models(op: str, shapes: list, out_shape: list[int],
                                         message: str) -> None:
    """The family's checks (run after parsing): NotAModel, exit 11, naming the op."""
    with pytest.raises(NotAModel, match=message):
        load_model_bytes(_one_op(op, shapes, out_shape))


def test_fused_tanh_on_add_is_refused_by_the_builtin_runtime() -> None:
    g = load_model_bytes(_one_op("ADD", [[2, 3], [2, 3]], [2, 3], activation=4))
    with pytest.raises(UnsupportedOp, match=r"op 0 \(ADD\): fused activation code 4 "
                       r"\(TANH or SIGN_BIT\)"):
        check_supported(g)


def test_chain_of_every_int8_op_in_qemu(tmp_path: Path) -> None:
    """The firmware (lowering + kernels) in QEMU: every elementwise int8 op in one model,
    bit-exact with LiteRT BUILTIN_REF at every layer."""
    if not shutil.which("qemu-system-arm") or not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("qemu-system-arm / arm-none-eabi-gcc not installed")
    model = tmp_path / "elementwise_chain.tflite"
    model.write_bytes(se.chain_model(1))
    res = run(RunConfig(model=model, runtime="builtin", vectors=3, seed=2, per_layer=True,
                        runs_dir=tmp_path / "runs", quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (pair,) = [p for p in res["per_layer"]["pairs"]
               if p["a"] == "device" and p["b"] == "litert-ref"]
    names = {layer["name"] for layer in pair["layers"]}
    # DEQUANTIZE and float QUANTIZE are in tests/test_quantize_ops.py's conversion chain.
    assert names >= {spec.name for spec in ELEMENTWISE} | {"QUANTIZE"}, names
    assert all(layer["max_abs_lsb"] == 0 for layer in pair["layers"]), pair["layers"]
