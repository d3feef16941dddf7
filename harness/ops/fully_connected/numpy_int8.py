"""FULLY_CONNECTED in NumPy: integer (int8, 16x8) bit-exact with LiteRT BUILTIN_REF and
firmware/kernels/hx_fully_connected.c, and float32 with the arithmetic of LiteRT's
reference float kernel.

float32: each output is ``sum(input[d] * weight[d])`` accumulated in float32 in
order (every product and every partial sum rounded to float32, no fused
multiply-add), then ``+ bias`` and the fused activation clamp. The loop runs over
the depth, vectorised over batches and units, so the rounding order is the C
loop's.
"""

from __future__ import annotations

import numpy as np

from harness.ops.plan import OpPlan
from harness.ops.requant import finish
from harness.quant.ranges import ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1


def fully_connected(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """Rows of ``depth`` inputs times weights [units, depth]."""
    if plan.tensor(plan.op.outputs[0]).dtype == "float32":
        return fully_connected_f32(plan, ins, trace)
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    in_zp = plan.tensor(plan.op.inputs[0]).zero_point
    w_zp = plan.tensor(plan.op.inputs[1]).zero_point
    units, depth = w.shape
    rows = x.reshape(-1, depth).astype(np.float64) - in_zp
    acc = rows @ (w.astype(np.float64) - w_zp).T
    return finish(plan, acc.astype(np.int64), bias, trace)


f32 = np.float32
_CLAMPS = {ACT_NONE: (-np.inf, np.inf), ACT_RELU: (0.0, np.inf),
           ACT_RELU_N1_TO_1: (-1.0, 1.0), ACT_RELU6: (0.0, 6.0)}


def float_clamp(code: int) -> tuple[float, float]:
    """The fused activation's float range (ValueError for ones LiteRT fuses differently)."""
    if code not in _CLAMPS:
        raise ValueError(f"fused activation {code} is not supported on float ops")
    return _CLAMPS[code]


def fully_connected_f32(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """float32 FULLY_CONNECTED: rows of ``depth`` inputs times weights [units, depth]."""
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    units, depth = w.shape
    rows = np.asarray(x, f32).reshape(-1, depth)
    wt = np.asarray(w, f32)
    acc = np.zeros((rows.shape[0], units), f32)
    for d in range(depth):
        acc = acc + rows[:, d:d + 1] * wt[None, :, d]
    if bias is not None:
        acc = acc + np.asarray(bias, f32).reshape(1, units)
    lo, hi = float_clamp(plan.op.fused_activation)
    if trace is not None:
        trace.update(acc=acc, act_range=(lo, hi))
    return np.clip(acc, f32(lo), f32(hi)).astype(f32)
