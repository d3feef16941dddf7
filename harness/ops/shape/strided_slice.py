"""STRIDED_SLICE: start / step / count per dimension, with TFLite's rules for masks,
negative indices and clamping resolved on the host, int8 and int16
(hx_strided_slice_s8 / _s16 in firmware/kernels/hx_shape.c, bit-exact with LiteRT
BUILTIN_REF). Ellipsis and new-axis masks and ``offset=True`` are refused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.c_emit import LoweredOp, dims, ptr, single_dtype
from harness.ops.checks import const_ints, invalid, operands
from harness.ops.plan import OpPlan
from harness.ops.shape.common import INT8_16, Dims4, const_operand, dims4, same_quant

DTYPES = INT8_16


def check_strided_slice(graph: Graph, op: Op) -> None:
    """Constant begin / end / strides hold one value per input axis, strides no 0."""
    inp, *params = operands(graph, op, 4)
    rank = len(inp.shape)
    for t, what in zip(params[:3], ("begin", "end", "strides"), strict=True):
        values = const_ints(op, t, what)
        if values is not None and values.size != rank:
            raise invalid(op, f"{what} {values.tolist()} has {values.size} values for a "
                          f"rank-{rank} input")
        if what == "strides" and values is not None and np.any(values == 0):
            raise invalid(op, f"strides {values.tolist()} hold a 0")


@dataclass
class SliceGeometry:
    """A strided slice resolved to start / step / count per dimension (4-D)."""

    start: Dims4
    step: Dims4
    count: Dims4


def slice_axis(dim: int, begin: int, end: int, stride: int, masks: tuple[bool, bool, bool]
               ) -> tuple[int, int]:
    """``(start, count)`` along one axis, TFLite's rules (masks, negatives, clamping)."""
    begin_masked, end_masked, shrink = masks
    lo, hi = (0, dim) if stride > 0 else (-1, dim - 1)
    start = (-(1 << 31) if stride > 0 else (1 << 31) - 1) if begin_masked else begin
    start = start + dim if start < 0 else start
    start = min(max(start, lo), hi)
    if shrink:
        return start, 1
    stop = ((1 << 31) - 1 if stride > 0 else -(1 << 31)) if end_masked else end
    stop = stop + dim if stop < 0 else stop
    stop = min(max(stop, lo), hi)
    span = stop - start if stride > 0 else start - stop
    return start, max(0, -(-span // abs(stride)))


def _refuse_unsupported(op: Op) -> None:
    if op.int_option("ellipsisMask") or op.int_option("newAxisMask"):
        raise UnsupportedOp(f"op {op.index} (STRIDED_SLICE) uses an ellipsis or new-axis mask")
    if op.options.get("offset"):
        raise UnsupportedOp(f"op {op.index} (STRIDED_SLICE) uses offset=True")


def slice_geometry(graph: Graph, op: Op) -> SliceGeometry:
    """Resolve a STRIDED_SLICE's begin / end / strides and masks."""
    inp = graph.tensors[op.inputs[0]]
    _refuse_unsupported(op)
    begin, end = const_operand(graph, op, 1, "begin"), const_operand(graph, op, 2, "end")
    strides = const_operand(graph, op, 3, "strides")
    bm, em = op.int_option("beginMask"), op.int_option("endMask")
    sm = op.int_option("shrinkAxisMask")
    start, step, count = [], [], []
    for k, dim in enumerate(inp.shape):
        s = int(strides[k])
        if s == 0:
            raise UnsupportedOp(f"op {op.index} (STRIDED_SLICE) has stride 0 on axis {k}")
        a, n = slice_axis(dim, int(begin[k]), int(end[k]), s,
                          (bool(bm >> k & 1), bool(em >> k & 1), bool(sm >> k & 1)))
        start.append(a)
        step.append(s)
        count.append(n)
    what = f"op {op.index} (STRIDED_SLICE) input"
    lead = [0] * (4 - len(start))
    return SliceGeometry(dims4(lead + start, what), dims4([1] * len(lead) + step, what),
                         dims4(count, what))


def emit_strided_slice(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_strided_slice_s8 / _s16 call with the resolved start and step."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    dtype = single_dtype(graph, op, [inp, out], DTYPES)
    same_quant(op, inp, out)
    g = slice_geometry(graph, op)
    p = f"op{op.index}"
    suffix = "s16" if dtype == "int16" else "s8"
    lo.comment.append(f"start {list(g.start)}, step {list(g.step)}, count {list(g.count)}")
    lo.params.append(("hx_slice_params", f"{p}_params",
                      f"{{{dims(g.start)}, {dims(g.step)}}}"))
    lo.call = (f"hx_strided_slice_{suffix}(&{p}_params, (hx_dims){dims(inp.shape)}, "
               f"{ptr(inp)}, (hx_dims){dims(g.count)}, {ptr(out)});")


def strided_slice_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """STRIDED_SLICE with TFLite's mask and clamping rules."""
    g = slice_geometry(plan.graph, plan.op)
    x4 = ins[0].reshape(dims4(ins[0].shape))
    index = tuple(a + s * np.arange(n) for a, s, n in zip(g.start, g.step, g.count, strict=True))
    return x4[np.ix_(*index)]
