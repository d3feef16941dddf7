"""Synthetic models for the type conversions: QUANTIZE between float32, int8,
int16 and int32, DEQUANTIZE, and SOFTMAX with int8 input and int16 output."""

from __future__ import annotations

from collections.abc import Sequence

from ai_edge_litert import schema_py_generated as schema

from support.synth_builder import ModelBuilder

TYPES = {"int8": schema.TensorType.INT8, "int16": schema.TensorType.INT16,
         "int32": schema.TensorType.INT32, "float32": schema.TensorType.FLOAT32}
OPS = schema.BuiltinOperator
OPTS = schema.BuiltinOptions


def tensor(b: ModelBuilder, name: str, shape: Sequence[int], dtype: str,
           scale: float | None = None, zero_point: int = 0) -> int:
    """An activation tensor; float32 ones carry no quantization."""
    return b.add_tensor(name, shape, TYPES[dtype], scale=scale,
                        zero_point=None if scale is None else zero_point)


def model_input(b: ModelBuilder, shape: Sequence[int], dtype: str,
                scale: float | None = None, zero_point: int = 0) -> int:
    idx = tensor(b, "input", shape, dtype, scale, zero_point)
    b.inputs.append(idx)
    return idx


def convert(b: ModelBuilder, x: int, dtype: str, scale: float | None = None,
            zero_point: int = 0, name: str = "") -> int:
    """QUANTIZE ``x`` to ``dtype`` (scale, zero point), or DEQUANTIZE it when
    ``dtype`` is float32."""
    op = "DEQUANTIZE" if dtype == "float32" else "QUANTIZE"
    y = tensor(b, name or op.lower(), b.shape(x), dtype, scale, zero_point)
    if op == "DEQUANTIZE":
        b.add_op(OPS.DEQUANTIZE, [x], [y], OPTS.DequantizeOptions,
                 schema.DequantizeOptionsT(), version=2)
    else:
        wide = b.tensors[x].type != TYPES["int8"] or dtype != "int8"
        b.add_op(OPS.QUANTIZE, [x], [y], OPTS.QuantizeOptions, schema.QuantizeOptionsT(),
                 version=3 if wide else 2)
    return y


def softmax_s8_s16(b: ModelBuilder, x: int, beta: float = 1.0, name: str = "softmax") -> int:
    """SOFTMAX of int8 ``x`` into int16 of scale 1/65536, zero point -32768."""
    y = tensor(b, name, b.shape(x), "int16", 1 / 65536, -32768)
    opt = schema.SoftmaxOptionsT()
    opt.beta = float(beta)
    b.add_op(OPS.SOFTMAX, [x], [y], OPTS.SoftmaxOptions, opt, version=2)
    return y


def chain_model(seed: int = 0, shape: Sequence[int] = (2, 10)) -> bytes:
    """float32 -> QUANTIZE int8 -> SOFTMAX int16 -> QUANTIZE int32 -> QUANTIZE int16
    -> DEQUANTIZE float32: every conversion the builtin runtime has, in one model."""
    b = ModelBuilder(seed)
    x = model_input(b, shape, "float32")
    q = convert(b, x, "int8", 0.05, 3, name="q8")
    s = softmax_s8_s16(b, q, beta=1.0)
    w = convert(b, s, "int32", 1 / 32768, 0, name="q32")
    h = convert(b, w, "int16", 1 / 16384, 0, name="q16")
    return b.build(convert(b, h, "float32", name="dequantize"))
