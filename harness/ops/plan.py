"""OpPlan: one op of a graph with its data-independent parameters worked out once.

The numpy kernels take an OpPlan, the op's input arrays and an optional trace
dict (which receives the intermediates). Parameters a kernel derives from the
model alone (multipliers, tables, window indices) are kept in ``cache`` so a
graph run many times computes them once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.model.graph import Graph, Op, Tensor
from harness.quant.ranges import ACT_RELU6, INT_RANGES, activation_range

#: How the requantizing kernels round (numpy-int8 only; the C picks at compile time):
#: "reference" is LiteRT BUILTIN_REF's choice per op, the others force one way.
REQUANT_MODES = ("reference", "double", "single", "float")

Arrays = list[np.ndarray | None]


@dataclass
class OpPlan:
    """One op, the requantization mode to model, and what its kernel computed once."""

    graph: Graph
    op: Op
    requant: str = "reference"
    act: tuple[int, int] = (-128, 127)  # the fused activation clamp, integer outputs
    cache: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.requant not in REQUANT_MODES:
            raise ValueError(f"requant must be one of {REQUANT_MODES}, not {self.requant!r}")
        out = self.tensor(self.op.outputs[0])
        code = self.op.fused_activation
        if out.dtype in INT_RANGES and code <= ACT_RELU6:  # LSTM's TANH (4): no clamp
            self.act = activation_range(code, out.scale, out.zero_point, *INT_RANGES[out.dtype])

    def tensor(self, index: int) -> Tensor:
        return self.graph.tensors[index]

    def inputs(self, given: Arrays) -> Arrays:
        """The op's input arrays: ``given`` where not None, else constant data."""
        arrays: Arrays = []
        for k, index in enumerate(self.op.inputs):
            arr = given[k] if k < len(given) else None
            if arr is None and index >= 0 and not self.tensor(index).is_variable:
                arr = self.tensor(index).data  # variable tensors: state the kernel keeps
                if arr is None:
                    raise ValueError(f"op {self.op.index} ({self.op.name}): input {k} "
                                     f"(tensor {index}) is neither given nor constant")
            arrays.append(None if arr is None else np.asarray(arr))
        return arrays
