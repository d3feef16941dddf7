"""MEAN of int8: an int32 sum, minus count * input zero point, one requantization whose
multiplier holds 1/count (LiteRT's QuantizedMeanOrSum; hx_mean_s8 in
firmware/kernels/hx_shape.c). Runs of kept or reduced dimensions are merged so any
rank fits the kernel's 4-D."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.c_emit import LoweredOp, dims, ptr, single_dtype
from harness.ops.checks import const_ints, invalid, operands, output_of
from harness.ops.plan import OpPlan
from harness.ops.shape.common import Dims4, const_operand, dims4
from harness.ops.spec import INT8
from harness.quant.fixedpoint import requant_double
from harness.quant.multiplier import quantize_multiplier
from harness.quant.ranges import INT_RANGES

DTYPES = INT8


def check_mean(graph: Graph, op: Op) -> None:
    """Constant axes lie in the input's rank; the output holds the kept dimensions."""
    inp, axis_t, *_ = operands(graph, op, 2)
    out = output_of(graph, op)
    axes = const_ints(op, axis_t, "axis")
    if axes is None:
        return
    rank = len(inp.shape)
    if any(not -rank <= a < rank for a in axes):
        raise invalid(op, f"axis {axes.tolist()} is outside its rank-{rank} input")
    kept = [d for k, d in enumerate(inp.shape) if k not in {int(a) % rank for a in axes}]
    if out.size != int(np.prod(kept, dtype=np.int64)):
        raise invalid(op, f"output {out.shape} does not hold the mean of {inp.shape} over "
                      f"axis {axes.tolist()}")


@dataclass
class MeanGeometry:
    """MEAN as kept x reduced dimensions (adjacent dimensions merged) and its requant."""

    input_dims: Dims4
    kept: Dims4
    reduced: Dims4
    count: int
    multiplier: int
    shift: int


def mean_multiplier(in_scale: float, out_scale: float, count: int) -> tuple[int, int]:
    """The in/out scale multiplier with 1/count folded in, as LiteRT's reference does."""
    mult, shift = quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return (mult << k) // count, shift - k


def mean_geometry(graph: Graph, op: Op) -> MeanGeometry:
    """Resolve MEAN's axes; merge runs of kept / reduced dimensions to fit 4-D."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    rank = len(inp.shape)
    axes: set[int] = set()  # a scalar input has none to read
    if rank:
        axes = {int(a) % rank for a in const_operand(graph, op, 1, "axis").ravel()}
    groups: list[list[int]] = []  # [size, reduced]
    for k, dim in enumerate(inp.shape):
        red = int(k in axes)
        if groups and groups[-1][1] == red:
            groups[-1][0] *= dim
        else:
            groups.append([dim, red])
    what = f"op {op.index} (MEAN) input"
    shape = dims4([g[0] for g in groups], what)
    kept = dims4([1 if g[1] else g[0] for g in groups], what)
    reduced = dims4([g[0] if g[1] else 1 for g in groups], what)
    count = int(np.prod(reduced))
    mult, shift = mean_multiplier(inp.scale, out.scale, count)
    return MeanGeometry(shape, kept, reduced, count, mult, shift)


def emit_mean(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_mean_s8 call with the merged dimensions and the requantization."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    single_dtype(graph, op, [inp, out], DTYPES)
    g = mean_geometry(graph, op)
    p = f"op{op.index}"
    lo.comment.append(f"kept {list(g.kept)} x reduced {list(g.reduced)} ({g.count} per mean)")
    lo.params.append(("hx_mean_params", f"{p}_params",
                      f"{{{dims(g.kept)}, {dims(g.reduced)}, {inp.zero_point}, {g.count}, "
                      f"{g.multiplier}, {g.shift}, {out.zero_point}}}"))
    lo.call = (f"hx_mean_s8(&{p}_params, (hx_dims){dims(g.input_dims)}, {ptr(inp)}, "
               f"{ptr(out)});")


def mean_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """MEAN: int32 sum, minus count * input zero point, one requantization
    whose multiplier holds 1/count (LiteRT's QuantizedMeanOrSum)."""
    g = mean_geometry(plan.graph, plan.op)
    inp, out = plan.tensor(plan.op.inputs[0]), plan.tensor(plan.op.outputs[0])
    x = ins[0].astype(np.int64).reshape(g.input_dims)
    axes = tuple(k for k in range(4) if g.reduced[k] > 1)
    total = x.sum(axis=axes, keepdims=True) - inp.zero_point * g.count
    scaled = requant_double(total, g.multiplier, g.shift)
    if trace is not None:
        trace.update(sum=total, count=g.count, multiplier=g.multiplier, shift=g.shift,
                     scaled=scaled)
    return np.clip(scaled + out.zero_point, *INT_RANGES["int8"]).astype(np.int8)
