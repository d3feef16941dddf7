"""RESHAPE: the same bytes in another shape. The builtin runtime aliases the output to
the input in the arena, so it emits no code."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.c_emit import LoweredOp
from harness.ops.checks import invalid, output_of, same_size
from harness.ops.plan import OpPlan


def check_reshape(graph: Graph, op: Op) -> None:
    """As many values out as in; a shape operand, if any, is one integer per output axis."""
    same_size(graph, op)
    if len(op.inputs) > 1 and op.inputs[1] >= 0:  # the new shape, as an operand
        t, out = graph.tensors[op.inputs[1]], output_of(graph, op)
        if np.dtype(t.dtype).kind not in "iu" or len(t.shape) > 1 or t.size != len(out.shape):
            raise invalid(op, f"shape operand (tensor {t.index}, {t.dtype} {t.shape}) is not "
                          f"{len(out.shape)} integers for output {out.shape}")


def emit_reshape(graph: Graph, op: Op, lo: LoweredOp) -> None:
    lo.comment.append("aliases its input in the arena: no code")
    lo.call = "/* nothing to do */"


def reshape_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """The same values (the interpreter gives them the output's shape)."""
    return ins[0]


def reshape_float(graph: Graph, op: Op, ins: list) -> np.ndarray:
    return ins[0].reshape(graph.tensors[op.outputs[0]].shape)
