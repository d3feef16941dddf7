"""NumPy implementations of the shape and data-movement ops, and the host-side
geometry both they and the lowering (:mod:`harness.lower_shape`) use.

The geometry functions turn an op's options and constant inputs into the
plain per-dimension numbers the C kernels take (4-D, leading dimensions 1),
so the firmware never resolves masks or negative indices. The NumPy kernels
compute the same integers as ``firmware/kernels/hx_shape.c`` and
``hx_matmul.c`` (and LiteRT BUILTIN_REF). Pure data movement is
dtype-agnostic (int8 and int16 alike); TRANSPOSE_CONV has a 16x8 path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op, Tensor
from harness.quant.fixedpoint import requant_double
from harness.quant.geometry import conv_output_and_padding
from harness.quant.multiplier import conv_requant, effective_scale, quantize_multiplier
from harness.quant.ranges import activation_range

if TYPE_CHECKING:
    from harness.ops.plan import OpPlan

Dims4 = tuple[int, int, int, int]


def dims4(shape: tuple[int, ...] | list[int], what: str = "tensor") -> Dims4:
    """``shape`` with leading 1s up to rank 4; refuses rank 5 and above."""
    s = [int(d) for d in shape]
    if len(s) > 4:
        raise UnsupportedOp(f"{what} has rank {len(s)}; the builtin shape kernels take up to 4")
    s = [1] * (4 - len(s)) + s
    return s[0], s[1], s[2], s[3]


def _const(graph: Graph, op: Op, k: int, what: str) -> np.ndarray:
    t = graph.tensors[op.inputs[k]]
    if t.data is None:
        raise UnsupportedOp(f"op {op.index} ({op.name}): the {what} must be constant")
    return t.data.astype(np.int64)


def _io(graph: Graph, op: Op) -> tuple[Tensor, Tensor]:
    return graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]


# ---- geometry ------------------------------------------------------------------


def concat_geometry(graph: Graph, op: Op) -> tuple[int, list[int]]:
    """``(outer, inner sizes)``: the output is ``outer`` rows of the inputs' rows."""
    out = graph.tensors[op.outputs[0]]
    axis = int(op.options.get("axis", 0))
    axis += len(out.shape) if axis < 0 else 0
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = [int(np.prod(graph.tensors[i].shape[axis:], dtype=np.int64)) for i in op.inputs]
    return outer, inner


def pad_geometry(graph: Graph, op: Op) -> tuple[Dims4, Dims4, Dims4, int]:
    """``(input dims, padding before, output dims, pad value)`` of PAD / PADV2."""
    inp, out = _io(graph, op)
    pads = _const(graph, op, 1, "paddings").reshape(-1, 2)
    in_dims = dims4(inp.shape, f"op {op.index} ({op.name}) input")
    b = [0] * (4 - len(pads)) + [int(v) for v in pads[:, 0]]
    value = out.zero_point
    if op.name == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        value = int(_const(graph, op, 2, "constant value").ravel()[0])
    return in_dims, (b[0], b[1], b[2], b[3]), dims4(out.shape), value


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


def slice_geometry(graph: Graph, op: Op) -> SliceGeometry:
    """Resolve a STRIDED_SLICE's begin / end / strides and masks."""
    inp = graph.tensors[op.inputs[0]]
    o = op.options
    if int(o.get("ellipsisMask", 0) or 0) or int(o.get("newAxisMask", 0) or 0):
        raise UnsupportedOp(f"op {op.index} (STRIDED_SLICE) uses an ellipsis or new-axis mask")
    if o.get("offset"):
        raise UnsupportedOp(f"op {op.index} (STRIDED_SLICE) uses offset=True")
    begin, end = _const(graph, op, 1, "begin"), _const(graph, op, 2, "end")
    strides = _const(graph, op, 3, "strides")
    bm, em = int(o.get("beginMask", 0) or 0), int(o.get("endMask", 0) or 0)
    sm = int(o.get("shrinkAxisMask", 0) or 0)
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


