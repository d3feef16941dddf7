"""AVERAGE_POOL_2D / MAX_POOL_2D in C: hx_avg_pool_s8, hx_max_pool_s8 (firmware/kernels/
hx_pool.c)."""

from __future__ import annotations

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.c_emit import PAD_NAMES, LoweredOp, dims, fused_act_range, ptr
from harness.ops.pool.params import pool_params


def emit_pool(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One call of the pooling kernel; the window geometry is worked out here."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if (inp.scale, inp.zero_point) != (out.scale, out.zero_point):
        raise UnsupportedOp(f"op {op.index} ({op.name}) rescales (input and output "
                            "quantization differ), which the builtin runtime does not do")
    prm = pool_params(graph, op)
    (sh, sw), (fh, fw), (pad_h, pad_w) = prm.stride, prm.filter_hw, prm.pad_before
    act_min, act_max = fused_act_range(op, out)
    p = f"op{op.index}"
    lo.comment.append(f"window {fh}x{fw}, stride {sh}x{sw}, {PAD_NAMES[prm.padding]}")
    lo.params.append(("hx_pool_params", f"{p}_params",
                      f"{{{sh}, {sw}, {fh}, {fw}, {pad_h}, {pad_w}, {act_min}, {act_max}}}"))
    fn = "hx_avg_pool_s8" if op.name == "AVERAGE_POOL_2D" else "hx_max_pool_s8"
    lo.call = (f"{fn}(&{p}_params, (hx_dims){dims(inp.shape)}, {ptr(inp)}, "
               f"(hx_dims){dims(out.shape)}, {ptr(out)});")
