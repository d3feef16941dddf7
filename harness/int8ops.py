"""Vectorised NumPy int8 implementations of the builtin runtime's ops.

The same integer arithmetic as ``firmware/kernels`` and LiteRT's reference
kernels (BUILTIN_REF), written for reading: every stage is a NumPy expression
over whole tensors, and ``trace`` dicts expose the intermediates (the int32
accumulators, the requantized values, the softmax fixed-point stages...).

Accumulation is exact: int8 differences and weights are multiplied in
float64 (every partial sum stays far below 2**53), then converted to int64
and wrapped to int32 like the C accumulators.

``requant`` selects the requantization arithmetic, to test drift hypotheses:

* ``"reference"`` - exactly LiteRT BUILTIN_REF: CONV_2D and DEPTHWISE_CONV_2D
  round twice (double rounding), FULLY_CONNECTED (per-tensor and per-channel)
  rounds once (single rounding).
* ``"double"`` - TFLite's double rounding everywhere.
* ``"single"`` - one 64-bit product and one rounding shift everywhere (the C
  kernels built with ``-DHX_REQUANT_SINGLE_ROUNDING``).
* ``"float"`` - XNNPACK-style fp32: ``acc * float32(in_scale * w_scale / out_scale)``
  (float32 arithmetic), rounded half to even, and SOFTMAX as the float /
  lookup-table softmax of :func:`harness.int8_softmax.softmax_float`. On x86
  this is bit-exact with LiteRT's default resolver (XNNPACK for the
  convolutions and FULLY_CONNECTED, the optimized lookup-table SOFTMAX).

Pooling and RESHAPE are the same in every mode; SOFTMAX is the reference
fixed-point one except in ``"float"`` mode.

int16 activations (the 16x8 scheme: zero point 0, int8 weights, int64 bias)
run through the same convolution / FULLY_CONNECTED code with 64-bit
accumulators and LiteRT's 64-bit requantization (``"int64"`` rounding, see
:mod:`harness.int16ops`) in every mode but ``"float"``; SOFTMAX uses the int16
lookup-table softmax. ``DTYPES`` says which activation types each op handles;
:func:`unsupported` refuses the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from harness import int8ops_elementwise, int8ops_recurrent, int8ops_shape, quant
from harness.dtypes import INT_RANGES, activation_dtypes
from harness.int8_fixedpoint import requant_double, requant_float, requant_single, wrap32
from harness.int8_softmax import softmax_op
from harness.int8_windows import Windows, window_options
from harness.int8ops_float import fully_connected_f32
from harness.int16ops import requant_int64, requant_single_wide
from harness.model import Graph, Op, Tensor

REQUANT_MODES = ("reference", "double", "single", "float")

Arrays = Sequence[np.ndarray | None]


# ---- requantization ----------------------------------------------------------


@dataclass
class Requant:
    """How one op turns int32 accumulators into output integers (before the zero point).

    ``multiplier``/``shift``/``scale`` hold one entry per output channel (or one
    for per-tensor weights) and broadcast along the last axis.
    """

    rounding: str  # "double", "single", "float"; 16x8: "int64" (convs) or "single64" (FC)
    multiplier: np.ndarray
    shift: np.ndarray
    scale: np.ndarray  # float32 effective scale, for "float"

    def apply(self, acc: np.ndarray) -> np.ndarray:
        if self.rounding == "double":
            return requant_double(acc, self.multiplier, self.shift)
        if self.rounding == "single":
            return requant_single(acc, self.multiplier, self.shift)
        if self.rounding == "int64":
            return requant_int64(acc, self.multiplier, self.shift)
        if self.rounding == "single64":
            return requant_single_wide(acc, self.multiplier, self.shift)
        return requant_float(acc, self.scale)


def make_requant(op_name: str, inp: Tensor, weights: Tensor, out: Tensor,
                 requant: str = "reference") -> Requant:
    """The :class:`Requant` of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED."""
    if requant not in REQUANT_MODES:
        raise ValueError(f"requant must be one of {REQUANT_MODES}, not {requant!r}")
    w_scales = [float(s) for s in weights.scales]
    calc = quant.fc_requant if op_name == "FULLY_CONNECTED" else quant.conv_requant
    mults, shifts = calc(inp.scale, w_scales, out.scale)
    rounding = requant
    if requant == "reference":  # LiteRT: FULLY_CONNECTED rounds once, convolutions twice
        rounding = "single" if op_name == "FULLY_CONNECTED" else "double"
    if inp.dtype == "int16" and requant != "float":  # 16x8: 64-bit accumulators
        rounding = "single64" if op_name == "FULLY_CONNECTED" else "int64"
    f32 = np.float32
    scale = np.array([f32(f32(inp.scale) * f32(s)) / f32(out.scale) for s in w_scales], f32)
    return Requant(rounding, np.array(mults, np.int64), np.array(shifts, np.int64), scale)


# ---- ops ---------------------------------------------------------------------


@dataclass
class OpPlan:
    """One op with its data-independent parameters worked out once."""

    graph: Graph
    op: Op
    requant: str = "reference"
    rq: Requant | None = None
    act: tuple[int, int] = (-128, 127)
    cache: dict = field(default_factory=dict)  # window indices by input shape

    def __post_init__(self) -> None:
        if self.requant not in REQUANT_MODES:
            raise ValueError(f"requant must be one of {REQUANT_MODES}, not {self.requant!r}")
        if self.op.name not in KERNELS:
            raise NotImplementedError(f"no int8 implementation of {self.op.name}")
        out = self.tensor(self.op.outputs[0])
        code = int(self.op.options.get("fusedActivationFunction", quant.ACT_NONE) or 0)
        if out.dtype in INT_RANGES and code <= quant.ACT_RELU6:  # LSTM's TANH (4): no clamp
            self.act = quant.activation_range(code, out.scale, out.zero_point,
                                              *INT_RANGES[out.dtype])
        if self.op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") \
                and out.dtype != "float32":
            self.rq = make_requant(self.op.name, self.tensor(self.op.inputs[0]),
                                   self.tensor(self.op.inputs[1]), out, self.requant)

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def inputs(self, given: Arrays) -> list[np.ndarray | None]:
        """The op's input arrays: ``given`` where not None, else constant data."""
        arrays: list[np.ndarray | None] = []
        for k, index in enumerate(self.op.inputs):
            arr = given[k] if k < len(given) else None
            if arr is None and index >= 0 and not self.tensor(index).is_variable:
                arr = self.tensor(index).data  # variable tensors: state the kernel keeps
                if arr is None:
                    raise ValueError(f"op {self.op.index} ({self.op.name}): input {k} "
                                     f"(tensor {index}) is neither given nor constant")
            arrays.append(None if arr is None else np.asarray(arr))
        return arrays

    def run(self, given: Arrays, trace: dict | None = None) -> np.ndarray:
        out = KERNELS[self.op.name](self, self.inputs(given), trace)
        shape = self.tensor(self.op.outputs[0]).shape
        if out.size != int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"op {self.op.index} ({self.op.name}) computed {out.shape}, "
                             f"the model says {shape}")
        return out.reshape(shape)


