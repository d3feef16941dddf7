"""Firmware generation, part 1: lower each graph op to a call of a builtin kernel.

All quantization arithmetic that does not depend on the data (multipliers,
shifts, padding, activation clamps) is done here, on the host, so the target
runs integer kernels only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness import int16ops, lower_elementwise, lower_recurrent, lower_shape, quant
from harness.dtypes import lacking
from harness.errors import BadInput, UnsupportedOp, UnsupportedType
from harness.lower_base import (
    ACT_NAMES,
    PAD_NAMES,
    CArray,
    LoweredOp,
    add_bias,
    add_requant,
    dims,
    fused_act_range,
    fused_act_range_f32,
    ptr,
    tdesc,
)
from harness.lower_check import check_lowerable
from harness.model import Graph, Op, Tensor

Lowering = Callable[[Graph, Op, LoweredOp], None]

# The C types of activation tensors in the generated code (HX_T<index> pointers).
C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float",
           "uint8": "uint8_t", "int64": "int64_t", "bool": "uint8_t"}


def _refuse(op: Op, what: str) -> UnsupportedType:
    return UnsupportedType(f"op {op.index} ({op.name}): {what} is not supported by the "
                           "builtin runtime")


def _check_16x8(op: Op, weights: Tensor, *activations: Tensor) -> None:
    """int16 activations with zero point 0 and int8 weights (the 16x8 scheme)."""
    if weights.dtype != "int8":
        raise _refuse(op, f"int16 activations with {weights.dtype} weights")
    for t in activations:
        if t.dtype != "int16" or t.zero_point != 0:
            raise _refuse(op, f"{t.dtype} tensor {t.index} with zero point {t.zero_point} "
                          "in a 16x8 op")


def _conv_like(graph: Graph, op: Op, lo: LoweredOp, depthwise: bool) -> None:
    inp, filt, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    p = f"op{op.index}"
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    dh, dw = int(o.get("dilationHFactor", 1)), int(o.get("dilationWFactor", 1))
    pad = int(o.get("padding", 0))
    _, fh, fw, _ = filt.shape
    oh, pad_h = quant.conv_output_and_padding(inp.shape[1], fh, sh, dh, pad)
    ow, pad_w = quant.conv_output_and_padding(inp.shape[2], fw, sw, dw, pad)
    if (oh, ow) != tuple(out.shape[1:3]):
        raise BadInput(f"op {op.index} ({op.name}): output shape {out.shape} does not match "
                       f"the computed {oh}x{ow}")
    if inp.dtype == "int16":
        _check_16x8(op, filt, inp, out)
    elif (inp.dtype, filt.dtype, out.dtype) != ("int8", "int8", "int8"):
        raise _refuse(op, f"{inp.dtype} input with {filt.dtype} filter and {out.dtype} output")
    mults, shifts = quant.conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    act_min, act_max = fused_act_range(op, out)
    dm = int(o.get("depthMultiplier", 1)) if depthwise else 1
    lo.comment.append(
        f"filter {tdesc(filt)}; {PAD_NAMES[pad]}, stride {sh}x{sw}, dilation {dh}x{dw}"
        + (f", depth multiplier {dm}" if depthwise else "")
        + f", {ACT_NAMES.get(int(o.get('fusedActivationFunction', 0)), '?')}"
    )
    lo.arrays.append(CArray("int8_t", f"{p}_filter", filt.data.astype(np.int64).ravel()))
    suffix = "s16" if inp.dtype == "int16" else "s8"
    bias = add_bias(lo, p, graph, op, ctype="int64_t" if suffix == "s16" else "int32_t")
    add_requant(lo, p, mults, shifts)
    lo.params.append(("hx_conv_params", f"{p}_params",
                      f"{{{-inp.zero_point}, {out.zero_point}, {act_min}, {act_max}, {sh}, {sw}, "
                      f"{dh}, {dw}, {pad_h}, {pad_w}, {dm}}}"))
    fn = f"hx_depthwise_conv2d_{suffix}" if depthwise else f"hx_conv2d_{suffix}"
    lo.call = (f"{fn}(&{p}_params, &{p}_rq, (hx_dims){dims(inp.shape)}, {ptr(inp)}, "
               f"(hx_dims){dims(filt.shape)}, {p}_filter, {bias}, "
               f"(hx_dims){dims(out.shape)}, {ptr(out)});")


def _conv2d(graph: Graph, op: Op, lo: LoweredOp) -> None:
    _conv_like(graph, op, lo, depthwise=False)


def _depthwise(graph: Graph, op: Op, lo: LoweredOp) -> None:
    _conv_like(graph, op, lo, depthwise=True)


def _fully_connected(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, w, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    p = f"op{op.index}"
    if w.data is None:
        raise UnsupportedOp(f"op {op.index} (FULLY_CONNECTED) has non-constant weights")
    out_depth, accum = w.shape
    batches = inp.size // accum
    if inp.dtype == "float32":
        _fully_connected_f32(graph, op, lo, batches)
        return
    if inp.dtype == "int16":
        _check_16x8(op, w, inp, out)
    elif (inp.dtype, w.dtype, out.dtype) != ("int8", "int8", "int8"):
        raise _refuse(op, f"{inp.dtype} input with {w.dtype} weights and {out.dtype} output")
    mults, shifts = quant.fc_requant(inp.scale, [float(s) for s in w.scales], out.scale)
    act_min, act_max = fused_act_range(op, out)
    lo.comment.append(f"weights {tdesc(w)}; {batches} x {accum} -> {out_depth}, "
                      f"{ACT_NAMES.get(int(op.options.get('fusedActivationFunction', 0)), '?')}")
    lo.arrays.append(CArray("int8_t", f"{p}_weights", w.data.astype(np.int64).ravel()))
    suffix = "s16" if inp.dtype == "int16" else "s8"
    bias = add_bias(lo, p, graph, op, ctype="int64_t" if suffix == "s16" else "int32_t")
    add_requant(lo, p, mults, shifts)
    lo.params.append(("hx_fc_params", f"{p}_params",
                      f"{{{-inp.zero_point}, {-w.zero_point}, {out.zero_point}, "
                      f"{act_min}, {act_max}}}"))
    lo.call = (f"hx_fully_connected_{suffix}(&{p}_params, &{p}_rq, {batches}, {accum}, "
               f"{out_depth}, {ptr(inp)}, {p}_weights, {bias}, {ptr(out)});")


def _fully_connected_f32(graph: Graph, op: Op, lo: LoweredOp, batches: int) -> None:
    inp, w, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    if (w.dtype, out.dtype) != ("float32", "float32") or w.quantized:
        raise _refuse(op, f"float32 input with {w.dtype} weights and {out.dtype} output "
                      "(hybrid quantization)")
    p = f"op{op.index}"
    out_depth, accum = w.shape
    act_min, act_max = fused_act_range_f32(op)
    lo.comment.append(f"weights {tdesc(w)}; {batches} x {accum} -> {out_depth}, "
                      f"{ACT_NAMES.get(int(op.options.get('fusedActivationFunction', 0)), '?')}")
    lo.arrays.append(CArray("float", f"{p}_weights", w.data.astype(np.float32).ravel()))
    bias = add_bias(lo, p, graph, op, ctype="float")
    lo.params.append(("hx_fc_f32_params", f"{p}_params", f"{{{act_min}, {act_max}}}"))
    lo.call = (f"hx_fully_connected_f32(&{p}_params, {batches}, {accum}, {out_depth}, "
               f"{ptr(inp)}, {p}_weights, {bias}, {ptr(out)});")


def _pool(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if (inp.scale, inp.zero_point) != (out.scale, out.zero_point):
        raise UnsupportedOp(f"op {op.index} ({op.name}) rescales (input and output "
                            "quantization differ), which the builtin runtime does not do")
    o = op.options
    sh, sw = int(o.get("strideH", 1)), int(o.get("strideW", 1))
    fh, fw = int(o.get("filterHeight", 1)), int(o.get("filterWidth", 1))
    pad = int(o.get("padding", 0))
    _, pad_h = quant.conv_output_and_padding(inp.shape[1], fh, sh, 1, pad)
    _, pad_w = quant.conv_output_and_padding(inp.shape[2], fw, sw, 1, pad)
    act_min, act_max = fused_act_range(op, out)
    p = f"op{op.index}"
    lo.comment.append(f"window {fh}x{fw}, stride {sh}x{sw}, {PAD_NAMES[pad]}")
    lo.params.append(("hx_pool_params", f"{p}_params",
                      f"{{{sh}, {sw}, {fh}, {fw}, {pad_h}, {pad_w}, {act_min}, {act_max}}}"))
    fn = "hx_avg_pool_s8" if op.name == "AVERAGE_POOL_2D" else "hx_max_pool_s8"
    lo.call = (f"{fn}(&{p}_params, (hx_dims){dims(inp.shape)}, {ptr(inp)}, "
               f"(hx_dims){dims(out.shape)}, {ptr(out)});")


def _reshape(graph: Graph, op: Op, lo: LoweredOp) -> None:
    lo.comment.append("aliases its input in the arena: no code")
    lo.call = "/* nothing to do */"


def _softmax_s16(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if out.dtype != "int16" or inp.zero_point != 0 or abs(out.scale - 1 / 32768) > 1e-9 \
            or out.zero_point != 0:
        raise _refuse(op, f"int16 input (zero point {inp.zero_point}) with {out.dtype} output "
                      f"of scale {out.scale:g}, zero point {out.zero_point} (the int16 "
                      "softmax needs zero points 0 and output scale 1/32768)")
    beta = float(op.options.get("beta", 1.0))
    mult, shift = int16ops.softmax_int16_params(beta, inp.scale)
    exp_lut, recip_lut = int16ops.softmax_luts()
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


def _softmax(graph: Graph, op: Op, lo: LoweredOp) -> None:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    if inp.dtype == "int16":
        _softmax_s16(graph, op, lo)
        return
    wide = (inp.dtype, out.dtype) == ("int8", "int16")
    if (inp.dtype, out.dtype) != ("int8", "int8") and not wide:
        raise _refuse(op, f"{inp.dtype} input with {out.dtype} output")
    if wide and (abs(out.scale * 65536 - 1) > 1e-3 or out.zero_point != -32768):
        raise _refuse(op, f"int16 output of scale {out.scale:g}, zero point "
                      f"{out.zero_point} (needs 1/65536 and -32768)")
    if not wide and (abs(out.scale - 1 / 256) > 1e-9 or out.zero_point != -128):
        raise UnsupportedOp(f"op {op.index} (SOFTMAX): int8 output must have scale 1/256 and "
                            f"zero point -128, not {out.scale:g}/{out.zero_point}")
    beta = float(op.options.get("beta", 1.0))
    mult, shift, diff_min = quant.softmax_params(beta, inp.scale)
    depth = inp.shape[-1]
    p = f"op{op.index}"
    lo.comment.append(f"beta {beta:g}; {inp.size // depth} rows of {depth}")
    lo.params.append(("hx_softmax_params", f"{p}_params", f"{{{mult}, {shift}, {diff_min}}}"))
    fn = "hx_softmax_s8_s16" if wide else "hx_softmax_s8"
    lo.call = (f"{fn}(&{p}_params, {inp.size // depth}, {depth}, "
               f"{ptr(inp)}, {ptr(out)});")


LOWERINGS: dict[str, Lowering] = {
    "CONV_2D": _conv2d,
    "DEPTHWISE_CONV_2D": _depthwise,
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool,
    "RESHAPE": _reshape,
    "SOFTMAX": _softmax,
    **lower_elementwise.LOWERINGS,
    **lower_shape.LOWERINGS,
    **lower_recurrent.LOWERINGS,
}

# Activation dtypes each core op handles; the families declare their own.
_CORE_DTYPES: dict[str, frozenset[str]] = {
    "CONV_2D": frozenset({"int8", "int16"}),
    "DEPTHWISE_CONV_2D": frozenset({"int8", "int16"}),
    "FULLY_CONNECTED": frozenset({"int8", "int16", "float32"}),
    "AVERAGE_POOL_2D": frozenset({"int8"}),
    "MAX_POOL_2D": frozenset({"int8"}),
    "RESHAPE": frozenset({"int8", "int16", "float32"}),
    "SOFTMAX": frozenset({"int8", "int16"}),
}
DTYPES: dict[str, frozenset[str]] = {
    **_CORE_DTYPES,
    **getattr(lower_elementwise, "DTYPES", {}),
    **getattr(lower_shape, "DTYPES", {}),
    **getattr(lower_recurrent, "DTYPES", {}),
}


def check_supported(graph: Graph) -> None:
    """Refuse, before any build, a model the builtin runtime cannot run: an op without
    a lowering, an activation dtype the op's lowering does not declare, or a model
    input/output of a type the generated code cannot hold."""
    missing = sorted({op.name for op in graph.ops} - set(LOWERINGS))
    if missing:
        raise UnsupportedOp(
            f"{graph.path.name} uses op(s) the builtin runtime lacks: {', '.join(missing)}",
            hint=f"supported: {', '.join(sorted(LOWERINGS))}",
        )
    check_lowerable(graph)  # constant weights, fused activations (harness/lower_check.py)
    lacks = lacking(graph, {name: DTYPES.get(name, frozenset({"int8"})) for name in LOWERINGS})
    if lacks:
        op, dtype = lacks[0]
        more = f" (and {len(lacks) - 1} more op(s))" if len(lacks) > 1 else ""
        raise UnsupportedType(
            f"op {op.index} ({op.name}) with {dtype} activations: not supported by the "
            f"builtin runtime{more}",
            hint=f"{op.name} handles {', '.join(sorted(DTYPES.get(op.name, {'int8'})))}",
        )
    for t in graph.input_tensors() + graph.output_tensors():
        if t.dtype not in C_TYPES:
            raise UnsupportedType(f"model input/output {t.name!r} is {t.dtype}, which the "
                                  "builtin runtime cannot hold")


def lower_graph(graph: Graph) -> list[LoweredOp]:
    """Lower every op; the result is what the model template renders."""
    check_supported(graph)
    lowered = []
    for op in graph.ops:
        ins = [graph.tensors[i] for i in op.inputs if i >= 0 and not graph.tensors[i].is_const]
        outs = [graph.tensors[i] for i in op.outputs]
        lo = LoweredOp(op.index, op.name, [
            f"{op.name} (op {op.index}): "
            + ", ".join(tdesc(t) for t in ins) + " -> " + ", ".join(tdesc(t) for t in outs)
        ])
        LOWERINGS[op.name](graph, op, lo)
        lowered.append(lo)
    return lowered