def transpose_geometry(graph: Graph, op: Op) -> tuple[Dims4, Dims4]:
    """``(permutation, input dims)`` extended to 4-D."""
    inp = graph.tensors[op.inputs[0]]
    perm = [int(p) for p in _const(graph, op, 1, "permutation").ravel()]
    lead = 4 - len(perm)
    full = list(range(lead)) + [p + lead for p in perm]
    return dims4(full, f"op {op.index} (TRANSPOSE) input"), dims4(inp.shape)


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
    mult, shift = quantize_multiplier(float(np.float32(in_scale))
                                            / float(np.float32(out_scale)))
    k = min(count.bit_length() - 1, 32, 31 + shift)
    return (mult << k) // count, shift - k


def mean_geometry(graph: Graph, op: Op) -> MeanGeometry:
    """Resolve MEAN's axes; merge runs of kept / reduced dimensions to fit 4-D."""
    inp, out = _io(graph, op)
    rank = len(inp.shape)
    axes = {int(a) % rank for a in _const(graph, op, 1, "axis").ravel()} if rank else set()
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


def transpose_conv_padding(op: Op, out_shape: tuple[int, ...],
                           filt_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(stride_h, stride_w, pad_h, pad_w)``: the padding of the forward
    convolution from the output back to the input."""
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    pad = int(o.get("padding", 0))
    _, pad_h = conv_output_and_padding(out_shape[1], filt_shape[1], sh, 1, pad)
    _, pad_w = conv_output_and_padding(out_shape[2], filt_shape[2], sw, 1, pad)
    return sh, sw, pad_h, pad_w


def act_range(op: Op, out: Tensor) -> tuple[int, int]:
    """Fused activation clamp in the output's integer range (int8 or int16)."""
    info = np.iinfo(np.dtype(out.dtype))
    code = int(op.options.get("fusedActivationFunction", 0) or 0)
    return activation_range(code, out.scale, out.zero_point, int(info.min), int(info.max))


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
    a_off = np.zeros(out_batch, np.int64)
    b_off = np.zeros(out_batch, np.int64)
    a_size, b_size = a[-1] * a[-2], b[-1] * b[-2]
    for k in range(len(out_batch)):  # element offset of each batch index, 0 if broadcast
        shape = [1] * len(out_batch)
        shape[k] = out_batch[k]
        idx = np.arange(out_batch[k]).reshape(shape)
        a_off = a_off + (idx if ab[k] > 1 else 0) * a_size * int(np.prod(ab[k + 1:]))
        b_off = b_off + (idx if bb[k] > 1 else 0) * b_size * int(np.prod(bb[k + 1:]))
    lhs_strides = (1, a[-1]) if adj_x else (a[-1], 1)
    rhs_strides = (1, b[-1]) if adj_y else (b[-1], 1)
    return MatmulGeometry(int(rows), int(cols), int(depth),
                          [int(v) for v in a_off.ravel()], [int(v) for v in b_off.ravel()],
                          lhs_strides, rhs_strides)


# ---- NumPy kernels -------------------------------------------------------------


def concatenation(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """CONCATENATION of inputs that share the output's quantization (no rescale)."""
    axis = int(plan.op.options.get("axis", 0))
    return np.concatenate([np.asarray(x) for x in ins], axis=axis)


def pad(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """PAD / PADV2: the output zero point (or PADV2's constant) around the input."""
    x = ins[0]
    _, before, out_dims, value = pad_geometry(plan.graph, plan.op)
    x4 = x.reshape(dims4(x.shape))
    widths = [(b, o - b - n) for b, o, n in zip(before, out_dims, x4.shape, strict=True)]
    if trace is not None:
        trace.update(pad_value=value, widths=widths)
    return np.pad(x4, widths, constant_values=value)


def strided_slice(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """STRIDED_SLICE with TFLite's mask and clamping rules."""
    g = slice_geometry(plan.graph, plan.op)
    x4 = ins[0].reshape(dims4(ins[0].shape))
    index = tuple(a + s * np.arange(n) for a, s, n in zip(g.start, g.step, g.count, strict=True))
    return x4[np.ix_(*index)]


def transpose(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """TRANSPOSE by the constant permutation."""
    perm = [int(p) for p in plan.tensor(plan.op.inputs[1]).data.ravel()]
    return np.transpose(ins[0], perm)


def same_bytes(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """SQUEEZE / EXPAND_DIMS: the same bytes in the output's shape."""
    return ins[0]


def mean(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
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
    return np.clip(scaled + out.zero_point, -128, 127).astype(np.int8)


def requant_s64(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """TFLite's 16x8 requantization of int64 accumulators: the multiplier
    rounded to 16 bits, then one rounding shift (ties toward +infinity)."""
    m = np.asarray(multiplier, np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - np.asarray(shift, np.int64)
    return (acc * reduced + (np.int64(1) << (total - 1))) >> total


def transpose_conv(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """TRANSPOSE_CONV: each input pixel scatters ``input x filter`` into the
    output window it feeds; int8 (int32 sums, double rounding) or 16x8
    (int64 sums, :func:`requant_s64`)."""
    g, op = plan.graph, plan.op
    w, x = ins[1], ins[2]
    bias = ins[3] if len(ins) > 3 else None
    inp, out = g.tensors[op.inputs[2]], g.tensors[op.outputs[0]]
    filt = g.tensors[op.inputs[1]]
    sh, sw, pad_h, pad_w = transpose_conv_padding(op, out.shape, filt.shape)
    n, ih, iw, _ = x.shape
    oc, kh, kw, _ = w.shape
    oh, ow = out.shape[1], out.shape[2]
    full_h = max((ih - 1) * sh + kh, pad_h + oh)
    full_w = max((iw - 1) * sw + kw, pad_w + ow)
    acc = np.zeros((n, full_h, full_w, oc), np.int64)
    xc = x.astype(np.int64) - inp.zero_point
    for ky in range(kh):
        for kx in range(kw):
            contrib = np.einsum("nhwc,oc->nhwo", xc, w[:, ky, kx, :].astype(np.int64))
            acc[:, ky:ky + (ih - 1) * sh + 1:sh, kx:kx + (iw - 1) * sw + 1:sw] += contrib
    acc = acc[:, pad_h:pad_h + oh, pad_w:pad_w + ow]
    if bias is not None:
        acc = acc + bias.astype(np.int64).reshape(-1)
    mults, shifts = conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    lo, hi = act_range(op, out)
    if out.dtype == "int16":
        scaled = requant_s64(acc, np.array(mults), np.array(shifts))
    else:
        scaled = requant_double(acc, np.array(mults), np.array(shifts)) + out.zero_point
    if trace is not None:
        trace.update(acc=acc, scaled=scaled, multiplier=mults, shift=shifts, act_range=(lo, hi))
    return np.clip(scaled, lo, hi).astype(np.dtype(out.dtype))


def batch_matmul_multiplier(lhs: Tensor, rhs: Tensor, out: Tensor) -> tuple[int, int]:
    """lhs_scale * rhs_scale (a float32 product) / out_scale, as LiteRT computes it."""
    return quantize_multiplier(effective_scale(lhs.scale, rhs.scale, out.scale,
                                                           "float32"))


def batch_matmul(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
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
    return np.clip(scaled + out.zero_point, -128, 127).astype(np.int8)


KERNELS: dict[str, Callable[..., np.ndarray]] = {
    "CONCATENATION": concatenation,
    "PAD": pad,
    "PADV2": pad,
    "MEAN": mean,
    "STRIDED_SLICE": strided_slice,
    "SQUEEZE": same_bytes,
    "EXPAND_DIMS": same_bytes,
    "TRANSPOSE": transpose,
    "TRANSPOSE_CONV": transpose_conv,
    "BATCH_MATMUL": batch_matmul,
}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this.
_INT8 = frozenset({"int8"})
_INT8_16 = frozenset({"int8", "int16"})
DTYPES: dict[str, frozenset[str]] = {
    "CONCATENATION": _INT8, "PAD": _INT8_16, "PADV2": _INT8_16, "MEAN": _INT8,
    "STRIDED_SLICE": _INT8_16, "SQUEEZE": _INT8, "EXPAND_DIMS": _INT8, "TRANSPOSE": _INT8,
    "TRANSPOSE_CONV": _INT8_16, "BATCH_MATMUL": _INT8,
}
