"""What every valid CONV_2D / DEPTHWISE_CONV_2D satisfies, and what the builtin
runtime additionally needs (constant weights, no groups, a clamp as fused activation)."""

from __future__ import annotations

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op, Tensor
from harness.ops.checks import (
    check_bias,
    check_output_hw,
    conv_options,
    invalid,
    need_four_d,
    need_positive,
    need_quantized_weights,
    operands,
    output_of,
)
from harness.ops.lowerable import clamp_only, constant_weights

ConvOptions = tuple[int, int, int, int, int]


def conv_operands(graph: Graph, op: Op) -> tuple[Tensor, Tensor, Tensor | None, Tensor,
                                                  ConvOptions]:
    """Input, filter, bias (or None), output, each checked 4-D (bias aside) with the
    filter quantized, and the checked (strideH, strideW, dilationH, dilationW, padding)."""
    inp, filt, *rest = operands(graph, op, 2)
    out = output_of(graph, op)
    need_four_d(op, inp, filt, out)
    options = conv_options(op)
    need_quantized_weights(op, inp, filt)
    return inp, filt, rest[0] if rest else None, out, options


def check_conv2d(graph: Graph, op: Op) -> None:
    """CONV_2D: filter [O, KH, KW, I/groups], output [N, OH, OW, O]."""
    inp, filt, bias, out, options = conv_operands(graph, op)
    need_positive(op, filter_height=filt.shape[1], filter_width=filt.shape[2],
                  filter_channels=filt.shape[3])
    groups, rem = divmod(inp.shape[3], filt.shape[3])
    if rem or filt.shape[0] % groups:
        raise invalid(op, f"input has {inp.shape[3]} channels, the filter {filt.shape} (a "
                      f"grouped convolution needs both channel counts divisible by the groups)")
    if out.shape[3] != filt.shape[0] or out.shape[0] != inp.shape[0]:
        raise invalid(op, f"output {out.shape} does not fit input {inp.shape} and filter "
                      f"{filt.shape}")
    check_bias(op, bias, filt.shape[0], inp)
    check_output_hw(op, inp, out, filt.shape[1], filt.shape[2], *options)


def check_depthwise(graph: Graph, op: Op) -> None:
    """DEPTHWISE_CONV_2D: filter [1, KH, KW, C * multiplier]."""
    inp, filt, bias, out, options = conv_operands(graph, op)
    need_positive(op, filter_height=filt.shape[1], filter_width=filt.shape[2])
    dm = op.int_option("depthMultiplier", 1)
    if filt.shape[0] != 1 or out.shape[3] != filt.shape[3] or out.shape[0] != inp.shape[0]:
        raise invalid(op, f"output {out.shape} does not fit input {inp.shape} and filter "
                      f"{filt.shape}")
    if out.shape[3] != inp.shape[3] * dm:
        raise invalid(op, f"{inp.shape[3]} input channels with depth multiplier {dm} do not "
                      f"make its {out.shape[3]} output channels")
    check_bias(op, bias, out.shape[3], inp)
    check_output_hw(op, inp, out, filt.shape[1], filt.shape[2], *options)


def lowerable_conv2d(graph: Graph, op: Op) -> None:
    """Constant weights, a clamp, and no grouped convolution."""
    inp, filt = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    if inp.shape[3] != filt.shape[3]:
        raise UnsupportedOp(f"op {op.index} (CONV_2D): grouped convolution (input "
                            f"channels {inp.shape[3]}, filter channels {filt.shape[3]}) is not "
                            "supported by the builtin runtime")
    constant_weights(graph, op, (1, 2))
    clamp_only(op)


def lowerable_depthwise(graph: Graph, op: Op) -> None:
    """Constant weights and a clamp."""
    constant_weights(graph, op, (1, 2))
    clamp_only(op)
