"""Lowering of the builtin runtime's shape and data-movement ops (see lower_base.LoweredOp).

Geometry (masks, negative indices, permutations, reduced axes, batch
broadcasting) is resolved on the host by :mod:`harness.int8ops_shape`, the
same code the NumPy reference runs, so the kernels get plain numbers.
SQUEEZE and EXPAND_DIMS alias their input in the arena, like RESHAPE.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.errors import UnsupportedOp, UnsupportedType
from harness.int8ops_shape import (
    DTYPES,
    act_range,
    batch_matmul_multiplier,
    concat_geometry,
    matmul_geometry,
    mean_geometry,
    pad_geometry,
    slice_geometry,
    transpose_conv_padding,
    transpose_geometry,
)
from harness.model.graph import Graph, Op, Tensor
from harness.ops.c_emit import (
    ACT_NAMES,
    PAD_NAMES,
    CArray,
    LoweredOp,
    add_requant,
    dims,
    ptr,
    tdesc,
)
from harness.quant.multiplier import conv_requant

_SUFFIX = {"int8": "s8", "int16": "s16"}
_CTYPE = {"int8": "int8_t", "int16": "int16_t"}


def _check_dtype(graph: Graph, op: Op, tensors: list[Tensor]) -> str:
    """The op's activation dtype, refused unless DTYPES lists it."""
    kinds = {t.dtype for t in tensors}
    dtype = graph.tensors[op.outputs[0]].dtype
    if len(kinds) > 1 or dtype not in DTYPES[op.name]:
        raise UnsupportedType(f"op {op.index} ({op.name}) with {'/'.join(sorted(kinds))} "
                              "activations is not supported by the builtin runtime")
    return dtype


def _same_quant(op: Op, a: Tensor, b: Tensor) -> None:
    if (np.float32(a.scale), a.zero_point) != (np.float32(b.scale), b.zero_point):
        raise UnsupportedOp(f"op {op.index} ({op.name}) rescales (input {a.scale:g}/"
                            f"{a.zero_point}, output {b.scale:g}/{b.zero_point}), which the "
                            "builtin runtime does not do")


def _operand(lo: LoweredOp, name: str, t: Tensor) -> str:
    """Pointer to an activation, or to a flash copy of a constant operand."""
    if t.is_const:
        assert t.data is not None
        lo.arrays.append(CArray(_CTYPE[t.dtype], name, t.data.astype(np.int64).ravel()))
        return ptr(t, name)
    return ptr(t)


def _concatenation(graph: Graph, op: Op, lo: LoweredOp) -> None:
    ins = [graph.tensors[i] for i in op.inputs]
    out = graph.tensors[op.outputs[0]]
    _check_dtype(graph, op, ins + [out])
    if int(op.options.get("fusedActivationFunction", 0) or 0):
        raise UnsupportedOp(f"op {op.index} (CONCATENATION) has a fused activation")
    for t in ins:
        _same_quant(op, t, out)
    outer, inner = concat_geometry(graph, op)
    p = f"op{op.index}"
    ptrs = ", ".join(_operand(lo, f"{p}_in{k}", t) for k, t in enumerate(ins))
    lo.comment.append(f"axis {op.options.get('axis', 0)}: {outer} rows of {inner} elements")
    lo.arrays.append(CArray("int32_t", f"{p}_inner", np.asarray(inner, np.int64)))
    lo.call = (f"hx_concat_s8({len(ins)}, (const int8_t *const[]){{{ptrs}}}, {p}_inner, "
               f"{outer}, {ptr(out)});")


