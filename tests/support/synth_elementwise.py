"""Model builders for the elementwise ops (on top of support.synth_builder.ModelBuilder).

Each ``add_*`` function appends one op to a :class:`ModelBuilder` and returns the
index of its output tensor, so ops chain into one model; :func:`one_op` builds a
single-op model whose inputs are model inputs (or constants).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from support.synth_builder import ModelBuilder

TYPES = {"int8": schema.TensorType.INT8, "int16": schema.TensorType.INT16,
         "float32": schema.TensorType.FLOAT32}
OPS = schema.BuiltinOperator
OPTS = schema.BuiltinOptions


def add_input(b: ModelBuilder, shape: Sequence[int], dtype: str = "int8",
              scale: float | None = None, zero_point: int = 0, name: str = "input") -> int:
    """A model input of any dtype (float32 inputs have no quantization)."""
    idx = b.add_tensor(name, shape, TYPES[dtype], scale=scale,
                       zero_point=None if scale is None else zero_point)
    b.inputs.append(idx)
    return idx


def add_const(b: ModelBuilder, data: np.ndarray, scale: float, zero_point: int,
              name: str = "const") -> int:
    """A constant quantized tensor holding ``data`` (int8 or int16)."""
    return b.add_tensor(name, data.shape, TYPES[data.dtype.name], data=data, scale=scale,
                        zero_point=zero_point)


def _out(b: ModelBuilder, name: str, shape: Sequence[int], dtype: str,
         scale: float | None, zp: int) -> int:
    return b.add_tensor(name, shape, TYPES[dtype], scale=scale,
                        zero_point=None if scale is None else zp)


def _broadcast_shape(*shapes: Sequence[int]) -> list[int]:
    return list(np.broadcast_shapes(*(tuple(s) for s in shapes)))


def add_binary(b: ModelBuilder, op: str, x1: int, x2: int, *, scale: float, zero_point: int = 0,
               activation: int = 0, pot_scale_int16: bool = False, name: str = "") -> int:
    """ADD, SUB, MUL, MAXIMUM or MINIMUM of tensors ``x1`` and ``x2`` (broadcast); the
    output has ``x1``'s dtype (MAXIMUM/MINIMUM have no fused activation)."""
    shape = _broadcast_shape(b.shape(x1), b.shape(x2))
    dtype = {v: k for k, v in TYPES.items()}[b.tensors[x1].type]
    y = _out(b, name or op.lower(), shape, dtype, scale, zero_point)
    if op == "ADD":
        opt: object = schema.AddOptionsT()
        opt.potScaleInt16 = pot_scale_int16
        kind, version = OPTS.AddOptions, 3 if dtype == "int16" else 2
    elif op == "SUB":
        opt = schema.SubOptionsT()
        opt.potScaleInt16 = pot_scale_int16
        kind, version = OPTS.SubOptions, 3 if dtype == "int16" else 2
    elif op == "MUL":
        opt = schema.MulOptionsT()
        kind, version = OPTS.MulOptions, 2
    else:  # MAXIMUM, MINIMUM: version 2 takes int8, version 4 int16 (TFLite's op versions)
        b.add_op(getattr(OPS, op), [x1, x2], [y], OPTS.MaximumMinimumOptions,
                 schema.MaximumMinimumOptionsT(), version=4 if dtype == "int16" else 2)
        return y
    opt.fusedActivationFunction = activation
    b.add_op(getattr(OPS, op), [x1, x2], [y], kind, opt, version=version)
    return y


def add_unary(b: ModelBuilder, op: str, x: int, *, scale: float | None, zero_point: int = 0,
              dtype: str | None = None, alpha: float = 0.2, name: str = "") -> int:
    """One-input ops: LOGISTIC, TANH, HARD_SWISH, RELU, RELU6, LEAKY_RELU (``alpha``),
    QUANTIZE and DEQUANTIZE (``dtype`` is the output type; default: the input's)."""
    in_dtype = {v: k for k, v in TYPES.items()}[b.tensors[x].type]
    dtype = dtype or ("float32" if op == "DEQUANTIZE" else in_dtype)
    y = _out(b, name or op.lower(), b.shape(x), dtype, scale, zero_point)
    kind, opt, version = 0, None, 1
    if op == "LEAKY_RELU":
        opt = schema.LeakyReluOptionsT()
        opt.alpha = float(alpha)
        kind, version = OPTS.LeakyReluOptions, 2
    elif op == "QUANTIZE":
        kind, opt = OPTS.QuantizeOptions, schema.QuantizeOptionsT()
        version = 3 if "int16" in (in_dtype, dtype) else 2
    elif op == "DEQUANTIZE":
        kind, opt, version = OPTS.DequantizeOptions, schema.DequantizeOptionsT(), 2
    elif op in ("LOGISTIC", "TANH", "RELU", "RELU6"):
        version = 2
    b.add_op(getattr(OPS, op), [x], [y], kind, opt, version=version)
    return y


