"""`numpy-float`: the graph in float64 with dequantized weights and biases.

QUANTIZE and DEQUANTIZE only change how a value is stored: in float they are the
identity, so a model with float inputs and outputs (the converter's default) runs too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.ops.floating import const_value, dequantize
from harness.ops.registry import OPS
from harness.ops.validate import load_model
from harness.references.base import Reference, ReferenceUnavailable

CONVERSIONS = {"QUANTIZE", "DEQUANTIZE"}


class NumpyFloat(Reference):
    name = "numpy-float"
    chain_position = 1
    description = "float64 NumPy with dequantized weights: the network free of quantization"
    real_valued = True

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        try:
            self.graph = load_model(model_path)
        except HarnessError as exc:
            raise ReferenceUnavailable(str(exc)) from None
        missing = sorted({op.name for op in self.graph.ops if op.name not in CONVERSIONS and (
            op.name not in OPS or OPS[op.name].numpy_float is None)})
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
            values[op.outputs[0]] = (ins[0] if op.name in CONVERSIONS
                                     else OPS[op.name].numpy_float(g, op, ins))
        self._last = values
        return [values[i] for i in g.outputs]

    def tensors(self) -> dict[int, np.ndarray]:
        return dict(self._last)
