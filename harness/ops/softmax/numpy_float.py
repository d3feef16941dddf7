"""SOFTMAX in float64 (numpy-float)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op


def softmax(graph: Graph, op: Op, ins: list) -> np.ndarray:
    z = op.float_option("beta", 1.0) * ins[0]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
