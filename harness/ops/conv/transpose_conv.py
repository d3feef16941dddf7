"""TRANSPOSE_CONV: each input pixel scatters ``input x filter`` into the output window it
feeds; int8 (int32 sums, double rounding) and 16x8 (int64 sums, the multiplier rounded
to 16 bits: :func:`harness.quant.fixedpoint.requant_int64`), per-channel weights,
SAME/VALID, strides, fused clamps. hx_transpose_conv_s8 / _s16 in
firmware/kernels/hx_matmul.c; the numpy kernel is bit-exact with them and LiteRT
BUILTIN_REF. The padding is that of the forward convolution from the output back to
the input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph, Op
from harness.ops.c_emit import (
    ACT_NAMES,
    PAD_NAMES,
    CArray,
    LoweredOp,
    add_bias,
    add_requant,
    dims,
    ptr,
    single_dtype,
    tdesc,
)
from harness.ops.checks import (
    FUSED,
    PADDINGS,
    check_bias,
    const_ints,
    enum_option,
    invalid,
    need_four_d,
    need_positive,
    need_quantized_weights,
    operands,
    output_of,
)
from harness.ops.lowerable import clamp_only
from harness.ops.plan import OpPlan
from harness.quant.fixedpoint import requant_double, requant_int64
from harness.quant.geometry import conv_output_and_padding
from harness.quant.multiplier import conv_requant
from harness.quant.ranges import INT_RANGES, activation_range

DTYPES = frozenset({"int8", "int16"})


def check_transpose_conv(graph: Graph, op: Op) -> None:
    """Operands (output shape, filter [O, KH, KW, I], input, bias) that fit the output."""
    shape_t, filt, inp, *_ = operands(graph, op, 3)
    out = output_of(graph, op)
    need_four_d(op, inp, filt, out)
    o = op.options
    need_positive(op, strideH=int(o.get("strideH", 1)), strideW=int(o.get("strideW", 1)),
                  filter_height=filt.shape[1], filter_width=filt.shape[2])
    enum_option(op, "padding", PADDINGS)
    enum_option(op, "fusedActivationFunction", FUSED)
    need_quantized_weights(op, inp, filt)
    if shape_t.size != 4 or np.dtype(shape_t.dtype).kind not in "iu":
        raise invalid(op, f"output shape operand (tensor {shape_t.index}) is {shape_t.dtype} "
                      f"{shape_t.shape}, not 4 integers")
    want = const_ints(op, shape_t, "output shape")
    if want is not None and tuple(want.tolist()) != out.shape:
        raise invalid(op, f"output shape operand {want.tolist()} differs from output "
                      f"{out.shape}")
    if filt.shape[3] != inp.shape[3] or filt.shape[0] != out.shape[3]:
        raise invalid(op, f"filter {filt.shape} does not fit input {inp.shape} and output "
                      f"{out.shape}")
    if len(op.inputs) > 3 and op.inputs[3] >= 0:
        check_bias(op, graph.tensors[op.inputs[3]], out.shape[3], inp)


def lowerable_transpose_conv(graph: Graph, op: Op) -> None:
    """A clamp as fused activation (the weight and 16x8 refusals come with the C)."""
    clamp_only(op)


@dataclass(frozen=True)
class TransposeConvParams:
    """Geometry, requantization and clamp of one transposed convolution."""

    stride: tuple[int, int]
    pad: tuple[int, int]  # rows, columns cut from the front of the full scatter
    multipliers: list[int]  # Q0.31, one per output channel (or one per tensor)
    shifts: list[int]
    act: tuple[int, int]  # the fused activation clamp in the output's integers


def transpose_conv_params(graph: Graph, op: Op) -> TransposeConvParams:
    """Strides, the padding of the forward convolution from the output back to the
    input, the per-channel requantization and the clamp (int8 or int16 output)."""
    filt, inp = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
    out = graph.tensors[op.outputs[0]]
    sh, sw = op.stride
    _, pad_h = conv_output_and_padding(out.shape[1], filt.shape[1], sh, 1, op.padding)
    _, pad_w = conv_output_and_padding(out.shape[2], filt.shape[2], sw, 1, op.padding)
    mults, shifts = conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    act = activation_range(op.fused_activation, out.scale, out.zero_point,
                           *INT_RANGES[out.dtype])
    return TransposeConvParams((sh, sw), (pad_h, pad_w), mults, shifts, act)


def emit_transpose_conv(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """One hx_transpose_conv_s8 / _s16 call with filter, bias and requantization in flash."""
    filt, inp = graph.tensors[op.inputs[1]], graph.tensors[op.inputs[2]]
    out = graph.tensors[op.outputs[0]]
    dtype = single_dtype(graph, op, [inp, out], DTYPES)
    if filt.data is None or filt.dtype != "int8":
        raise UnsupportedOp(f"op {op.index} (TRANSPOSE_CONV) needs constant int8 weights")
    if dtype == "int16" and (inp.zero_point or out.zero_point):
        raise UnsupportedType(f"op {op.index} (TRANSPOSE_CONV): int16 activations need zero "
                              "point 0 (16x8 scheme)")
    prm = transpose_conv_params(graph, op)
    (sh, sw), (pad_h, pad_w), (act_min, act_max) = prm.stride, prm.pad, prm.act
    p = f"op{op.index}"
    lo.comment.append(f"filter {tdesc(filt)}; {PAD_NAMES[op.padding]}, stride {sh}x{sw}, "
                      f"pad {pad_h}x{pad_w}, {ACT_NAMES.get(op.fused_activation, '?')}")
    lo.arrays.append(CArray("int8_t", f"{p}_filter", filt.data.astype(np.int64).ravel()))
    suffix = "s16" if dtype == "int16" else "s8"
    bias = add_bias(lo, p, graph, op, k=3, ctype="int64_t" if suffix == "s16" else "int32_t")
    add_requant(lo, p, prm.multipliers, prm.shifts)
    lo.params.append(("hx_conv_params", f"{p}_params",
                      f"{{{-inp.zero_point}, {out.zero_point}, {act_min}, {act_max}, {sh}, "
                      f"{sw}, 1, 1, {pad_h}, {pad_w}, 1}}"))
    lo.call = (f"hx_transpose_conv_{suffix}(&{p}_params, &{p}_rq, "
               f"(hx_dims){dims(inp.shape)}, {ptr(inp)}, (hx_dims){dims(filt.shape)}, "
               f"{p}_filter, {bias}, (hx_dims){dims(out.shape)}, {ptr(out)});")


def transpose_conv_int8(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """TRANSPOSE_CONV: each input pixel scatters ``input x filter`` into the
    output window it feeds; int8 (int32 sums, double rounding) or 16x8
    (int64 sums, :func:`requant_int64`)."""
    g, op = plan.graph, plan.op
    w, x = ins[1], ins[2]
    bias = ins[3] if len(ins) > 3 else None
    inp, out = g.tensors[op.inputs[2]], g.tensors[op.outputs[0]]
    prm = transpose_conv_params(g, op)
    (sh, sw), (pad_h, pad_w) = prm.stride, prm.pad
    n, ih, iw, _ = x.shape
    oc, kh, kw, _ = w.shape
    oh, ow = out.shape[1], out.shape[2]
    full_h = max((ih - 1) * sh + kh, pad_h + oh)
    full_w = max((iw - 1) * sw + kw, pad_w + ow)
    acc = np.zeros((n, full_h, full_w, oc), np.int64)
    xc = x.astype(np.int64) - inp.zero_point
    for ky in range(kh):
        for kx in range(kw):
            contrib = np.einsum("nhwc,oc->nhwo", xc, w[:, ky, kx, :].astype(np.int64))
            acc[:, ky:ky + (ih - 1) * sh + 1:sh, kx:kx + (iw - 1) * sw + 1:sw] += contrib
    acc = acc[:, pad_h:pad_h + oh, pad_w:pad_w + ow]
    if bias is not None:
        acc = acc + bias.astype(np.int64).reshape(-1)
    mults, shifts = np.array(prm.multipliers), np.array(prm.shifts)
    if out.dtype == "int16":
        scaled = requant_int64(acc, mults, shifts)
    else:
        scaled = requant_double(acc, mults, shifts) + out.zero_point
    if trace is not None:
        trace.update(acc=acc, scaled=scaled, multiplier=prm.multipliers, shift=prm.shifts,
                     act_range=prm.act)
    return np.clip(scaled, *prm.act).astype(np.dtype(out.dtype))
