"""CONV_2D / DEPTHWISE_CONV_2D parameters that do not depend on the data, worked out
once per op and shared by the C emitter and the numpy kernels."""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.graph import Graph, Op
from harness.quant.geometry import conv_output_and_padding
from harness.quant.multiplier import conv_requant


@dataclass(frozen=True)
class ConvParams:
    """Geometry and requantization of one convolution."""

    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: int  # schema code: 0 SAME, 1 VALID
    out_hw: tuple[int, int]
    pad_before: tuple[int, int]  # rows, columns of padding before the input
    depth_multiplier: int
    multipliers: list[int]  # Q0.31, one per output channel (or one per tensor)
    shifts: list[int]


def conv_params(graph: Graph, op: Op) -> ConvParams:
    """The op's geometry (output size and SAME padding) and requantization."""
    inp, filt, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    (sh, sw), (dh, dw), pad = op.stride, op.dilation, op.padding
    _, fh, fw, _ = filt.shape
    oh, pad_h = conv_output_and_padding(inp.shape[1], fh, sh, dh, pad)
    ow, pad_w = conv_output_and_padding(inp.shape[2], fw, sw, dw, pad)
    mults, shifts = conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    dm = op.int_option("depthMultiplier", 1) if op.name == "DEPTHWISE_CONV_2D" else 1
    return ConvParams((sh, sw), (dh, dw), pad, (oh, ow), (pad_h, pad_w), dm, mults, shifts)