def add_prelu(b: ModelBuilder, x: int, alpha: int, *, scale: float, zero_point: int = 0,
              name: str = "prelu") -> int:
    """PRELU of ``x`` with the (usually constant) ``alpha`` tensor."""
    y = _out(b, name, b.shape(x), "int8", scale, zero_point)
    b.add_op(OPS.PRELU, [x, alpha], [y], version=1)
    return y


def chain_model(seed: int = 0) -> bytes:
    """One int8 model with every elementwise op the builtin runtime lowers (two model
    inputs, broadcasting and a constant operand): for the end-to-end QEMU test."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder(seed, description="support.synth_elementwise chain")
    x = add_input(b, [1, 4, 6, 8], "int8", 0.05, -3, "x")
    y = add_input(b, [1, 1, 6, 8], "int8", 0.04, 5, "y")
    q = add_unary(b, "QUANTIZE", x, scale=0.07, zero_point=2)
    lr = add_unary(b, "LEAKY_RELU", q, scale=0.06, zero_point=10, alpha=0.3)
    hs = add_unary(b, "HARD_SWISH", lr, scale=0.05, zero_point=-20)
    s = add_binary(b, "ADD", hs, y, scale=0.09, zero_point=-4)
    k = add_const(b, rng.integers(-128, 128, size=[8], dtype=np.int8), 0.02, 7, "k")
    m = add_binary(b, "MUL", s, k, scale=0.05, zero_point=1, activation=1)
    d = add_binary(b, "SUB", m, q, scale=0.1, zero_point=0)
    alpha = add_const(b, rng.integers(-128, 128, size=[1, 1, 8], dtype=np.int8), 0.01, -2,
                      "alpha")
    p = add_prelu(b, d, alpha, scale=0.08, zero_point=-6)
    r6 = add_unary(b, "RELU6", p, scale=0.03, zero_point=-128)
    t = add_unary(b, "TANH", r6, scale=1 / 128, zero_point=0)
    lg = add_unary(b, "LOGISTIC", d, scale=1 / 256, zero_point=-128)
    out = add_binary(b, "ADD", t, lg, scale=0.012, zero_point=-30)
    relu = add_unary(b, "RELU", out, scale=0.01, zero_point=-100)
    # MAXIMUM / MINIMUM: one scale and zero point for inputs and output (the spec's rule).
    floor = add_const(b, rng.integers(-128, 128, size=[8], dtype=np.int8), 0.01, -100, "floor")
    hi = add_binary(b, "MAXIMUM", relu, floor, scale=0.01, zero_point=-100)
    lo = add_binary(b, "MINIMUM", hi, relu, scale=0.01, zero_point=-100)
    return b.build([lo, lg])


def chain_model_int16(seed: int = 0) -> bytes:
    """The int16 (16x8) elementwise ops in one model: ADD, SUB, LEAKY_RELU, RELU, RELU6
    and QUANTIZE int16 -> int8 -> int16."""
    b = ModelBuilder(seed, description="support.synth_elementwise int16 chain")
    x = add_input(b, [1, 2, 5, 16], "int16", 3e-4, 0, "x")
    y = add_input(b, [1, 1, 5, 16], "int16", 2e-4, 0, "y")
    s = add_binary(b, "ADD", x, y, scale=4e-4)
    lr = add_unary(b, "LEAKY_RELU", s, scale=3e-4, alpha=0.3)
    d = add_binary(b, "SUB", lr, x, scale=5e-4, activation=1)
    r6 = add_unary(b, "RELU6", d, scale=2e-4)
    q8 = add_unary(b, "QUANTIZE", r6, scale=0.05, zero_point=-100, dtype="int8")
    q16 = add_unary(b, "QUANTIZE", q8, scale=1e-3, zero_point=0, dtype="int16")
    return b.build(add_unary(b, "RELU", q16, scale=9e-4))
