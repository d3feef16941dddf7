"""Requantization of the accumulating ops (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED):
int32 (int64 for 16x8) accumulators to output integers, in each rounding mode.

* ``"reference"`` - exactly LiteRT BUILTIN_REF: CONV_2D and DEPTHWISE_CONV_2D
  round twice (double rounding), FULLY_CONNECTED (per-tensor and per-channel)
  rounds once (single rounding).
* ``"double"`` - TFLite's double rounding everywhere.
* ``"single"`` - one 64-bit product and one rounding shift everywhere (the C
  kernels built with ``-DHX_REQUANT_SINGLE_ROUNDING``).
* ``"float"`` - XNNPACK-style fp32: ``acc * float32(in_scale * w_scale / out_scale)``
  (float32 arithmetic), rounded half to even.

int16 activations (16x8) use LiteRT's 64-bit requantization in every mode but
``"float"``: ``"int64"`` for the convolutions, ``"single64"`` for FULLY_CONNECTED.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.model.graph import Tensor
from harness.ops.plan import REQUANT_MODES, OpPlan
from harness.quant.fixedpoint import (
    requant_double,
    requant_float,
    requant_int64,
    requant_single,
    requant_single_wide,
    wrap32,
)
from harness.quant.multiplier import conv_requant, fc_requant


@dataclass
class Requant:
    """How one op turns accumulators into output integers (before the zero point).

    ``multiplier``/``shift``/``scale`` hold one entry per output channel (or one
    for per-tensor weights) and broadcast along the last axis.
    """

    rounding: str  # "double", "single", "float"; 16x8: "int64" (convs) or "single64" (FC)
    multiplier: np.ndarray
    shift: np.ndarray
    scale: np.ndarray  # float32 effective scale, for "float"

    def apply(self, acc: np.ndarray) -> np.ndarray:
        if self.rounding == "double":
            return requant_double(acc, self.multiplier, self.shift)
        if self.rounding == "single":
            return requant_single(acc, self.multiplier, self.shift)
        if self.rounding == "int64":
            return requant_int64(acc, self.multiplier, self.shift)
        if self.rounding == "single64":
            return requant_single_wide(acc, self.multiplier, self.shift)
        return requant_float(acc, self.scale)


def make_requant(op_name: str, inp: Tensor, weights: Tensor, out: Tensor,
                 requant: str = "reference") -> Requant:
    """The :class:`Requant` of a CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED."""
    if requant not in REQUANT_MODES:
        raise ValueError(f"requant must be one of {REQUANT_MODES}, not {requant!r}")
    w_scales = [float(s) for s in weights.scales]
    calc = fc_requant if op_name == "FULLY_CONNECTED" else conv_requant
    mults, shifts = calc(inp.scale, w_scales, out.scale)
    rounding = requant
    if requant == "reference":  # LiteRT: FULLY_CONNECTED rounds once, convolutions twice
        rounding = "single" if op_name == "FULLY_CONNECTED" else "double"
    if inp.dtype == "int16" and requant != "float":  # 16x8: 64-bit accumulators
        rounding = "single64" if op_name == "FULLY_CONNECTED" else "int64"
    f32 = np.float32
    scale = np.array([f32(f32(inp.scale) * f32(s)) / f32(out.scale) for s in w_scales], f32)
    return Requant(rounding, np.array(mults, np.int64), np.array(shifts, np.int64), scale)


def plan_requant(plan: OpPlan) -> Requant:
    """The op's Requant, worked out once per plan (input 0, weights at input 1)."""
    if "requant" not in plan.cache:
        op = plan.op
        plan.cache["requant"] = make_requant(op.name, plan.tensor(op.inputs[0]),
                                             plan.tensor(op.inputs[1]),
                                             plan.tensor(op.outputs[0]), plan.requant)
    return plan.cache["requant"]


def finish(plan: OpPlan, acc: np.ndarray, bias: np.ndarray | None,
           trace: dict | None) -> np.ndarray:
    """Bias, int32 wrap, requantization, output zero point, activation clamp."""
    rq = plan_requant(plan)
    out_t = plan.tensor(plan.op.outputs[0])
    if bias is not None:
        acc = acc + bias.astype(np.int64).reshape(-1)
    if out_t.dtype == "int8":
        acc = wrap32(acc)  # int8 kernels accumulate in int32, 16x8 ones in int64
    scaled = rq.apply(acc)
    zp = out_t.zero_point
    out = np.clip(scaled + zp, *plan.act).astype(out_t.dtype)
    if trace is not None:
        trace.update(acc=acc, scaled=scaled, rounding=rq.rounding,
                     multiplier=rq.multiplier, shift=rq.shift,
                     float_scale=rq.scale, output_zero_point=zp, act_range=plan.act)
    return out
