"""What every valid SOFTMAX satisfies, and what the builtin runtime's fixed point reaches."""

from __future__ import annotations

import math

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.checks import invalid, same_shape
from harness.ops.softmax.params import softmax_params


def check_softmax(graph: Graph, op: Op) -> None:
    """Output shaped as the input, not a scalar; beta finite and not negative."""
    same_shape(graph, op)
    if not graph.tensors[op.inputs[0]].shape:
        raise invalid(op, "input is a scalar")
    beta = op.float_option("beta", 1.0)
    if not math.isfinite(beta) or beta < 0:
        raise invalid(op, f"beta {beta} is not a finite non-negative number")


def lowerable_softmax(graph: Graph, op: Op) -> None:
    """int8 input: beta * input scale within the fixed-point softmax's range."""
    inp = graph.tensors[op.inputs[0]]
    if inp.dtype != "int8":
        return
    beta, scale = op.float_option("beta", 1.0), inp.scale
    try:
        softmax_params(beta, scale)
    except ValueError as exc:
        raise UnsupportedOp(f"op {op.index} (SOFTMAX): beta {beta:g} with input scale "
                            f"{scale:g} is out of the fixed-point softmax's range "
                            f"({exc})") from None
