"""Consistency checks of the shape and data-movement ops (see model_check.py):
CONCATENATION, PAD/PADV2, MEAN, TRANSPOSE, BATCH_MATMUL, TRANSPOSE_CONV and
STRIDED_SLICE relate their operand and output shapes as every valid model must."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.model.graph import Graph, Op, Tensor
from harness.ops.checks import FUSED, PADDINGS
from harness.ops.checks import check_bias as _bias
from harness.ops.checks import enum_option as _enum
from harness.ops.checks import invalid as _bad
from harness.ops.checks import need_four_d as _four_d
from harness.ops.checks import need_positive as _positive
from harness.ops.checks import need_quantized_weights as _weights_quantized
from harness.ops.checks import operands as _operands
from harness.ops.checks import output_of as _out


def _concatenation(graph: Graph, op: Op) -> None:
    ins = [t for t in _operands(graph, op, 1) if t is not None]
    out = _out(graph, op)
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    if not -rank <= axis < rank:
        raise _bad(op, f"axis {axis} is outside its rank-{rank} output")
    axis %= rank
    total = 0
    for t in ins:
        if len(t.shape) != rank or any(t.shape[d] != out.shape[d] for d in range(rank)
                                       if d != axis):
            raise _bad(op, f"input {t.shape} does not fit output {out.shape} along axis {axis}")
        total += t.shape[axis]
    if total != out.shape[axis]:
        raise _bad(op, f"inputs add up to {total} along axis {axis}, the output has "
                   f"{out.shape[axis]}")


def _pad(graph: Graph, op: Op) -> None:
    inp, pads, *_ = _operands(graph, op, 2)
    out = _out(graph, op)
    rank = len(inp.shape)
    if pads.data is None:
        return  # computed paddings: the runtimes say whether they take them
    if pads.data.size != 2 * rank or pads.data.dtype.kind not in "iu":
        raise _bad(op, f"paddings (tensor {pads.index}) {pads.shape} {pads.dtype} are not "
                   f"{rank} integer (before, after) pairs")
    p = pads.data.reshape(rank, 2).astype(np.int64)
    if np.any(p < 0):
        raise _bad(op, f"paddings {p.tolist()} hold a negative value")
    want = tuple(int(d + a + b) for d, (a, b) in zip(inp.shape, p, strict=True))
    if out.shape != want:
        raise _bad(op, f"output {out.shape} is not the padded shape {want}")


def _const_ints(op: Op, t: Tensor, what: str) -> np.ndarray | None:
    if t.data is None:
        return None
    if t.data.dtype.kind not in "iu":
        raise _bad(op, f"{what} (tensor {t.index}) is {t.dtype}, not integers")
    return t.data.astype(np.int64).ravel()


def _mean(graph: Graph, op: Op) -> None:
    inp, axis_t, *_ = _operands(graph, op, 2)
    out = _out(graph, op)
    axes = _const_ints(op, axis_t, "axis")
    if axes is None:
        return
    rank = len(inp.shape)
    if any(not -rank <= a < rank for a in axes):
        raise _bad(op, f"axis {axes.tolist()} is outside its rank-{rank} input")
    kept = [d for k, d in enumerate(inp.shape) if k not in {int(a) % rank for a in axes}]
    if out.size != int(np.prod(kept, dtype=np.int64)):
        raise _bad(op, f"output {out.shape} does not hold the mean of {inp.shape} over "
                   f"axis {axes.tolist()}")


def _transpose(graph: Graph, op: Op) -> None:
    inp, perm_t, *_ = _operands(graph, op, 2)
    out = _out(graph, op)
    perm = _const_ints(op, perm_t, "permutation")
    if perm is None:
        return
    if sorted(perm.tolist()) != list(range(len(inp.shape))):
        raise _bad(op, f"permutation {perm.tolist()} does not permute a rank-{len(inp.shape)} "
                   "input")
    if out.shape != tuple(inp.shape[k] for k in perm):
        raise _bad(op, f"output {out.shape} is not input {inp.shape} permuted by "
                   f"{perm.tolist()}")


def _batch_matmul(graph: Graph, op: Op) -> None:
    a, b, *_ = _operands(graph, op, 2)
    out = _out(graph, op)
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise _bad(op, f"inputs {a.shape} and {b.shape} are not both at least rank 2")
    n, k = a.shape[-2:][::-1] if op.options.get("adjX") else a.shape[-2:]
    k2, m = b.shape[-2:][::-1] if op.options.get("adjY") else b.shape[-2:]
    if k != k2:
        raise _bad(op, f"inner dimensions of {a.shape} and {b.shape} differ ({k} vs {k2})")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise _bad(op, f"batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
    if out.shape != (*batch, n, m):
        raise _bad(op, f"output {out.shape} is not {(*batch, n, m)}")


def _transpose_conv(graph: Graph, op: Op) -> None:
    shape_t, filt, inp, *_ = _operands(graph, op, 3)
    out = _out(graph, op)
    _four_d(op, inp, filt, out)
    o = op.options
    _positive(op, strideH=int(o.get("strideH", 1)), strideW=int(o.get("strideW", 1)),
              filter_height=filt.shape[1], filter_width=filt.shape[2])
    _enum(op, "padding", PADDINGS)
    _enum(op, "fusedActivationFunction", FUSED)
    _weights_quantized(op, inp, filt)
    if shape_t.size != 4 or np.dtype(shape_t.dtype).kind not in "iu":
        raise _bad(op, f"output shape operand (tensor {shape_t.index}) is {shape_t.dtype} "
                   f"{shape_t.shape}, not 4 integers")
    want = _const_ints(op, shape_t, "output shape")
    if want is not None and tuple(want.tolist()) != out.shape:
        raise _bad(op, f"output shape operand {want.tolist()} differs from output {out.shape}")
    if filt.shape[3] != inp.shape[3] or filt.shape[0] != out.shape[3]:
        raise _bad(op, f"filter {filt.shape} does not fit input {inp.shape} and output "
                   f"{out.shape}")
    if len(op.inputs) > 3 and op.inputs[3] >= 0:
        _bias(op, graph.tensors[op.inputs[3]], out.shape[3], inp)


def _strided_slice(graph: Graph, op: Op) -> None:
    inp, *params = _operands(graph, op, 4)
    rank = len(inp.shape)
    for t, what in zip(params[:3], ("begin", "end", "strides"), strict=True):
        values = _const_ints(op, t, what)
        if values is not None and values.size != rank:
            raise _bad(op, f"{what} {values.tolist()} has {values.size} values for a "
                       f"rank-{rank} input")
        if what == "strides" and values is not None and np.any(values == 0):
            raise _bad(op, f"strides {values.tolist()} hold a 0")


SHAPE_CHECKS: dict[str, Callable[[Graph, Op], None]] = {
    "CONCATENATION": _concatenation,
    "PAD": _pad,
    "PADV2": _pad,
    "MEAN": _mean,
    "TRANSPOSE": _transpose,
    "BATCH_MATMUL": _batch_matmul,
    "TRANSPOSE_CONV": _transpose_conv,
    "STRIDED_SLICE": _strided_slice,
}
