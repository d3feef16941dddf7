"""Model stage, part 2: the ops of a parsed graph are consistent with themselves.

A damaged or hand-edited .tflite can name tensors whose shapes no kernel can
relate (a CONV_2D filter with the wrong channel count, a FULLY_CONNECTED whose
weights do not divide its input, an option with an out-of-range enum). Every
consumer (lowering, arena planning, the NumPy references, the generated C)
assumes these relations hold, so they are checked once here, after parsing,
and a broken one is refused with one line (:class:`NotAModel`, exit 11) that
says which op and what is wrong.

Only relations that hold for every valid model are checked: operand counts,
ranks, channel and size agreement, enum ranges and positive strides. What a
valid model may do but a runtime cannot (e.g. a fused TANH) stays with that
runtime's own checks (:func:`check_lowerable` for the builtin runtime).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from harness.errors import NotAModel
from harness.model import Graph, Op, Tensor

PADDINGS = (0, 1)  # SAME, VALID
FUSED = range(6)  # NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT
FUSED_LOWERABLE = (0, 1, 2, 3)
# Ops whose fusedActivationFunction is a clamp on the output (LSTM's is its cell activation).
FUSED_CLAMP_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D",
                             "MAX_POOL_2D", "ADD", "SUB", "MUL", "TRANSPOSE_CONV"})


def _bad(op: Op, what: str) -> NotAModel:
    return NotAModel(f"op {op.index} ({op.name}): {what}")


def _operands(graph: Graph, op: Op, need: int) -> list[Tensor | None]:
    """The op's input tensors (None for absent ones); the first `need` must be there."""
    if len(op.inputs) < need or any(i < 0 for i in op.inputs[:need]):
        raise _bad(op, f"needs {need} input(s), has {len(op.inputs)} "
                   f"({', '.join(map(str, op.inputs)) or 'none'})")
    return [graph.tensors[i] if i >= 0 else None for i in op.inputs]


def _out(graph: Graph, op: Op) -> Tensor:
    return graph.tensors[op.outputs[0]]


def _rank(op: Op, t: Tensor, rank: int, what: str) -> None:
    if len(t.shape) != rank:
        raise _bad(op, f"{what} (tensor {t.index}) has shape {t.shape}, not rank {rank}")


def _positive(op: Op, **values: int) -> None:
    for key, v in values.items():
        if int(v) < 1:
            raise _bad(op, f"{key} is {v}; it must be at least 1")


def _enum(op: Op, key: str, allowed: range | tuple[int, ...]) -> int:
    v = int(op.options.get(key, 0))
    if v not in allowed:
        raise _bad(op, f"{key} code {v} is not a valid value")
    return v


def _bias(op: Op, bias: Tensor | None, channels: int, inp: Tensor | None = None) -> None:
    if bias is not None and bias.size != channels:
        raise _bad(op, f"bias (tensor {bias.index}) has {bias.size} values for {channels} "
                   "output channels")
    if bias is not None and inp is not None and inp.dtype != "float32" and \
            np.dtype(bias.dtype).kind not in "iu":
        raise _bad(op, f"{inp.dtype} op with a {bias.dtype} bias (tensor {bias.index})")