def finish(plan: OpPlan, acc: np.ndarray, bias: np.ndarray | None,
           trace: dict | None) -> np.ndarray:
    """Bias, int32 wrap, requantization, output zero point, activation clamp."""
    assert plan.rq is not None
    out_t = plan.tensor(plan.op.outputs[0])
    if bias is not None:
        acc = acc + bias.astype(np.int64).reshape(-1)
    if out_t.dtype == "int8":
        acc = wrap32(acc)  # int8 kernels accumulate in int32, 16x8 ones in int64
    scaled = plan.rq.apply(acc)
    zp = out_t.zero_point
    out = np.clip(scaled + zp, *plan.act).astype(out_t.dtype)
    if trace is not None:
        trace.update(acc=acc, scaled=scaled, rounding=plan.rq.rounding,
                     multiplier=plan.rq.multiplier, shift=plan.rq.shift,
                     float_scale=plan.rq.scale, output_zero_point=zp, act_range=plan.act)
    return out


def _windows(plan: OpPlan, x: np.ndarray, k_hw: tuple[int, int], conv: bool) -> Windows:
    key = (x.shape, k_hw)
    if key not in plan.cache:
        stride, dilation, padding = window_options(plan.op)
        plan.cache[key] = Windows.of(x.shape[1:3], k_hw, stride, dilation if conv else (1, 1),
                                     padding)
    return plan.cache[key]


