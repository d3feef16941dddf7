"""CONCATENATION: ``outer`` rows, each the inputs' rows one after the other
(hx_concat_s8 in firmware/kernels/hx_shape.c), bit-exact with LiteRT BUILTIN_REF for
inputs that share the output's quantization; the builtin runtime does not rescale."""

from __future__ import annotations

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.c_emit import CArray, LoweredOp, operand_ptr, ptr, single_dtype
from harness.ops.checks import invalid, operands, output_of
from harness.ops.plan import OpPlan
from harness.ops.shape.common import same_quant
from harness.ops.spec import INT8

DTYPES = INT8


def check_concatenation(graph: Graph, op: Op) -> None:
    """Inputs of the output's rank that agree off the axis and add up along it."""
    ins = [t for t in operands(graph, op, 1) if t is not None]
    out = output_of(graph, op)
    rank = len(out.shape)
    axis = int(op.options.get("axis", 0))
    if not -rank <= axis < rank:
        raise invalid(op, f"axis {axis} is outside its rank-{rank} output")
    axis %= rank
    total = 0
    for t in ins:
        if len(t.shape) != rank or any(t.shape[d] != out.shape[d] for d in range(rank)
                                       if d != axis):
            raise invalid(op, f"input {t.shape} does not fit output {out.shape} along axis "
                          f"{axis}")
        total += t.shape[axis]
    if total != out.shape[axis]:
        raise invalid(op, f"inputs add up to {total} along axis {axis}, the output has "
                      f"{out.shape[axis]}")


def concat_geometry(graph: Graph, op: Op) -> tuple[int, list[int]]:
    """``(outer, inner sizes)``: the output is ``outer`` rows of the inputs' rows."""
    out = graph.tensors[op.outputs[0]]
    axis = int(op.options.get("axis", 0))
    axis += len(out.shape) if axis < 0 else 0
    outer = int(np.prod(out.shape[:axis], dtype=np.int64))
    inner = [int(np.prod(graph.tensors[i].shape[axis:], dtype=np.int64)) for i in op.inputs]
    return outer, inner


def emit_concatenation(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_concat_s8 call; constant inputs are copied to flash."""
    ins = [graph.tensors[i] for i in op.inputs]
    out = graph.tensors[op.outputs[0]]
    single_dtype(graph, op, ins + [out], DTYPES)
    if op.fused_activation:
        raise UnsupportedOp(f"op {op.index} (CONCATENATION) has a fused activation")
    for t in ins:
        same_quant(op, t, out)
    outer, inner = concat_geometry(graph, op)
    p = f"op{op.index}"
    ptrs = ", ".join(operand_ptr(lo, f"{p}_in{k}", t) for k, t in enumerate(ins))
    lo.comment.append(f"axis {op.options.get('axis', 0)}: {outer} rows of {inner} elements")
    lo.arrays.append(CArray("int32_t", f"{p}_inner", np.asarray(inner, np.int64)))
    lo.call = (f"hx_concat_s8({len(ins)}, (const int8_t *const[]){{{ptrs}}}, {p}_inner, "
               f"{outer}, {ptr(out)});")


def concatenation_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """CONCATENATION of inputs that share the output's quantization (no rescale)."""
    axis = int(plan.op.options.get("axis", 0))
    return np.concatenate([np.asarray(x) for x in ins], axis=axis)
