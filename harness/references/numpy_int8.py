"""`numpy-int8`: the graph in vectorised NumPy integer arithmetic.

Bit-exact with LiteRT's reference kernels (BUILTIN_REF) and the builtin
runtime's C kernels, without either: readable NumPy (harness/ops/*/numpy_int8.py) whose
intermediates can be inspected. Subclasses may set ``requant`` to another mode
of :data:`harness.ops.plan.REQUANT_MODES` to model a different rounding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.ops.validate import load_model
from harness.references.base import Reference, ReferenceUnavailable


class NumpyInt8(Reference):
    name = "numpy-int8"
    chain_position = 2
    description = ("vectorised NumPy int8 kernels (LiteRT reference arithmetic), "
                   "every intermediate inspectable")
    real_valued = False
    requant = "reference"

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        # in the worker process only: the kernels import on first use
        from harness.ops.interpreter import Int8Interpreter, unsupported

        try:
            graph = load_model(model_path)
        except HarnessError as exc:
            raise ReferenceUnavailable(str(exc)) from None
        missing = unsupported(graph)
        if missing:
            raise ReferenceUnavailable(f"no NumPy int8 implementation of {', '.join(missing)}")
        try:
            self.interp = Int8Interpreter(graph, self.requant)
        except (ValueError, NotImplementedError) as exc:
            raise ReferenceUnavailable(str(exc)) from None
        self.graph = graph
        self.per_layer = per_layer
        self._last: dict[int, np.ndarray] = {}

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        outputs, values = self.interp.run(inputs)
        self._last = values
        return [np.array(o) for o in outputs]

    def tensors(self) -> dict[int, np.ndarray]:
        return dict(self._last)