def _spatial(in_size: int, filt: int, stride: int, dilation: int, padding: int) -> int:
    if padding == 0:  # SAME
        return (in_size + stride - 1) // stride
    return max(0, (in_size + stride - ((filt - 1) * dilation + 1)) // stride)


def _check_hw(op: Op, inp: Tensor, out: Tensor, fh: int, fw: int, sh: int, sw: int,
              dh: int, dw: int, padding: int) -> None:
    want = (_spatial(inp.shape[1], fh, sh, dh, padding), _spatial(inp.shape[2], fw, sw, dw,
                                                                   padding))
    if tuple(out.shape[1:3]) != want:
        raise _bad(op, f"output shape {out.shape} does not match the {want[0]}x{want[1]} "
                   f"its input {inp.shape}, window and strides give")


def _weights_quantized(op: Op, inp: Tensor, w: Tensor) -> None:
    """Integer weights of an integer op carry their scales."""
    if inp.dtype != "float32" and w.dtype in ("int8", "int16") and not len(w.scales):
        raise _bad(op, f"{w.dtype} weights (tensor {w.index}) have no quantization scales")


def _conv_options(op: Op) -> tuple[int, int, int, int, int]:
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    dh, dw = int(o.get("dilationHFactor", 1)), int(o.get("dilationWFactor", 1))
    _positive(op, strideH=sh, strideW=sw, dilationHFactor=dh, dilationWFactor=dw)
    _enum(op, "fusedActivationFunction", FUSED)
    return sh, sw, dh, dw, _enum(op, "padding", PADDINGS)


def _four_d(op: Op, inp: Tensor, filt: Tensor, out: Tensor) -> None:
    for t, what in ((inp, "input"), (filt, "filter"), (out, "output")):
        _rank(op, t, 4, what)


def _conv_operands(graph: Graph, op: Op) -> tuple[Tensor, Tensor, Tensor | None, Tensor,
                                                  tuple[int, int, int, int, int]]:
    """CONV_2D / DEPTHWISE_CONV_2D: input, filter, bias (or None), output, each
    checked 4-D (bias aside) with the filter quantized, and the checked
    (strideH, strideW, dilationH, dilationW, padding)."""
    inp, filt, *rest = _operands(graph, op, 2)
    out = _out(graph, op)
    _four_d(op, inp, filt, out)
    options = _conv_options(op)
    _weights_quantized(op, inp, filt)
    return inp, filt, rest[0] if rest else None, out, options


def _conv2d(graph: Graph, op: Op) -> None:
    inp, filt, bias, out, options = _conv_operands(graph, op)
    _positive(op, filter_height=filt.shape[1], filter_width=filt.shape[2],
              filter_channels=filt.shape[3])
    groups, rem = divmod(inp.shape[3], filt.shape[3])
    if rem or filt.shape[0] % groups:
        raise _bad(op, f"input has {inp.shape[3]} channels, the filter {filt.shape} (a "
                   f"grouped convolution needs both channel counts divisible by the groups)")
    if out.shape[3] != filt.shape[0] or out.shape[0] != inp.shape[0]:
        raise _bad(op, f"output {out.shape} does not fit input {inp.shape} and filter "
                   f"{filt.shape}")
    _bias(op, bias, filt.shape[0], inp)
    _check_hw(op, inp, out, filt.shape[1], filt.shape[2], *options)


def _depthwise(graph: Graph, op: Op) -> None:
    inp, filt, bias, out, options = _conv_operands(graph, op)
    _positive(op, filter_height=filt.shape[1], filter_width=filt.shape[2])
    dm = int(op.options.get("depthMultiplier", 1))
    if filt.shape[0] != 1 or out.shape[3] != filt.shape[3] or out.shape[0] != inp.shape[0]:
        raise _bad(op, f"output {out.shape} does not fit input {inp.shape} and filter "
                   f"{filt.shape}")
    if out.shape[3] != inp.shape[3] * dm:
        raise _bad(op, f"{inp.shape[3]} input channels with depth multiplier {dm} do not "
                   f"make its {out.shape[3]} output channels")
    _bias(op, bias, out.shape[3], inp)
    _check_hw(op, inp, out, filt.shape[1], filt.shape[2], *options)


def _fully_connected(graph: Graph, op: Op) -> None:
    inp, w, *rest = _operands(graph, op, 2)
    out = _out(graph, op)
    _enum(op, "fusedActivationFunction", FUSED)
    _rank(op, w, 2, "weights")
    _weights_quantized(op, inp, w)
    units, depth = w.shape
    _positive(op, weight_rows=units, weight_columns=depth)
    if inp.size % depth:
        raise _bad(op, f"input of {inp.size} values is not a whole number of rows of "
                   f"{depth} (weights {w.shape})")
    if out.size != inp.size // depth * units:
        raise _bad(op, f"output {out.shape} does not hold {inp.size // depth} x {units} values")
    _bias(op, rest[0] if rest else None, units, inp)


def _pool(graph: Graph, op: Op) -> None:
    (inp, *_), out = _operands(graph, op, 1), _out(graph, op)
    _rank(op, inp, 4, "input")
    _rank(op, out, 4, "output")
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    fh, fw = int(o.get("filterHeight", 1)), int(o.get("filterWidth", 1))
    _positive(op, strideH=sh, strideW=sw, filterHeight=fh, filterWidth=fw)
    _enum(op, "fusedActivationFunction", FUSED)
    pad = _enum(op, "padding", PADDINGS)
    if (out.shape[0], out.shape[3]) != (inp.shape[0], inp.shape[3]):
        raise _bad(op, f"output {out.shape} does not keep the batch and channels of {inp.shape}")
    if fh > 2 * inp.shape[1] or fw > 2 * inp.shape[2]:
        raise _bad(op, f"window {fh}x{fw} is more than twice its {inp.shape[1]}x{inp.shape[2]} "
                   "input")
    _check_hw(op, inp, out, fh, fw, sh, sw, 1, 1, pad)


def _same_shape(graph: Graph, op: Op) -> None:
    (inp, *_), out = _operands(graph, op, 1), _out(graph, op)
    if inp.shape != out.shape:
        raise _bad(op, f"output {out.shape} differs from input {inp.shape}")


def _same_size(graph: Graph, op: Op) -> None:
    (inp, *_), out = _operands(graph, op, 1), _out(graph, op)
    if inp.size != out.size:
        raise _bad(op, f"output {out.shape} holds {out.size} values, input {inp.shape} "
                   f"{inp.size}")


def _reshape(graph: Graph, op: Op) -> None:
    _same_size(graph, op)
    if len(op.inputs) > 1 and op.inputs[1] >= 0:  # the new shape, as an operand
        t, out = graph.tensors[op.inputs[1]], _out(graph, op)
        if np.dtype(t.dtype).kind not in "iu" or len(t.shape) > 1 or t.size != len(out.shape):
            raise _bad(op, f"shape operand (tensor {t.index}, {t.dtype} {t.shape}) is not "
                       f"{len(out.shape)} integers for output {out.shape}")


def _softmax(graph: Graph, op: Op) -> None:
    _same_shape(graph, op)
    if not graph.tensors[op.inputs[0]].shape:
        raise _bad(op, "input is a scalar")
    beta = float(op.options.get("beta", 1.0))
    if not math.isfinite(beta) or beta < 0:
        raise _bad(op, f"beta {beta} is not a finite non-negative number")


def _binary(graph: Graph, op: Op) -> None:
    a, b, *_ = _operands(graph, op, 2)
    out = _out(graph, op)
    if "fusedActivationFunction" in op.options:
        _enum(op, "fusedActivationFunction", FUSED)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise _bad(op, f"inputs {a.shape} and {b.shape} do not broadcast") from None
    if tuple(shape) != out.shape:
        raise _bad(op, f"output {out.shape} is not the broadcast {tuple(shape)} of its inputs")


CHECKS: dict[str, Callable[[Graph, Op], None]] = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "SOFTMAX": _softmax,
    "RESHAPE": _reshape,
    "SQUEEZE": _same_size,
    "EXPAND_DIMS": _same_size,
    "QUANTIZE": _same_shape,
    "DEQUANTIZE": _same_shape,
    "RELU": _same_shape,
    "RELU6": _same_shape,
    "LEAKY_RELU": _same_shape,
    "LOGISTIC": _same_shape,
    "TANH": _same_shape,
    "HARD_SWISH": _same_shape,
    "ADD": _binary,
    "SUB": _binary,
    "MUL": _binary,
    "PRELU": _binary,
}


