"""Lowering of the builtin runtime's elementwise ops (see lower_base.LoweredOp).

The parameters come from :mod:`harness.int8ops_elementwise`, so the firmware and
the NumPy reference use the same multipliers, shifts, clamps and tables.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness import int8ops_elementwise as ew
from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph, Op, Tensor
from harness.ops.c_emit import CArray, LoweredOp, dims, ptr

CTYPES = {"int8": "int8_t", "int16": "int16_t"}
SUFFIX = {"int8": "s8", "int16": "s16"}


def _init(params: dict[str, int]) -> str:
    return "{" + ", ".join(str(int(v)) for v in params.values()) + "}"


def _check_dtypes(op: Op, tensors: list[Tensor], allowed: frozenset[str]) -> str:
    """The op's single activation dtype; UnsupportedType for anything else."""
    kinds = sorted({t.dtype for t in tensors})
    if len(kinds) != 1 or kinds[0] not in allowed:
        raise UnsupportedType(f"op {op.index} ({op.name}): {'/'.join(kinds)} tensors are not "
                              f"supported by the builtin runtime (it handles "
                              f"{', '.join(sorted(allowed))})")
    return kinds[0]


def _operand(lo: LoweredOp, t: Tensor, name: str) -> str:
    """Pointer expression for an op input: an arena tensor, or a const array in flash."""
    if t.is_const:
        assert t.data is not None
        lo.arrays.append(CArray(CTYPES[t.dtype], name, t.data.astype(np.int64).ravel()))
    return ptr(t, name)


def _check_broadcast(op: Op, out: Tensor, *ins: Tensor) -> None:
    if len(out.shape) > 4 or any(len(t.shape) > 4 for t in ins):
        raise UnsupportedOp(f"op {op.index} ({op.name}): more than 4 dimensions")
    o = (1,) * (4 - len(out.shape)) + tuple(out.shape)
    for t in ins:
        s = (1,) * (4 - len(t.shape)) + tuple(t.shape)
        if any(a not in (1, b) for a, b in zip(s, o, strict=True)):
            raise UnsupportedOp(f"op {op.index} ({op.name}): cannot broadcast {list(t.shape)} "
                                f"to {list(out.shape)}")