def conv2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """CONV_2D, NHWC input, OHWI filter. Padding holds the input zero point,
    which contributes nothing once the zero point is subtracted."""
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    zp = plan.tensor(plan.op.inputs[0]).zero_point
    oc, kh, kw, c = w.shape
    patches = _windows(plan, x, (kh, kw), conv=True).patches(x, zp)  # [N, OH, OW, C, KH, KW]
    n, oh, ow = patches.shape[:3]
    cols = patches.reshape(n * oh * ow, c * kh * kw).astype(np.float64) - zp
    acc = cols @ w.transpose(0, 3, 1, 2).reshape(oc, -1).astype(np.float64).T
    return finish(plan, acc.astype(np.int64).reshape(n, oh, ow, oc), bias, trace)


def depthwise_conv2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """DEPTHWISE_CONV_2D: output channel ``c * multiplier + m`` filters input channel ``c``."""
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    zp = plan.tensor(plan.op.inputs[0]).zero_point
    _, kh, kw, oc = w.shape
    c = x.shape[3]
    mult = oc // c
    patches = _windows(plan, x, (kh, kw), conv=True).patches(x, zp)  # [N, OH, OW, C, KH, KW]
    n, oh, ow = patches.shape[:3]
    # One batched matmul over the channels: [C, P, K] @ [C, K, M] (P windows, K taps).
    cols = patches.transpose(3, 0, 1, 2, 4, 5).reshape(c, n * oh * ow, kh * kw)
    wf = w.reshape(kh * kw, c, mult).transpose(1, 0, 2).astype(np.float64)
    acc = (cols.astype(np.float64) - zp) @ wf  # [C, P, M], exact: sums stay below 2**53
    acc = acc.transpose(1, 0, 2).reshape(n, oh, ow, oc)
    return finish(plan, acc.astype(np.int64), bias, trace)


