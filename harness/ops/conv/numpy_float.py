"""CONV_2D / DEPTHWISE_CONV_2D in float64 with dequantized weights (numpy-float)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.floating import activation, windows


def conv2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    patches, _ = windows(x, op, w.shape[1:3], op.dilation, 0.0)
    y = np.einsum("nhwijc,oijc->nhwo", patches, w)
    if b is not None:
        y = y + b
    return activation(y, op.fused_activation)


def depthwise_conv2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    dm = op.int_option("depthMultiplier", 1)
    patches, _ = windows(x, op, w.shape[1:3], op.dilation, 0.0)
    patches = np.repeat(patches, dm, axis=-1)  # input channel c feeds outputs c*dm .. c*dm+dm-1
    y = np.einsum("nhwijc,ijc->nhwc", patches, w[0])
    if b is not None:
        y = y + b
    return activation(y, op.fused_activation)
