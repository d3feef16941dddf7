"""QUANTIZE / DEQUANTIZE in C: the float conversions hx_quantize_f32_* and
hx_dequantize_*_f32 (firmware/kernels/hx_quantize.c), and the integer QUANTIZE on
the elementwise rescale kernels hx_rescale_* (firmware/kernels/hx_elementwise.c)."""

from __future__ import annotations

from harness.model.graph import Graph, Op
from harness.ops.c_emit import LoweredOp, ptr, refuse
from harness.ops.conversion.params import dequantize_params, quantize_params, requantize_params
from harness.ops.elementwise.emit import RESCALE_FN, emit_rescale

# QUANTIZE from float and DEQUANTIZE: (input, output) dtype -> kernel.
CONVERT_FN = {("float32", "int8"): "hx_quantize_f32_s8",
              ("float32", "int16"): "hx_quantize_f32_s16",
              ("int8", "float32"): "hx_dequantize_s8_f32",
              ("int16", "float32"): "hx_dequantize_s16_f32"}


def emit_quantize(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """QUANTIZE: a float conversion, or one integer rescale per element."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pair = (inp.dtype, out.dtype)
    if pair in CONVERT_FN:
        emit_convert(graph, op, lo)
    elif pair in RESCALE_FN:
        emit_rescale(op, inp, out, requantize_params(inp, out), lo)
    else:
        raise refuse(op, f"{inp.dtype} -> {out.dtype}")


def emit_convert(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """QUANTIZE float -> int8/int16 and DEQUANTIZE int8/int16 -> float (per-tensor)."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    pair = (inp.dtype, out.dtype)
    fn = CONVERT_FN.get(pair) if op.name == "QUANTIZE" or pair[1] == "float32" else None
    q = out if pair[0] == "float32" else inp
    if fn is None or len(q.scales) > 1:
        raise refuse(op, f"{inp.dtype} -> {out.dtype}" + (" per-channel" if fn else ""))
    prm = quantize_params(out) if pair[0] == "float32" else dequantize_params(inp)
    p = f"op{op.index}"
    lo.comment.append(f"scale {prm.scale!r}, zero point {prm.zero_point}")
    lo.params.append(("hx_quantize_params", f"{p}_params",
                      f"{{{prm.scale!r}f, {prm.zero_point}, {prm.act_min}, {prm.act_max}}}"))
    lo.call = f"{fn}(&{p}_params, {inp.size}, {ptr(inp)}, {ptr(out)});"
