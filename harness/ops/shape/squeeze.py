"""SQUEEZE and EXPAND_DIMS: the same bytes in the output's shape. Like RESHAPE, the
builtin runtime aliases the output to the input in the arena and emits no code."""

from __future__ import annotations

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.c_emit import LoweredOp, single_dtype
from harness.ops.plan import OpPlan
from harness.ops.shape.common import same_quant
from harness.ops.spec import INT8

DTYPES = INT8


def emit_alias(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """No call: the arena plan gives the output the input's bytes."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    single_dtype(graph, op, [inp, out], DTYPES)
    if inp.is_const:
        raise UnsupportedOp(f"op {op.index} ({op.name}) of a constant tensor")
    same_quant(op, inp, out)
    lo.comment.append("aliases its input in the arena: no code")
    lo.call = "/* nothing to do */"


def same_bytes_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """SQUEEZE / EXPAND_DIMS: the same bytes in the output's shape."""
    return ins[0]
