"""AVERAGE_POOL_2D / MAX_POOL_2D in NumPy integer arithmetic (bit-exact with LiteRT
BUILTIN_REF and firmware/kernels/hx_pool.c)."""

from __future__ import annotations

import numpy as np

from harness.ops.plan import OpPlan
from harness.ops.pool.params import pool_params
from harness.quant.geometry import Windows


def _patches(plan: OpPlan, x: np.ndarray, fill: int) -> tuple[np.ndarray, Windows]:
    """[N, OH, OW, C, KH * KW] windows (``fill`` outside the input) and their geometry."""
    key = ("windows", x.shape)
    if key not in plan.cache:
        prm = pool_params(plan.graph, plan.op)
        plan.cache[key] = Windows.of(x.shape[1:3], prm.filter_hw, prm.stride, (1, 1),
                                     prm.padding)
    win = plan.cache[key]
    patches = win.patches(x, fill)
    return patches.reshape(*patches.shape[:4], -1), win


def average_pool2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """AVERAGE_POOL_2D over the in-bounds part of each window: the sum divided by
    the count, rounded half away from zero (in every requant mode: LiteRT's
    optimized and XNNPACK int8 paths give the same bits)."""
    patches, win = _patches(plan, ins[0], 0)  # zeros outside add nothing to the sum
    total = patches.sum(axis=-1, dtype=np.int64)
    count = win.valid.sum(axis=(2, 3)).astype(np.int64)[None, :, :, None]
    avg = np.sign(total) * ((np.abs(total) + count // 2) // count)
    if trace is not None:
        trace.update(sum=total, count=count, average=avg, act_range=plan.act)
    return np.clip(avg, *plan.act).astype(np.int8)


def max_pool2d(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """MAX_POOL_2D over the in-bounds part of each window."""
    patches, _ = _patches(plan, ins[0], -128)  # -128 outside never beats an input value
    best = patches.max(axis=-1)
    if trace is not None:
        trace.update(max=best, act_range=plan.act)
    return np.clip(best, *plan.act).astype(np.int8)
