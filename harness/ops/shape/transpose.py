"""TRANSPOSE by a constant permutation, extended to 4-D (hx_transpose_s8 in
firmware/kernels/hx_shape.c, bit-exact with LiteRT BUILTIN_REF)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.c_emit import CArray, LoweredOp, dims, ptr, single_dtype
from harness.ops.checks import const_ints, invalid, operands, output_of
from harness.ops.plan import OpPlan
from harness.ops.shape.common import Dims4, const_operand, dims4, same_quant
from harness.ops.spec import INT8

DTYPES = INT8


def check_transpose(graph: Graph, op: Op) -> None:
    """A constant permutation permutes the input's axes into the output's shape."""
    inp, perm_t, *_ = operands(graph, op, 2)
    out = output_of(graph, op)
    perm = const_ints(op, perm_t, "permutation")
    if perm is None:
        return
    if sorted(perm.tolist()) != list(range(len(inp.shape))):
        raise invalid(op, f"permutation {perm.tolist()} does not permute a "
                      f"rank-{len(inp.shape)} input")
    if out.shape != tuple(inp.shape[k] for k in perm):
        raise invalid(op, f"output {out.shape} is not input {inp.shape} permuted by "
                      f"{perm.tolist()}")


def transpose_geometry(graph: Graph, op: Op) -> tuple[Dims4, Dims4]:
    """``(permutation, input dims)`` extended to 4-D."""
    inp = graph.tensors[op.inputs[0]]
    perm = [int(p) for p in const_operand(graph, op, 1, "permutation").ravel()]
    lead = 4 - len(perm)
    full = list(range(lead)) + [p + lead for p in perm]
    return dims4(full, f"op {op.index} (TRANSPOSE) input"), dims4(inp.shape)


def emit_transpose(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_transpose_s8 call with the 4-D permutation in flash."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    single_dtype(graph, op, [inp, out], DTYPES)
    same_quant(op, inp, out)
    perm, in_dims = transpose_geometry(graph, op)
    p = f"op{op.index}"
    lo.comment.append(f"permutation {list(perm)} of {list(in_dims)}")
    lo.arrays.append(CArray("int32_t", f"{p}_perm", np.asarray(perm, np.int64)))
    lo.call = f"hx_transpose_s8({p}_perm, (hx_dims){dims(in_dims)}, {ptr(inp)}, {ptr(out)});"


def transpose_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """TRANSPOSE by the constant permutation."""
    perm = [int(p) for p in plan.tensor(plan.op.inputs[1]).data.ravel()]
    return np.transpose(ins[0], perm)
