"""The elementwise ops in C: the kernels of firmware/kernels/hx_elementwise.c with their
parameter structs (params.py fills them) and, for LOGISTIC / TANH, a 256-entry table in
flash.

``emit_rescale`` (one ``hx_rescale_*`` call) is shared with QUANTIZE
(harness.ops.conversion), whose integer conversions run on the same kernels.
"""

from __future__ import annotations

import numpy as np

from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph, Op, Tensor
from harness.ops.c_emit import C_TYPES, CArray, LoweredOp, dims, ptr, refuse
from harness.ops.elementwise.params import (
    DTYPES,
    add_params,
    hard_swish_params,
    leaky_relu_params,
    lut_table,
    mul_params,
    prelu_params,
    relu_params,
    uses_int16_pot_path,
)

SUFFIX = {"int8": "s8", "int16": "s16"}
# (input, output) dtype -> the hx_rescale_* kernel.
RESCALE_FN = {("int8", "int8"): "hx_rescale_s8", ("int16", "int8"): "hx_rescale_s16_s8",
              ("int8", "int16"): "hx_rescale_s8_s16", ("int16", "int16"): "hx_rescale_s16",
              ("int32", "int16"): "hx_rescale_s32_s16", ("int16", "int32"): "hx_rescale_s16_s32"}


def _init(params: dict[str, int]) -> str:
    return "{" + ", ".join(str(int(v)) for v in params.values()) + "}"


def _describe(params: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in params.items())


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
        lo.arrays.append(CArray(C_TYPES[t.dtype], name, t.data.astype(np.int64).ravel()))
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


def emit_binary(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """ADD, SUB, MUL: two inputs (either may be constant), broadcast to the output."""
    t1, t2, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    dtype = _check_dtypes(op, [t1, t2, out], DTYPES[op.name])
    _check_broadcast(op, out, t1, t2)
    act = int(op.options.get("fusedActivationFunction", 0) or 0)
    p = f"op{op.index}"
    if uses_int16_pot_path(op.options, t1, t2, out):
        raise UnsupportedOp(f"op {op.index} ({op.name}): int16 with power-of-two scales "
                            "(pot_scale_int16) is not supported")
    if op.name == "MUL":
        params, ctype = mul_params(t1, t2, out, act), "hx_mul_params"
    else:
        params, ctype = add_params(t1, t2, out, act), "hx_add_params"
    lo.comment.append(_describe(params))
    a = _operand(lo, t1, f"{p}_input1")
    b = _operand(lo, t2, f"{p}_input2")
    lo.params.append((ctype, f"{p}_params", _init(params)))
    fn = f"hx_{op.name.lower()}_{SUFFIX[dtype]}"
    lo.call = (f"{fn}(&{p}_params, (hx_dims){dims(t1.shape)}, {a}, (hx_dims){dims(t2.shape)}, "
               f"{b}, (hx_dims){dims(out.shape)}, {ptr(out)});")


def emit_minmax(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """MAXIMUM, MINIMUM: the larger or smaller stored integer, broadcast. No parameters:
    the quantization spec gives inputs and output one scale and zero point, and TFLite's
    reference kernel compares the integers as they are."""
    t1, t2, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    dtype = _check_dtypes(op, [t1, t2, out], DTYPES[op.name])
    _check_broadcast(op, out, t1, t2)
    p = f"op{op.index}"
    lo.comment.append(f"elementwise {'max' if op.name == 'MAXIMUM' else 'min'} of the "
                      "stored integers")
    a = _operand(lo, t1, f"{p}_input1")
    b = _operand(lo, t2, f"{p}_input2")
    lo.call = (f"hx_{op.name.lower()}_{SUFFIX[dtype]}((hx_dims){dims(t1.shape)}, {a}, "
               f"(hx_dims){dims(t2.shape)}, {b}, (hx_dims){dims(out.shape)}, {ptr(out)});")


def emit_rescale(op: Op, inp: Tensor, out: Tensor, params: dict[str, int],
                 lo: LoweredOp) -> None:
    """One rescale and a clamp per element (``hx_rescale_params``, RESCALE_FN's kernel)."""
    p = f"op{op.index}"
    lo.comment.append(_describe(params))
    lo.params.append(("hx_rescale_params", f"{p}_params", _init(params)))
    lo.call = (f"{RESCALE_FN[(inp.dtype, out.dtype)]}(&{p}_params, {inp.size}, {ptr(inp)}, "
               f"{ptr(out)});")


def emit_relu(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """RELU, RELU6: a rescale clamped to the activation's range, int8 or int16."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if (inp.dtype, out.dtype) not in (("int8", "int8"), ("int16", "int16")):
        raise refuse(op, f"{inp.dtype} -> {out.dtype}")
    emit_rescale(op, inp, out, relu_params(op.name, inp, out), lo)


def emit_leaky_relu(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """LEAKY_RELU, int8 or int16: two rescales, picked by the input's sign."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    dtype = _check_dtypes(op, [inp, out], DTYPES["LEAKY_RELU"])
    alpha = float(op.options.get("alpha", 0.0))
    params = leaky_relu_params(inp, out, alpha)
    p = f"op{op.index}"
    lo.comment.append(f"alpha {alpha:g}; " + _describe(params))
    lo.params.append(("hx_leaky_relu_params", f"{p}_params", _init(params)))
    lo.call = (f"hx_leaky_relu_{SUFFIX[dtype]}(&{p}_params, {inp.size}, {ptr(inp)}, "
               f"{ptr(out)});")


def emit_prelu(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """PRELU: the alpha tensor (usually constant, then in flash) broadcast to the input."""
    inp, alpha, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    _check_dtypes(op, [inp, alpha, out], DTYPES["PRELU"])
    _check_broadcast(op, out, inp, alpha)
    params = prelu_params(inp, alpha, out)
    p = f"op{op.index}"
    lo.comment.append(_describe(params))
    a = _operand(lo, alpha, f"{p}_alpha")
    lo.params.append(("hx_prelu_params", f"{p}_params", _init(params)))
    lo.call = (f"hx_prelu_s8(&{p}_params, (hx_dims){dims(inp.shape)}, {ptr(inp)}, "
               f"(hx_dims){dims(alpha.shape)}, {a}, (hx_dims){dims(out.shape)}, {ptr(out)});")


def emit_hard_swish(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """HARD_SWISH: LiteRT's 16-bit fixed point; an output scale below input scale / 128
    is refused (UnsupportedOp)."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtypes(op, [inp, out], DTYPES["HARD_SWISH"])
    try:
        params = hard_swish_params(inp, out)
    except ValueError as exc:
        raise UnsupportedOp(f"op {op.index} (HARD_SWISH): {exc}") from None
    p = f"op{op.index}"
    lo.comment.append(_describe(params))
    lo.params.append(("hx_hard_swish_params", f"{p}_params", _init(params)))
    lo.call = f"hx_hard_swish_s8(&{p}_params, {inp.size}, {ptr(inp)}, {ptr(out)});"


def emit_lookup(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """LOGISTIC, TANH: a 256-entry table built on the host as LiteRT builds it."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtypes(op, [inp, out], DTYPES[op.name])
    p = f"op{op.index}"
    lo.comment.append("256-entry table indexed by input + 128 (float32 function, "
                      "rounded, clamped)")
    lo.arrays.append(CArray("int8_t", f"{p}_table", lut_table(op.name, inp, out)))
    lo.call = f"hx_lut_s8({p}_table, {inp.size}, {ptr(inp)}, {ptr(out)});"
