"""NumPy float32 kernels for the numpy-int8 reference (float models and float
model inputs/outputs), the arithmetic of LiteRT's reference float kernels.

FULLY_CONNECTED: each output is ``sum(input[d] * weight[d])`` accumulated in
float32 in order (every product and every partial sum rounded to float32, no
fused multiply-add), then ``+ bias`` and the fused activation clamp. The loop
runs over the depth, vectorised over batches and units, so the rounding order
is the C loop's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from harness import quant

if TYPE_CHECKING:
    from harness.int8ops import OpPlan

f32 = np.float32
_CLAMPS = {quant.ACT_NONE: (-np.inf, np.inf), quant.ACT_RELU: (0.0, np.inf),
           quant.ACT_RELU_N1_TO_1: (-1.0, 1.0), quant.ACT_RELU6: (0.0, 6.0)}


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
    lo, hi = float_clamp(int(plan.op.options.get("fusedActivationFunction", 0) or 0))
    if trace is not None:
        trace.update(acc=acc, act_range=(lo, hi))
    return np.clip(acc, f32(lo), f32(hi)).astype(f32)