def _binary(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """ADD, SUB, MUL: two inputs (either may be constant), broadcast to the output."""
    t1, t2, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    dtype = _check_dtypes(op, [t1, t2, out], DTYPES[op.name])
    _check_broadcast(op, out, t1, t2)
    act = int(op.options.get("fusedActivationFunction", 0) or 0)
    p = f"op{op.index}"
    if ew.uses_int16_pot_path(op.options, t1, t2, out):
        raise UnsupportedOp(f"op {op.index} ({op.name}): int16 with power-of-two scales "
                            "(pot_scale_int16) is not supported")
    if op.name == "MUL":
        params, ctype = ew.mul_params(t1, t2, out, act), "hx_mul_params"
    else:
        params, ctype = ew.add_params(t1, t2, out, act), "hx_add_params"
    lo.comment.append(", ".join(f"{k} {v}" for k, v in params.items()))
    a = _operand(lo, t1, f"{p}_input1")
    b = _operand(lo, t2, f"{p}_input2")
    lo.params.append((ctype, f"{p}_params", _init(params)))
    fn = f"hx_{op.name.lower()}_{SUFFIX[dtype]}"
    lo.call = (f"{fn}(&{p}_params, (hx_dims){dims(t1.shape)}, {a}, (hx_dims){dims(t2.shape)}, "
               f"{b}, (hx_dims){dims(out.shape)}, {ptr(out)});")


_RESCALE_FN = {("int8", "int8"): "hx_rescale_s8", ("int16", "int8"): "hx_rescale_s16_s8",
               ("int8", "int16"): "hx_rescale_s8_s16", ("int16", "int16"): "hx_rescale_s16",
               ("int32", "int16"): "hx_rescale_s32_s16", ("int16", "int32"): "hx_rescale_s16_s32"}
# QUANTIZE from float and DEQUANTIZE: (input, output) dtype -> kernel.
_CONVERT_FN = {("float32", "int8"): "hx_quantize_f32_s8",
               ("float32", "int16"): "hx_quantize_f32_s16",
               ("int8", "float32"): "hx_dequantize_s8_f32",
               ("int16", "float32"): "hx_dequantize_s16_f32"}


def _rescale(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """RELU, RELU6 and integer QUANTIZE: one rescale and a clamp per element."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pair = (inp.dtype, out.dtype)
    if pair in _CONVERT_FN and op.name == "QUANTIZE":
        _convert(graph, op, lo)
        return
    ok = pair in _RESCALE_FN if op.name == "QUANTIZE" else pair in (("int8", "int8"),
                                                                      ("int16", "int16"))
    if not ok:
        raise UnsupportedType(f"op {op.index} ({op.name}): {inp.dtype} -> {out.dtype} is not "
                              "supported by the builtin runtime")
    params = ew.rescale_params(op.name, inp, out)
    p = f"op{op.index}"
    lo.comment.append(", ".join(f"{k} {v}" for k, v in params.items()))
    lo.params.append(("hx_rescale_params", f"{p}_params", _init(params)))
    lo.call = f"{_RESCALE_FN[pair]}(&{p}_params, {inp.size}, {ptr(inp)}, {ptr(out)});"


def _convert(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """QUANTIZE float -> int8/int16 and DEQUANTIZE int8/int16 -> float (per-tensor)."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pair = (inp.dtype, out.dtype)
    fn = _CONVERT_FN.get(pair) if op.name == "QUANTIZE" or pair[1] == "float32" else None
    q = out if pair[0] == "float32" else inp
    if fn is None or len(q.scales) > 1:
        raise UnsupportedType(f"op {op.index} ({op.name}): {inp.dtype} -> {out.dtype}"
                              + (" per-channel" if fn else "")
                              + " is not supported by the builtin runtime")
    lo_, hi = ew.type_range(out) if out.dtype != "float32" else (0, 0)
    p = f"op{op.index}"
    scale = float(np.float32(q.scale))
    lo.comment.append(f"scale {scale!r}, zero point {q.zero_point}")
    lo.params.append(("hx_quantize_params", f"{p}_params",
                      f"{{{scale!r}f, {q.zero_point}, {lo_}, {hi}}}"))
    lo.call = f"{fn}(&{p}_params, {inp.size}, {ptr(inp)}, {ptr(out)});"


def _leaky_relu(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    dtype = _check_dtypes(op, [inp, out], DTYPES["LEAKY_RELU"])
    alpha = float(op.options.get("alpha", 0.0))
    params = ew.leaky_relu_params(inp, out, alpha)
    p = f"op{op.index}"
    lo.comment.append(f"alpha {alpha:g}; " + ", ".join(f"{k} {v}" for k, v in params.items()))
    lo.params.append(("hx_leaky_relu_params", f"{p}_params", _init(params)))
    lo.call = (f"hx_leaky_relu_{SUFFIX[dtype]}(&{p}_params, {inp.size}, {ptr(inp)}, "
               f"{ptr(out)});")


def _prelu(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, alpha, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    _check_dtypes(op, [inp, alpha, out], DTYPES["PRELU"])
    _check_broadcast(op, out, inp, alpha)
    params = ew.prelu_params(inp, alpha, out)
    p = f"op{op.index}"
    lo.comment.append(", ".join(f"{k} {v}" for k, v in params.items()))
    a = _operand(lo, alpha, f"{p}_alpha")
    lo.params.append(("hx_prelu_params", f"{p}_params", _init(params)))
    lo.call = (f"hx_prelu_s8(&{p}_params, (hx_dims){dims(inp.shape)}, {ptr(inp)}, "
               f"(hx_dims){dims(alpha.shape)}, {a}, (hx_dims){dims(out.shape)}, {ptr(out)});")


def _hard_swish(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtypes(op, [inp, out], DTYPES["HARD_SWISH"])
    try:
        params = ew.hard_swish_params(inp, out)
    except ValueError as exc:
        raise UnsupportedOp(f"op {op.index} (HARD_SWISH): {exc}") from None
    p = f"op{op.index}"
    lo.comment.append(", ".join(f"{k} {v}" for k, v in params.items()))
    lo.params.append(("hx_hard_swish_params", f"{p}_params", _init(params)))
    lo.call = f"hx_hard_swish_s8(&{p}_params, {inp.size}, {ptr(inp)}, {ptr(out)});"


def _lookup(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """LOGISTIC, TANH: a 256-entry table built on the host as LiteRT builds it."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtypes(op, [inp, out], DTYPES[op.name])
    p = f"op{op.index}"
    lo.comment.append("256-entry table indexed by input + 128 (float32 function, "
                      "rounded, clamped)")
    lo.arrays.append(CArray("int8_t", f"{p}_table", ew.lut_table(op.name, inp, out)))
    lo.call = f"hx_lut_s8({p}_table, {inp.size}, {ptr(inp)}, {ptr(out)});"


LOWERINGS: dict[str, Callable[[Graph, Op, LoweredOp], None]] = {
    "ADD": _binary,
    "SUB": _binary,
    "MUL": _binary,
    "RELU": _rescale,
    "RELU6": _rescale,
    "QUANTIZE": _rescale,
    "DEQUANTIZE": _convert,
    "LEAKY_RELU": _leaky_relu,
    "PRELU": _prelu,
    "HARD_SWISH": _hard_swish,
    "LOGISTIC": _lookup,
    "TANH": _lookup,
}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this.
_I8 = frozenset({"int8"})
DTYPES: dict[str, frozenset[str]] = {
    "ADD": frozenset({"int8", "int16"}),
    "SUB": frozenset({"int8", "int16"}),
    "MUL": _I8,
    "RELU": frozenset({"int8", "int16"}),
    "RELU6": frozenset({"int8", "int16"}),
    "QUANTIZE": frozenset({"int8", "int16", "float32"}),
    "DEQUANTIZE": frozenset({"int8", "int16", "float32"}),
    "LEAKY_RELU": frozenset({"int8", "int16"}),
    "PRELU": _I8,
    "HARD_SWISH": _I8,
    "LOGISTIC": _I8,
    "TANH": _I8,
}
