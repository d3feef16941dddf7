"""Elementwise ops (firmware/kernels/hx_elementwise.c and harness/ops/elementwise/)
must be bit-exact with LiteRT's reference kernels (BUILTIN_REF).

Each seeded random case builds a one-op model with support.synth_elementwise, runs
it through LiteRT BUILTIN_REF, through the host-compiled C kernel (fed with the
parameters harness/ops/elementwise/params.py gives the C emitter) and through the
NumPy reference, and compares every output byte (support/elementwise_host.py). int16
variants are in test_elementwise_int16.py, the QEMU chain in
tests/integration/ops/test_elementwise_qemu.py.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from harness.errors import NotAModel, UnsupportedOp
from harness.ops.validate import load_model_bytes
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1
from harness.runtimes.builtin.lower import check_supported
from support import synth_elementwise as se
from support.elementwise_host import (
    SEEDS,
    Case,
    check,
    log_uniform,
    quantize_case,
    rand_int8,
    random_shape,
)
from support.synth_builder import ModelBuilder

ACTS = (ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1)


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


def minmax_case(op: str, seed: int, dtype: str = "int8") -> Case:
    """MAXIMUM / MINIMUM: inputs and output share one scale and zero point (the
    quantization spec's rule for these ops); every fifth case a constant operand."""
    rng = np.random.default_rng(seed)
    s1, s2 = broadcast_shapes(rng)
    scale = log_uniform(rng, 0.005, 0.5)
    zp = int(rng.integers(-128, 128)) if dtype == "int8" else 0
    lo, hi = (-128, 128) if dtype == "int8" else (-32768, 32768)

    def values(shape: list[int]) -> np.ndarray:
        return rng.integers(lo, hi, size=shape).astype(dtype)

    b = ModelBuilder(seed)
    x1 = se.add_input(b, s1, dtype, scale, zp, "x1")
    const = seed % 5 == 4
    x2 = (se.add_const(b, values(s2), scale, zp, "x2") if const
          else se.add_input(b, s2, dtype, scale, zp, "x2"))
    model = b.build(se.add_binary(b, op, x1, x2, scale=scale, zero_point=zp))
    inputs = [values(s1)] + ([] if const else [values(s2)])
    return model, inputs, dict(op=op, seed=seed, dtype=dtype, shapes=(s1, s2), scale=scale,
                               zp=zp, const=const)


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


@pytest.mark.parametrize("op", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_int8(op: str, seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = binary_case(op, seed)
    check(model, inputs, lib, case)


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("dtype", ["int8", "int16"])
@pytest.mark.parametrize("seed", SEEDS)
def test_maximum_minimum(op: str, dtype: str, seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = minmax_case(op, seed, dtype)
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
