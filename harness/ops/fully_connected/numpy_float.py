"""FULLY_CONNECTED in float64 with dequantized weights (numpy-float)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.floating import activation


def fully_connected(graph: Graph, op: Op, ins: list) -> np.ndarray:
    x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    y = x.reshape(-1, w.shape[1]) @ w.T
    if b is not None:
        y = y + b
    out_shape = graph.tensors[op.outputs[0]].shape
    return activation(y, op.fused_activation).reshape(out_shape)
