"""BATCH_MATMUL of int8: broadcast batches, optional adjoints (transposed operands),
per-tensor requantization with a float32 scale product, as LiteRT computes it
(hx_batch_matmul_s8 in firmware/kernels/hx_matmul.c; the numpy kernel is bit-exact
with it and LiteRT BUILTIN_REF). Either operand may be constant; the emitter then
copies it to flash."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op, Tensor
from harness.ops.c_emit import CArray, LoweredOp, operand_ptr, ptr, single_dtype
from harness.ops.checks import invalid, operands, output_of
from harness.ops.plan import OpPlan
from harness.ops.spec import INT8
from harness.quant.fixedpoint import requant_double
from harness.quant.multiplier import effective_scale, quantize_multiplier
from harness.quant.ranges import INT_RANGES

DTYPES = INT8
QMIN, QMAX = INT_RANGES["int8"]


def check_batch_matmul(graph: Graph, op: Op) -> None:
    """Operands of rank 2 or more whose inner dimensions agree and whose batch
    dimensions broadcast to the output's."""
    a, b, *_ = operands(graph, op, 2)
    out = output_of(graph, op)
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise invalid(op, f"inputs {a.shape} and {b.shape} are not both at least rank 2")
    n, k = a.shape[-2:][::-1] if op.options.get("adjX") else a.shape[-2:]
    k2, m = b.shape[-2:][::-1] if op.options.get("adjY") else b.shape[-2:]
    if k != k2:
        raise invalid(op, f"inner dimensions of {a.shape} and {b.shape} differ ({k} vs {k2})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise invalid(op, f"batch dimensions of {a.shape} and {b.shape} do not "
                      "broadcast") from None
    if out.shape != (*batch, n, m):
        raise invalid(op, f"output {out.shape} is not {(*batch, n, m)}")


@dataclass
class MatmulGeometry:
    """BATCH_MATMUL: per-batch element offsets (broadcast) and strides (adjoints)."""

    rows: int
    cols: int
    depth: int
    lhs_batch: list[int]
    rhs_batch: list[int]
    lhs_strides: tuple[int, int]  # row, depth
    rhs_strides: tuple[int, int]  # depth, col


def _batch_offsets(shape: tuple[int, ...], batch: list[int], out_batch: list[int]
                   ) -> np.ndarray:
    """The element offset of each output batch index in an operand of ``shape``
    (batch dimensions ``batch``, 0 along the broadcast ones)."""
    off = np.zeros(out_batch, np.int64)
    size = shape[-1] * shape[-2]
    for k in range(len(out_batch)):
        index_shape = [1] * len(out_batch)
        index_shape[k] = out_batch[k]
        idx = np.arange(out_batch[k]).reshape(index_shape)
        off = off + (idx if batch[k] > 1 else 0) * size * int(np.prod(batch[k + 1:]))
    return off


def matmul_geometry(graph: Graph, op: Op) -> MatmulGeometry:
    """Resolve BATCH_MATMUL's adjoints and batch broadcasting."""
    a, b = graph.tensors[op.inputs[0]].shape, graph.tensors[op.inputs[1]].shape
    adj_x, adj_y = bool(op.options.get("adjX")), bool(op.options.get("adjY"))
    rows, depth = (a[-1], a[-2]) if adj_x else (a[-2], a[-1])
    cols = b[-2] if adj_y else b[-1]
    rank = max(len(a), len(b))
    ab = [1] * (rank - len(a)) + list(a[:-2])
    bb = [1] * (rank - len(b)) + list(b[:-2])
    out_batch = [max(x, y) for x, y in zip(ab, bb, strict=True)]
    a_off, b_off = _batch_offsets(a, ab, out_batch), _batch_offsets(b, bb, out_batch)
    lhs_strides = (1, a[-1]) if adj_x else (a[-1], 1)
    rhs_strides = (1, b[-1]) if adj_y else (b[-1], 1)
    return MatmulGeometry(int(rows), int(cols), int(depth),
                          [int(v) for v in a_off.ravel()], [int(v) for v in b_off.ravel()],
                          lhs_strides, rhs_strides)


def batch_matmul_multiplier(lhs: Tensor, rhs: Tensor, out: Tensor) -> tuple[int, int]:
    """lhs_scale * rhs_scale (a float32 product) / out_scale, as LiteRT computes it."""
    return quantize_multiplier(effective_scale(lhs.scale, rhs.scale, out.scale, "float32"))


def emit_batch_matmul(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_batch_matmul_s8 call with the batch offsets in flash."""
    lhs, rhs = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out = graph.tensors[op.outputs[0]]
    single_dtype(graph, op, [lhs, rhs, out], DTYPES)
    if rhs.per_channel or lhs.per_channel:
        raise UnsupportedOp(f"op {op.index} (BATCH_MATMUL) with per-channel quantization")
    g = matmul_geometry(graph, op)
    mult, shift = batch_matmul_multiplier(lhs, rhs, out)
    p = f"op{op.index}"
    a, b = operand_ptr(lo, f"{p}_lhs", lhs), operand_ptr(lo, f"{p}_rhs", rhs)
    lo.comment.append(f"{len(g.lhs_batch)} x ({g.rows} x {g.depth}) . ({g.depth} x {g.cols}), "
                      f"adj_x {bool(op.options.get('adjX'))}, adj_y {bool(op.options.get('adjY'))}")
    lo.arrays.append(CArray("int32_t", f"{p}_lhs_batch", np.asarray(g.lhs_batch, np.int64)))
    lo.arrays.append(CArray("int32_t", f"{p}_rhs_batch", np.asarray(g.rhs_batch, np.int64)))
    lo.params.append(("hx_batch_matmul_params", f"{p}_params",
                      f"{{{len(g.lhs_batch)}, {g.rows}, {g.cols}, {g.depth}, "
                      f"{g.lhs_strides[0]}, {g.lhs_strides[1]}, {g.rhs_strides[0]}, "
                      f"{g.rhs_strides[1]}, {-lhs.zero_point}, {-rhs.zero_point}, "
                      f"{out.zero_point}, {mult}, {shift}, {QMIN}, {QMAX}}}"))
    lo.call = (f"hx_batch_matmul_s8(&{p}_params, {p}_lhs_batch, {a}, {p}_rhs_batch, {b}, "
               f"{ptr(out)});")


def batch_matmul_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """BATCH_MATMUL: broadcast batches, optional adjoints, per-tensor requant."""
    g, op = plan.graph, plan.op
    lhs, rhs, out = (g.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    a = ins[0].astype(np.float64) - lhs.zero_point
    b = ins[1].astype(np.float64) - rhs.zero_point
    if op.options.get("adjX"):
        a = np.swapaxes(a, -1, -2)
    if op.options.get("adjY"):
        b = np.swapaxes(b, -1, -2)
    acc = np.matmul(a, b).astype(np.int64)  # exact: far below 2**53
    mult, shift = batch_matmul_multiplier(lhs, rhs, out)
    scaled = requant_double(acc, mult, shift)
    if trace is not None:
        trace.update(acc=acc, scaled=scaled, multiplier=mult, shift=shift)
    return np.clip(scaled + out.zero_point, QMIN, QMAX).astype(np.int8)