# Operand positions an op cannot do without (others may be absent, -1); from the
# TFLite kernels' Prepare functions.
REQUIRED: dict[str, tuple[int, ...]] = {
    "STRIDED_SLICE": (0, 1, 2, 3), "PAD": (0, 1), "PADV2": (0, 1), "MEAN": (0, 1),
    "TRANSPOSE": (0, 1), "EXPAND_DIMS": (0, 1), "BATCH_MATMUL": (0, 1),
    "TRANSPOSE_CONV": (0, 1, 2), "SVDF": (0, 1, 2, 4), "PRELU": (0, 1),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (0, 2, 3, 4, 6, 7, 8, 13, 14, 15, 18, 19),
}


def check_ops(graph: Graph) -> None:
    """Raise NotAModel, naming the op, for the first op inconsistent with itself."""
    from harness.model_check_shape import SHAPE_CHECKS  # it builds on the helpers above

    for op in graph.ops:
        need = REQUIRED.get(op.name, ())
        missing = [k for k in need if k >= len(op.inputs) or op.inputs[k] < 0]
        if missing:
            raise _bad(op, f"input(s) {missing} are missing (it has {len(op.inputs)}: "
                       f"{op.inputs})")
        check = CHECKS.get(op.name) or SHAPE_CHECKS.get(op.name)
        if check is not None:
            check(graph, op)
