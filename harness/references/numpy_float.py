"""`numpy-float`: the graph in float64 with dequantized weights and biases."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.model import parse_model
from harness.references.base import Reference, ReferenceUnavailable
from harness.references.floatops import FLOAT_OPS, const_value, dequantize


class NumpyFloat(Reference):
    name = "numpy-float"
    description = "float64 NumPy with dequantized weights: the network free of quantization"
    real_valued = True

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        try:
            self.graph = parse_model(model_path)
        except HarnessError as exc:
            raise ReferenceUnavailable(str(exc)) from None
        missing = sorted({op.name for op in self.graph.ops} - set(FLOAT_OPS))
        if missing:
            raise ReferenceUnavailable(f"no float implementation of {', '.join(missing)}")
        self._last: dict[int, np.ndarray] = {}

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        g = self.graph
        values: dict[int, np.ndarray] = {}
        for index, data in zip(g.inputs, inputs, strict=True):
            values[index] = dequantize(g.tensors[index], data)
        for op in g.ops:
            ins = [values[i] if i in values else const_value(g, i) for i in op.inputs]
            values[op.outputs[0]] = FLOAT_OPS[op.name](g, op, ins)
        self._last = values
        return [values[i] for i in g.outputs]

    def tensors(self) -> dict[int, np.ndarray]:
        return dict(self._last)
