"""What the shape ops' C emitters and numpy kernels share: shapes as the 4-D ``hx_dims``
the kernels in firmware/kernels/hx_shape.c take (leading dimensions 1), constant
operands, and the builtin runtime's refusal of an op that would rescale.

The host resolves every op's geometry (masks, negative indices, permutations,
reduced axes) into plain per-dimension numbers, so the firmware never does; the
numpy kernels use the same numbers. Pure data movement is dtype-agnostic (int8
and int16 alike).
"""

from __future__ import annotations

import numpy as np

from harness.errors import UnsupportedOp
from harness.model.graph import Graph, Op, Tensor

Dims4 = tuple[int, int, int, int]

INT8_16 = frozenset({"int8", "int16"})  # the ops with int16 kernels as well


def dims4(shape: tuple[int, ...] | list[int], what: str = "tensor") -> Dims4:
    """``shape`` with leading 1s up to rank 4; refuses rank 5 and above."""
    s = [int(d) for d in shape]
    if len(s) > 4:
        raise UnsupportedOp(f"{what} has rank {len(s)}; the builtin shape kernels take up to 4")
    s = [1] * (4 - len(s)) + s
    return s[0], s[1], s[2], s[3]


def const_operand(graph: Graph, op: Op, k: int, what: str) -> np.ndarray:
    """Input ``k``'s constant values as int64; UnsupportedOp when it is computed."""
    t = graph.tensors[op.inputs[k]]
    if t.data is None:
        raise UnsupportedOp(f"op {op.index} ({op.name}): the {what} must be constant")
    return t.data.astype(np.int64)


def same_quant(op: Op, a: Tensor, b: Tensor) -> None:
    """The builtin kernels move bytes: input and output must share scale and zero point."""
    if (np.float32(a.scale), a.zero_point) != (np.float32(b.scale), b.zero_point):
        raise UnsupportedOp(f"op {op.index} ({op.name}) rescales (input {a.scale:g}/"
                            f"{a.zero_point}, output {b.scale:g}/{b.zero_point}), which the "
                            "builtin runtime does not do")