def _pad(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    dtype = _check_dtype(graph, op, [inp, out])
    _same_quant(op, inp, out)
    in_dims, before, out_dims, value = pad_geometry(graph, op)
    lo.comment.append(f"before {list(before)}, pad value {value}")
    lo.call = (f"hx_pad_{_SUFFIX[dtype]}((hx_dims){dims(in_dims)}, {ptr(inp)}, "
               f"(hx_dims){dims(before)}, (hx_dims){dims(out_dims)}, {value}, {ptr(out)});")


def _strided_slice(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    dtype = _check_dtype(graph, op, [inp, out])
    _same_quant(op, inp, out)
    g = slice_geometry(graph, op)
    p = f"op{op.index}"
    lo.comment.append(f"start {list(g.start)}, step {list(g.step)}, count {list(g.count)}")
    lo.params.append(("hx_slice_params", f"{p}_params",
                      f"{{{dims(g.start)}, {dims(g.step)}}}"))
    lo.call = (f"hx_strided_slice_{_SUFFIX[dtype]}(&{p}_params, (hx_dims){dims(inp.shape)}, "
               f"{ptr(inp)}, (hx_dims){dims(g.count)}, {ptr(out)});")


def _alias(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtype(graph, op, [inp, out])
    if inp.is_const:
        raise UnsupportedOp(f"op {op.index} ({op.name}) of a constant tensor")
    _same_quant(op, inp, out)
    lo.comment.append("aliases its input in the arena: no code")
    lo.call = "/* nothing to do */"


def _transpose(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtype(graph, op, [inp, out])
    _same_quant(op, inp, out)
    perm, in_dims = transpose_geometry(graph, op)
    p = f"op{op.index}"
    lo.comment.append(f"permutation {list(perm)} of {list(in_dims)}")
    lo.arrays.append(CArray("int32_t", f"{p}_perm", np.asarray(perm, np.int64)))
    lo.call = f"hx_transpose_s8({p}_perm, (hx_dims){dims(in_dims)}, {ptr(inp)}, {ptr(out)});"


def _mean(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    _check_dtype(graph, op, [inp, out])
    g = mean_geometry(graph, op)
    p = f"op{op.index}"
    lo.comment.append(f"kept {list(g.kept)} x reduced {list(g.reduced)} ({g.count} per mean)")
    lo.params.append(("hx_mean_params", f"{p}_params",
                      f"{{{dims(g.kept)}, {dims(g.reduced)}, {inp.zero_point}, {g.count}, "
                      f"{g.multiplier}, {g.shift}, {out.zero_point}}}"))
    lo.call = (f"hx_mean_s8(&{p}_params, (hx_dims){dims(g.input_dims)}, {ptr(inp)}, "
               f"{ptr(out)});")


def _transpose_conv(graph: Graph, op: Op, lo: LoweredOp) -> None:
    filt, inp = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
    out = graph.tensors[op.outputs[0]]
    dtype = _check_dtype(graph, op, [inp, out])
    if filt.data is None or filt.dtype != "int8":
        raise UnsupportedOp(f"op {op.index} (TRANSPOSE_CONV) needs constant int8 weights")
    if dtype == "int16" and (inp.zero_point or out.zero_point):
        raise UnsupportedType(f"op {op.index} (TRANSPOSE_CONV): int16 activations need zero "
                              "point 0 (16x8 scheme)")
    sh, sw, pad_h, pad_w = transpose_conv_padding(op, out.shape, filt.shape)
    mults, shifts = conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    act_min, act_max = act_range(op, out)
    p = f"op{op.index}"
    code = int(op.options.get("fusedActivationFunction", 0) or 0)
    lo.comment.append(f"filter {tdesc(filt)}; {PAD_NAMES[int(op.options.get('padding', 0))]}, "
                      f"stride {sh}x{sw}, pad {pad_h}x{pad_w}, {ACT_NAMES.get(code, '?')}")
    lo.arrays.append(CArray("int8_t", f"{p}_filter", filt.data.astype(np.int64).ravel()))
    bias = "NULL"
    if len(op.inputs) > 3 and op.inputs[3] >= 0:
        b = graph.tensors[op.inputs[3]]
        if b.data is None:
            raise UnsupportedOp(f"op {op.index} (TRANSPOSE_CONV) has a non-constant bias")
        ctype = "int64_t" if dtype == "int16" else "int32_t"
        lo.arrays.append(CArray(ctype, f"{p}_bias", b.data.astype(np.int64).ravel()))
        bias = f"{p}_bias"
    add_requant(lo, p, mults, shifts)
    lo.params.append(("hx_conv_params", f"{p}_params",
                      f"{{{-inp.zero_point}, {out.zero_point}, {act_min}, {act_max}, {sh}, "
                      f"{sw}, 1, 1, {pad_h}, {pad_w}, 1}}"))
    lo.call = (f"hx_transpose_conv_{_SUFFIX[dtype]}(&{p}_params, &{p}_rq, "
               f"(hx_dims){dims(inp.shape)}, {ptr(inp)}, (hx_dims){dims(filt.shape)}, "
               f"{p}_filter, {bias}, (hx_dims){dims(out.shape)}, {ptr(out)});")


def _batch_matmul(graph: Graph, op: Op, lo: LoweredOp) -> None:
    lhs, rhs = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out = graph.tensors[op.outputs[0]]
    _check_dtype(graph, op, [lhs, rhs, out])
    if rhs.per_channel or lhs.per_channel:
        raise UnsupportedOp(f"op {op.index} (BATCH_MATMUL) with per-channel quantization")
    g = matmul_geometry(graph, op)
    mult, shift = batch_matmul_multiplier(lhs, rhs, out)
    p = f"op{op.index}"
    a, b = _operand(lo, f"{p}_lhs", lhs), _operand(lo, f"{p}_rhs", rhs)
    lo.comment.append(f"{len(g.lhs_batch)} x ({g.rows} x {g.depth}) . ({g.depth} x {g.cols}), "
                      f"adj_x {bool(op.options.get('adjX'))}, adj_y {bool(op.options.get('adjY'))}")
    lo.arrays.append(CArray("int32_t", f"{p}_lhs_batch", np.asarray(g.lhs_batch, np.int64)))
    lo.arrays.append(CArray("int32_t", f"{p}_rhs_batch", np.asarray(g.rhs_batch, np.int64)))
    lo.params.append(("hx_batch_matmul_params", f"{p}_params",
                      f"{{{len(g.lhs_batch)}, {g.rows}, {g.cols}, {g.depth}, "
                      f"{g.lhs_strides[0]}, {g.lhs_strides[1]}, {g.rhs_strides[0]}, "
                      f"{g.rhs_strides[1]}, {-lhs.zero_point}, {-rhs.zero_point}, "
                      f"{out.zero_point}, {mult}, {shift}, -128, 127}}"))
    lo.call = (f"hx_batch_matmul_s8(&{p}_params, {p}_lhs_batch, {a}, {p}_rhs_batch, {b}, "
               f"{ptr(out)});")


LOWERINGS: dict[str, Callable[[Graph, Op, LoweredOp], None]] = {
    "CONCATENATION": _concatenation,
    "PAD": _pad,
    "PADV2": _pad,
    "MEAN": _mean,
    "STRIDED_SLICE": _strided_slice,
    "SQUEEZE": _alias,
    "EXPAND_DIMS": _alias,
    "TRANSPOSE": _transpose,
    "TRANSPOSE_CONV": _transpose_conv,
    "BATCH_MATMUL": _batch_matmul,
}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this. The lowering and the
# NumPy reference cover the same set (int8ops_shape.DTYPES).
DTYPES: dict[str, frozenset[str]] = dict(DTYPES)