def fully_connected(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """FULLY_CONNECTED: rows of ``depth`` inputs times weights [units, depth]."""
    if plan.tensor(plan.op.outputs[0]).dtype == "float32":
        return fully_connected_f32(plan, ins, trace)
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    in_zp = plan.tensor(plan.op.inputs[0]).zero_point
    w_zp = plan.tensor(plan.op.inputs[1]).zero_point
    units, depth = w.shape
    rows = x.reshape(-1, depth).astype(np.float64) - in_zp
    acc = rows @ (w.astype(np.float64) - w_zp).T
    return finish(plan, acc.astype(np.int64), bias, trace)


def _pool(plan: OpPlan, x: np.ndarray, fill: int) -> tuple[np.ndarray, Windows]:
    """[N, OH, OW, C, KH * KW] windows (``fill`` outside the input) and their geometry."""
    o = plan.op.options
    k = (int(o.get("filterHeight", 1)), int(o.get("filterWidth", 1)))
    win = _windows(plan, x, k, conv=False)
    patches = win.patches(x, fill)
    return patches.reshape(*patches.shape[:4], -1), win


def average_pool2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """AVERAGE_POOL_2D over the in-bounds part of each window: the sum divided by
    the count, rounded half away from zero (in every requant mode: LiteRT's
    optimized and XNNPACK int8 paths give the same bits)."""
    patches, win = _pool(plan, ins[0], 0)  # zeros outside add nothing to the sum
    total = patches.sum(axis=-1, dtype=np.int64)
    count = win.valid.sum(axis=(2, 3)).astype(np.int64)[None, :, :, None]
    avg = np.sign(total) * ((np.abs(total) + count // 2) // count)
    if trace is not None:
        trace.update(sum=total, count=count, average=avg, act_range=plan.act)
    return np.clip(avg, *plan.act).astype(np.int8)


def max_pool2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """MAX_POOL_2D over the in-bounds part of each window."""
    patches, _ = _pool(plan, ins[0], -128)  # -128 outside never beats an input value
    best = patches.max(axis=-1)
    if trace is not None:
        trace.update(max=best, act_range=plan.act)
    return np.clip(best, *plan.act).astype(np.int8)


def reshape(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """RESHAPE: the same bytes in the output tensor's shape."""
    return ins[0]


KERNELS: dict[str, Callable[[OpPlan, list, dict | None], np.ndarray]] = {
    "CONV_2D": conv2d,
    "DEPTHWISE_CONV_2D": depthwise_conv2d,
    "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": average_pool2d,
    "MAX_POOL_2D": max_pool2d,
    "SOFTMAX": softmax_op,
    "RESHAPE": reshape,
    **int8ops_elementwise.KERNELS,
    **int8ops_shape.KERNELS,
    **int8ops_recurrent.KERNELS,
}

# Activation dtypes each core op handles here; the families declare their own.
_CORE_DTYPES: dict[str, frozenset[str]] = {
    "CONV_2D": frozenset({"int8", "int16"}),
    "DEPTHWISE_CONV_2D": frozenset({"int8", "int16"}),
    "FULLY_CONNECTED": frozenset({"int8", "int16", "float32"}),
    "AVERAGE_POOL_2D": frozenset({"int8"}),
    "MAX_POOL_2D": frozenset({"int8"}),
    "SOFTMAX": frozenset({"int8", "int16"}),
    "RESHAPE": frozenset({"int8", "int16", "float32"}),
}
DTYPES: dict[str, frozenset[str]] = {
    **_CORE_DTYPES,
    **getattr(int8ops_elementwise, "DTYPES", {}),
    **getattr(int8ops_shape, "DTYPES", {}),
    **getattr(int8ops_recurrent, "DTYPES", {}),
}


# ---- entry points ------------------------------------------------------------


def run_op(graph: Graph, op: Op, inputs: Arrays, *, requant: str = "reference",
           trace: dict | None = None) -> np.ndarray:
    """Run one op on its input arrays (in op order; None = absent or "use the
    constant"). Returns the output array; ``trace`` receives the intermediates."""
    return OpPlan(graph, op, requant).run(inputs, trace)


def unsupported(graph: Graph) -> list[str]:
    """Names of the graph's ops (or op and activation type pairs) this module cannot run."""
    missing = sorted({op.name for op in graph.ops} - set(KERNELS))
    for op in graph.ops:
        if op.name not in KERNELS:
            continue
        for dtype in activation_dtypes(graph, op) - DTYPES.get(op.name, frozenset({"int8"})):
            missing.append(f"{op.name} with {dtype} activations")
    return sorted(set(missing))


class Int8Interpreter:
    """A graph prepared once for repeated :meth:`run` calls."""

    def __init__(self, graph: Graph, requant: str = "reference") -> None:
        missing = unsupported(graph)
        if missing:
            raise NotImplementedError(f"no int8 implementation of {', '.join(missing)}")
        self.graph = graph
        self.requant = requant
        self.plans = [OpPlan(graph, op, requant) for op in graph.ops]

    def run(self, inputs: Sequence[np.ndarray], traces: dict[int, dict] | None = None
            ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
        """Outputs, and every activation tensor by index; ``traces`` (if given)
        receives each op's intermediates by op index."""
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise ValueError(f"{len(inputs)} inputs given, the model has {len(g.inputs)}")
        values: dict[int, np.ndarray] = {}
        for index, data in zip(g.inputs, inputs, strict=True):
            t = g.tensors[index]
            arr = np.asarray(data)
            if arr.dtype != np.dtype(t.dtype) or arr.size != t.size:
                raise ValueError(f"input {t.name!r} wants {t.dtype}{list(t.shape)}, "
                                 f"got {arr.dtype}{list(arr.shape)}")
            values[index] = arr.reshape(t.shape).copy()
        for plan in self.plans:
            given = [values.get(i) for i in plan.op.inputs]
            trace = None if traces is None else traces.setdefault(plan.op.index, {})
            values[plan.op.outputs[0]] = plan.run(given, trace)
        return [values[i] for i in g.outputs], values


def run_graph(graph: Graph, inputs: Sequence[np.ndarray], *, requant: str = "reference"
              ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """Run the whole graph: ``(outputs, {tensor index: array} of every activation)``."""
    return Int8Interpreter(graph, requant).run(inputs)
