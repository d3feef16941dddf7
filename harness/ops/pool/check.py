"""What every valid AVERAGE_POOL_2D / MAX_POOL_2D satisfies, and what the builtin
runtime needs."""

from __future__ import annotations

from harness.model.graph import Graph, Op
from harness.ops.checks import (
    FUSED,
    PADDINGS,
    check_output_hw,
    enum_option,
    invalid,
    need_positive,
    need_rank,
    operands,
    output_of,
)
from harness.ops.lowerable import clamp_only


def check_pool(graph: Graph, op: Op) -> None:
    """4-D input and output with the same batch and channels; the window fits."""
    (inp, *_), out = operands(graph, op, 1), output_of(graph, op)
    need_rank(op, inp, 4, "input")
    need_rank(op, out, 4, "output")
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    fh, fw = int(o.get("filterHeight", 1)), int(o.get("filterWidth", 1))
    need_positive(op, strideH=sh, strideW=sw, filterHeight=fh, filterWidth=fw)
    enum_option(op, "fusedActivationFunction", FUSED)
    pad = enum_option(op, "padding", PADDINGS)
    if (out.shape[0], out.shape[3]) != (inp.shape[0], inp.shape[3]):
        raise invalid(op, f"output {out.shape} does not keep the batch and channels of "
                      f"{inp.shape}")
    if fh > 2 * inp.shape[1] or fw > 2 * inp.shape[2]:
        raise invalid(op, f"window {fh}x{fw} is more than twice its "
                      f"{inp.shape[1]}x{inp.shape[2]} input")
    check_output_hw(op, inp, out, fh, fw, sh, sw, 1, 1, pad)


def lowerable_pool(graph: Graph, op: Op) -> None:
    """A clamp as fused activation."""
    clamp_only(op)
