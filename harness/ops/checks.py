"""What every valid model's ops satisfy, as reusable checks (each op family's check.py
composes them).

A damaged or hand-edited .tflite can name tensors whose shapes no kernel can
relate (a CONV_2D filter with the wrong channel count, a FULLY_CONNECTED whose
weights do not divide its input, an option with an out-of-range enum). Every
consumer (lowering, arena planning, the NumPy references, the generated C)
assumes these relations hold, so they are checked once, after parsing, and a
broken one is refused with one line (:class:`NotAModel`, exit 11) that says
which op and what is wrong.

Only relations that hold for every valid model are checked: operand counts,
ranks, channel and size agreement, enum ranges and positive strides. What a
valid model may do but a runtime cannot (e.g. a fused TANH) stays with that
runtime's own checks (each spec's ``lowerable``).
"""

from __future__ import annotations

import numpy as np

from harness.errors import NotAModel
from harness.model.graph import Graph, Op, Tensor

PADDINGS = (0, 1)  # SAME, VALID
FUSED = range(6)  # NONE, RELU, RELU_N1_TO_1, RELU6, TANH, SIGN_BIT



def invalid(op: Op, what: str) -> NotAModel:
    """The one-line refusal of an inconsistent op (exit 11)."""
    return NotAModel(f"op {op.index} ({op.name}): {what}")


def operands(graph: Graph, op: Op, need: int) -> list[Tensor | None]:
    """The op's input tensors (None for absent ones); the first `need` must be there."""
    if len(op.inputs) < need or any(i < 0 for i in op.inputs[:need]):
        raise invalid(op, f"needs {need} input(s), has {len(op.inputs)} "
                      f"({', '.join(map(str, op.inputs)) or 'none'})")
    return [graph.tensors[i] if i >= 0 else None for i in op.inputs]


def output_of(graph: Graph, op: Op) -> Tensor:
    """The op's first output tensor."""
    return graph.tensors[op.outputs[0]]


def need_rank(op: Op, t: Tensor, rank: int, what: str) -> None:
    if len(t.shape) != rank:
        raise invalid(op, f"{what} (tensor {t.index}) has shape {t.shape}, not rank {rank}")


def need_positive(op: Op, **values: int) -> None:
    for key, v in values.items():
        if int(v) < 1:
            raise invalid(op, f"{key} is {v}; it must be at least 1")


def enum_option(op: Op, key: str, allowed: range | tuple[int, ...]) -> int:
    v = int(op.options.get(key, 0))
    if v not in allowed:
        raise invalid(op, f"{key} code {v} is not a valid value")
    return v


def check_bias(op: Op, bias: Tensor | None, channels: int, inp: Tensor | None = None) -> None:
    if bias is not None and bias.size != channels:
        raise invalid(op, f"bias (tensor {bias.index}) has {bias.size} values for "
                      f"{channels} output channels")
    if bias is not None and inp is not None and inp.dtype != "float32" and \
            np.dtype(bias.dtype).kind not in "iu":
        raise invalid(op, f"{inp.dtype} op with a {bias.dtype} bias (tensor {bias.index})")


def spatial_size(in_size: int, filt: int, stride: int, dilation: int, padding: int) -> int:
    if padding == 0:  # SAME
        return (in_size + stride - 1) // stride
    return max(0, (in_size + stride - ((filt - 1) * dilation + 1)) // stride)


def check_output_hw(op: Op, inp: Tensor, out: Tensor, fh: int, fw: int, sh: int, sw: int,
                    dh: int, dw: int, padding: int) -> None:
    """The output's height and width are what the window, strides and padding give."""
    want = (spatial_size(inp.shape[1], fh, sh, dh, padding),
            spatial_size(inp.shape[2], fw, sw, dw, padding))
    if tuple(out.shape[1:3]) != want:
        raise invalid(op, f"output shape {out.shape} does not match the {want[0]}x{want[1]} "
                      f"its input {inp.shape}, window and strides give")


def const_ints(op: Op, t: Tensor, what: str) -> np.ndarray | None:
    """A constant operand's values, flat int64 (None when computed at run time); refused
    unless they are integers."""
    if t.data is None:
        return None
    if t.data.dtype.kind not in "iu":
        raise invalid(op, f"{what} (tensor {t.index}) is {t.dtype}, not integers")
    return t.data.astype(np.int64).ravel()


def need_quantized_weights(op: Op, inp: Tensor, w: Tensor) -> None:
    """Integer weights of an integer op carry their scales."""
    if inp.dtype != "float32" and w.dtype in ("int8", "int16") and not len(w.scales):
        raise invalid(op, f"{w.dtype} weights (tensor {w.index}) have no quantization scales")


def conv_options(op: Op) -> tuple[int, int, int, int, int]:
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    dh, dw = int(o.get("dilationHFactor", 1)), int(o.get("dilationWFactor", 1))
    need_positive(op, strideH=sh, strideW=sw, dilationHFactor=dh, dilationWFactor=dw)
    enum_option(op, "fusedActivationFunction", FUSED)
    return sh, sw, dh, dw, enum_option(op, "padding", PADDINGS)


def need_four_d(op: Op, inp: Tensor, filt: Tensor, out: Tensor) -> None:
    for t, what in ((inp, "input"), (filt, "filter"), (out, "output")):
        need_rank(op, t, 4, what)


def same_shape(graph: Graph, op: Op) -> None:
    (inp, *_), out = operands(graph, op, 1), output_of(graph, op)
    if inp.shape != out.shape:
        raise invalid(op, f"output {out.shape} differs from input {inp.shape}")


def same_size(graph: Graph, op: Op) -> None:
    (inp, *_), out = operands(graph, op, 1), output_of(graph, op)
    if inp.size != out.size:
        raise invalid(op, f"output {out.shape} holds {out.size} values, input {inp.shape} "
                      f"{inp.size}")
