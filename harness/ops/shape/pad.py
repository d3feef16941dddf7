"""PAD / PADV2: the input inside a border of the output zero point (PAD) or of PADV2's
constant, int8 and int16 (hx_pad_s8 / hx_pad_s16 in firmware/kernels/hx_shape.c,
bit-exact with LiteRT BUILTIN_REF)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.c_emit import LoweredOp, dims, ptr, single_dtype
from harness.ops.checks import invalid, operands, output_of
from harness.ops.plan import OpPlan
from harness.ops.shape.common import INT8_16, Dims4, const_operand, dims4, same_quant

DTYPES = INT8_16


def check_pad(graph: Graph, op: Op) -> None:
    """Constant paddings are one non-negative (before, after) pair per input axis and
    give the output's shape."""
    inp, pads, *_ = operands(graph, op, 2)
    out = output_of(graph, op)
    rank = len(inp.shape)
    if pads.data is None:
        return  # computed paddings: the runtimes say whether they take them
    if pads.data.size != 2 * rank or pads.data.dtype.kind not in "iu":
        raise invalid(op, f"paddings (tensor {pads.index}) {pads.shape} {pads.dtype} are not "
                      f"{rank} integer (before, after) pairs")
    p = pads.data.reshape(rank, 2).astype(np.int64)
    if np.any(p < 0):
        raise invalid(op, f"paddings {p.tolist()} hold a negative value")
    want = tuple(int(d + a + b) for d, (a, b) in zip(inp.shape, p, strict=True))
    if out.shape != want:
        raise invalid(op, f"output {out.shape} is not the padded shape {want}")


def pad_geometry(graph: Graph, op: Op) -> tuple[Dims4, Dims4, Dims4, int]:
    """``(input dims, padding before, output dims, pad value)`` of PAD / PADV2."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pads = const_operand(graph, op, 1, "paddings").reshape(-1, 2)
    in_dims = dims4(inp.shape, f"op {op.index} ({op.name}) input")
    b = [0] * (4 - len(pads)) + [int(v) for v in pads[:, 0]]
    value = out.zero_point
    if op.name == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = int(const_operand(graph, op, 2, "constant value").ravel()[0])
    return in_dims, (b[0], b[1], b[2], b[3]), dims4(out.shape), value


def emit_pad(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_pad_s8 / hx_pad_s16 call."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    dtype = single_dtype(graph, op, [inp, out], DTYPES)
    same_quant(op, inp, out)
    in_dims, before, out_dims, value = pad_geometry(graph, op)
    suffix = "s16" if dtype == "int16" else "s8"
    lo.comment.append(f"before {list(before)}, pad value {value}")
    lo.call = (f"hx_pad_{suffix}((hx_dims){dims(in_dims)}, {ptr(inp)}, "
               f"(hx_dims){dims(before)}, (hx_dims){dims(out_dims)}, {value}, {ptr(out)});")


def pad_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """PAD / PADV2: the output zero point (or PADV2's constant) around the input."""
    x = ins[0]
    _, before, out_dims, value = pad_geometry(plan.graph, plan.op)
    x4 = x.reshape(dims4(x.shape))
    widths = [(b, o - b - n) for b, o, n in zip(before, out_dims, x4.shape, strict=True)]
    if trace is not None:
        trace.update(pad_value=value, widths=widths)
    return np.pad(x4, widths, constant_values=value)
