"""AVERAGE_POOL_2D / MAX_POOL_2D in float64 (numpy-float)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.floating import activation, windows


def _pool(op: Op, ins: list, kind: str) -> np.ndarray:
    patches, valid = windows(ins[0], op, op.filter_hw, (1, 1),
                             -np.inf if kind == "max" else 0.0)
    if kind == "max":
        y = patches.max(axis=(3, 4))
    else:
        y = patches.sum(axis=(3, 4)) / valid.sum(axis=(2, 3))[None, :, :, None]
    return activation(y, op.fused_activation)


def average_pool2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    return _pool(op, ins, "avg")


def max_pool2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    return _pool(op, ins, "max")
