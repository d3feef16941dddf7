"""SOFTMAX in C: hx_softmax_s8 / hx_softmax_s8_s16 (fixed point) and hx_softmax_s16
(lookup tables placed in flash) from firmware/kernels/hx_softmax.c."""

from __future__ import annotations

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op
from harness.ops.c_emit import CArray, LoweredOp, ptr, refuse
from harness.ops.softmax.params import softmax_int16_params, softmax_luts, softmax_params


def emit_softmax(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """int8 -> int8 or int16 in fixed point; int16 -> int16 through the tables."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.dtype == "int16":
        _emit_s16(graph, op, lo)
        return
    wide = (inp.dtype, out.dtype) == ("int8", "int16")
    if (inp.dtype, out.dtype) != ("int8", "int8") and not wide:
        raise refuse(op, f"{inp.dtype} input with {out.dtype} output")
    if wide and (abs(out.scale * 65536 - 1) > 1e-3 or out.zero_point != -32768):
        raise refuse(op, f"int16 output of scale {out.scale:g}, zero point "
                     f"{out.zero_point} (needs 1/65536 and -32768)")
    if not wide and (abs(out.scale - 1 / 256) > 1e-9 or out.zero_point != -128):
        raise UnsupportedOp(f"op {op.index} (SOFTMAX): int8 output must have scale 1/256 and "
                            f"zero point -128, not {out.scale:g}/{out.zero_point}")
    beta = op.float_option("beta", 1.0)
    mult, shift, diff_min = softmax_params(beta, inp.scale)
    depth = inp.shape[-1]
    p = f"op{op.index}"
    lo.comment.append(f"beta {beta:g}; {inp.size // depth} rows of {depth}")
    lo.params.append(("hx_softmax_params", f"{p}_params", f"{{{mult}, {shift}, {diff_min}}}"))
    fn = "hx_softmax_s8_s16" if wide else "hx_softmax_s8"
    lo.call = (f"{fn}(&{p}_params, {inp.size // depth}, {depth}, "
               f"{ptr(inp)}, {ptr(out)});")


def _emit_s16(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if out.dtype != "int16" or inp.zero_point != 0 or abs(out.scale - 1 / 32768) > 1e-9 \
            or out.zero_point != 0:
        raise refuse(op, f"int16 input (zero point {inp.zero_point}) with {out.dtype} output "
                     f"of scale {out.scale:g}, zero point {out.zero_point} (the int16 "
                     "softmax needs zero points 0 and output scale 1/32768)")
    beta = op.float_option("beta", 1.0)
    mult, shift = softmax_int16_params(beta, inp.scale)
    exp_lut, recip_lut = softmax_luts()
    depth = inp.shape[-1]
    p = f"op{op.index}"
    lo.comment.append(f"beta {beta:g}; {inp.size // depth} rows of {depth}; "
                      "exp and 1/(1+x) from 513-entry interpolated tables")
    lo.arrays.append(CArray("int16_t", f"{p}_exp_lut", exp_lut))
    lo.arrays.append(CArray("int16_t", f"{p}_recip_lut", recip_lut))
    lo.params.append(("hx_softmax_s16_params", f"{p}_params",
                      f"{{{mult}, {shift}, {p}_exp_lut, {p}_recip_lut}}"))
    lo.call = (f"hx_softmax_s16(&{p}_params, {inp.size // depth}, {depth}, "
               f"{ptr(inp)}, {ptr(out)});")
