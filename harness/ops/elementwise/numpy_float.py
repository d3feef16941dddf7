"""The elementwise ops in float64 on dequantized values (numpy-float)."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op


def minmax(graph: Graph, op: Op, ins: list) -> np.ndarray:
    """MAXIMUM / MINIMUM of the real values, broadcast."""
    pick = np.maximum if op.name == "MAXIMUM" else np.minimum
    return pick(ins[0], ins[1])
