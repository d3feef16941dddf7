"""FULLY_CONNECTED in C: hx_fully_connected_s8/_s16/_f32 (firmware/kernels/
hx_fully_connected.c) with the weights, bias and requantization in flash."""

from __future__ import annotations

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.c_emit import (
    ACT_NAMES,
    CArray,
    LoweredOp,
    add_bias,
    add_requant,
    check_16x8,
    fused_act_range,
    fused_act_range_f32,
    ptr,
    refuse,
    tdesc,
)
from harness.ops.fully_connected.params import fc_params


def emit_fully_connected(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One call of the s8, s16 (16x8) or f32 kernel."""
    inp, w, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if w.data is None:
        raise UnsupportedOp(f"op {op.index} (FULLY_CONNECTED) has non-constant weights")
    if inp.dtype == "float32":
        _emit_f32(graph, op, lo)
        return
    if inp.dtype == "int16":
        check_16x8(op, w, inp, out)
    elif (inp.dtype, w.dtype, out.dtype) != ("int8", "int8", "int8"):
        raise refuse(op, f"{inp.dtype} input with {w.dtype} weights and {out.dtype} output")
    prm = fc_params(graph, op)
    act_min, act_max = fused_act_range(op, out)
    p = f"op{op.index}"
    lo.comment.append(f"weights {tdesc(w)}; {prm.batches} x {prm.accum} -> {prm.units}, "
                      f"{ACT_NAMES.get(op.fused_activation, '?')}")
    lo.arrays.append(CArray("int8_t", f"{p}_weights", w.data.astype(np.int64).ravel()))
    suffix = "s16" if inp.dtype == "int16" else "s8"
    bias = add_bias(lo, p, graph, op, ctype="int64_t" if suffix == "s16" else "int32_t")
    add_requant(lo, p, prm.multipliers, prm.shifts)
    lo.params.append(("hx_fc_params", f"{p}_params",
                      f"{{{-inp.zero_point}, {-w.zero_point}, {out.zero_point}, "
                      f"{act_min}, {act_max}}}"))
    lo.call = (f"hx_fully_connected_{suffix}(&{p}_params, &{p}_rq, {prm.batches}, {prm.accum}, "
               f"{prm.units}, {ptr(inp)}, {p}_weights, {bias}, {ptr(out)});")


def _emit_f32(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, w, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if (w.dtype, out.dtype) != ("float32", "float32") or w.quantized:
        raise refuse(op, f"float32 input with {w.dtype} weights and {out.dtype} output "
                     "(hybrid quantization)")
    prm = fc_params(graph, op)
    p = f"op{op.index}"
    act_min, act_max = fused_act_range_f32(op)
    lo.comment.append(f"weights {tdesc(w)}; {prm.batches} x {prm.accum} -> {prm.units}, "
                      f"{ACT_NAMES.get(op.fused_activation, '?')}")
    lo.arrays.append(CArray("float", f"{p}_weights", w.data.astype(np.float32).ravel()))
    bias = add_bias(lo, p, graph, op, ctype="float")
    lo.params.append(("hx_fc_f32_params", f"{p}_params", f"{{{act_min}, {act_max}}}"))
    lo.call = (f"hx_fully_connected_f32(&{p}_params, {prm.batches}, {prm.accum}, {prm.units}, "
               f"{ptr(inp)}, {p}_weights, {bias}, {ptr(out)});")
