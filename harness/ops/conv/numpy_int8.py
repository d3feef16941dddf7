"""CONV_2D / DEPTHWISE_CONV_2D in NumPy integer arithmetic, bit-exact with LiteRT
BUILTIN_REF and firmware/kernels/hx_conv.c.

Accumulation is exact: int8 differences and weights are multiplied in float64
(every partial sum stays far below 2**53), then converted to int64 and wrapped
to int32 like the C accumulators; ``harness.ops.requant.finish`` requantizes.
"""

from __future__ import annotations

import numpy as np

from harness.ops.conv.params import conv_params
from harness.ops.plan import OpPlan
from harness.ops.requant import finish
from harness.quant.geometry import Windows


def windows(plan: OpPlan, x: np.ndarray, k_hw: tuple[int, int]) -> Windows:
    """Where the filter windows fall on an input of ``x``'s shape (kept per shape)."""
    key = ("windows", x.shape, k_hw)
    if key not in plan.cache:
        prm = conv_params(plan.graph, plan.op)
        plan.cache[key] = Windows.of(x.shape[1:3], k_hw, prm.stride, prm.dilation, prm.padding)
    return plan.cache[key]


def conv2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """CONV_2D, NHWC input, OHWI filter. Padding holds the input zero point,
    which contributes nothing once the zero point is subtracted."""
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    zp = plan.tensor(plan.op.inputs[0]).zero_point
    oc, kh, kw, c = w.shape
    patches = windows(plan, x, (kh, kw)).patches(x, zp)  # [N, OH, OW, C, KH, KW]
    n, oh, ow = patches.shape[:3]
    cols = patches.reshape(n * oh * ow, c * kh * kw).astype(np.float64) - zp
    acc = cols @ w.transpose(0, 3, 1, 2).reshape(oc, -1).astype(np.float64).T
    return finish(plan, acc.astype(np.int64).reshape(n, oh, ow, oc), bias, trace)


def depthwise_conv2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """DEPTHWISE_CONV_2D: output channel ``c * multiplier + m`` filters input channel ``c``."""
    x, w, bias = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    zp = plan.tensor(plan.op.inputs[0]).zero_point
    _, kh, kw, oc = w.shape
    c = x.shape[3]
    mult = oc // c
    patches = windows(plan, x, (kh, kw)).patches(x, zp)  # [N, OH, OW, C, KH, KW]
    n, oh, ow = patches.shape[:3]
    # One batched matmul over the channels: [C, P, K] @ [C, K, M] (P windows, K taps).
    cols = patches.transpose(3, 0, 1, 2, 4, 5).reshape(c, n * oh * ow, kh * kw)
    wf = w.reshape(kh * kw, c, mult).transpose(1, 0, 2).astype(np.float64)
    acc = (cols.astype(np.float64) - zp) @ wf  # [C, P, M], exact: sums stay below 2**53
    acc = acc.transpose(1, 0, 2).reshape(n, oh, ow, oc)
    return finish(plan, acc.astype(np.int64), bias, trace)
