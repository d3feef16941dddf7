"""CONV_2D / DEPTHWISE_CONV_2D in C: hx_conv2d_s8/_s16, hx_depthwise_conv2d_s8/_s16
(firmware/kernels/hx_conv.c) with the filter, bias and per-channel requantization
in flash."""

from __future__ import annotations

import numpy as np

from harness.errors import BadInput
from harness.model.graph import Graph, Op
from harness.ops.c_emit import (
    ACT_NAMES,
    PAD_NAMES,
    CArray,
    LoweredOp,
    add_bias,
    add_requant,
    check_16x8,
    dims,
    fused_act_range,
    ptr,
    refuse,
    tdesc,
)
from harness.ops.conv.params import conv_params


def emit_conv(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One call of the s8 (int8) or s16 (16x8) convolution kernel."""
    inp, filt, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    depthwise = op.name == "DEPTHWISE_CONV_2D"
    prm = conv_params(graph, op)
    (sh, sw), (dh, dw), (pad_h, pad_w) = prm.stride, prm.dilation, prm.pad_before
    if prm.out_hw != tuple(out.shape[1:3]):
        raise BadInput(f"op {op.index} ({op.name}): output shape {out.shape} does not match "
                       f"the computed {prm.out_hw[0]}x{prm.out_hw[1]}")
    if inp.dtype == "int16":
        check_16x8(op, filt, inp, out)
    elif (inp.dtype, filt.dtype, out.dtype) != ("int8", "int8", "int8"):
        raise refuse(op, f"{inp.dtype} input with {filt.dtype} filter and {out.dtype} output")
    act_min, act_max = fused_act_range(op, out)
    p = f"op{op.index}"
    lo.comment.append(
        f"filter {tdesc(filt)}; {PAD_NAMES[prm.padding]}, stride {sh}x{sw}, dilation {dh}x{dw}"
        + (f", depth multiplier {prm.depth_multiplier}" if depthwise else "")
        + f", {ACT_NAMES.get(op.fused_activation, '?')}"
    )
    lo.arrays.append(CArray("int8_t", f"{p}_filter", filt.data.astype(np.int64).ravel()))
    suffix = "s16" if inp.dtype == "int16" else "s8"
    bias = add_bias(lo, p, graph, op, ctype="int64_t" if suffix == "s16" else "int32_t")
    add_requant(lo, p, prm.multipliers, prm.shifts)
    lo.params.append(("hx_conv_params", f"{p}_params",
                      f"{{{-inp.zero_point}, {out.zero_point}, {act_min}, {act_max}, {sh}, {sw}, "
                      f"{dh}, {dw}, {pad_h}, {pad_w}, {prm.depth_multiplier}}}"))
    fn = f"hx_depthwise_conv2d_{suffix}" if depthwise else f"hx_conv2d_{suffix}"
    lo.call = (f"{fn}(&{p}_params, &{p}_rq, (hx_dims){dims(inp.shape)}, {ptr(inp)}, "
               f"(hx_dims){dims(filt.shape)}, {p}_filter, {bias}, "
               f"(hx_dims){dims(out.shape)}, {ptr(out)});")
