"""What every valid elementwise op satisfies (the one-input ops: harness.ops.checks.
same_shape), and what the builtin runtime needs of ADD, SUB and MUL."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.checks import FUSED, enum_option, invalid, operands, output_of
from harness.ops.lowerable import clamp_only


def check_binary(graph: Graph, op: Op) -> None:
    """Two inputs that broadcast to the output (ADD, SUB, MUL, PRELU)."""
    a, b, *_ = operands(graph, op, 2)
    out = output_of(graph, op)
    if "fusedActivationFunction" in op.options:
        enum_option(op, "fusedActivationFunction", FUSED)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise invalid(op, f"inputs {a.shape} and {b.shape} do not broadcast") from None
    if tuple(shape) != out.shape:
        raise invalid(op, f"output {out.shape} is not the broadcast {tuple(shape)} of its "
                      "inputs")


def lowerable_binary(graph: Graph, op: Op) -> None:
    """ADD, SUB, MUL: a clamp as fused activation."""
    clamp_only(op)
