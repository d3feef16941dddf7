"""LiteRT references: `litert-ref` (BUILTIN_REF kernels) and `litert` (defaults, XNNPACK)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Reference, ReferenceUnavailable


class LiteRTRef(Reference):
    name = "litert-ref"
    description = "LiteRT with TFLite's reference kernels (OpResolverType.BUILTIN_REF)"
    resolver = "BUILTIN_REF"

    def load(self, model_path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        try:
            self.interp = Interpreter(
                model_path=str(model_path),
                experimental_op_resolver_type=getattr(OpResolverType, self.resolver),
            )
            self.interp.allocate_tensors()
        except Exception as exc:  # LiteRT raises ValueError/RuntimeError with its own text
            reason = " ".join(str(exc).split())
            raise ReferenceUnavailable(f"LiteRT cannot load the model: {reason[:300]}") from None
        self.inputs = [d["index"] for d in self.interp.get_input_details()]
        self.outputs = [d["index"] for d in self.interp.get_output_details()]

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for index, data in zip(self.inputs, inputs, strict=True):
            self.interp.set_tensor(index, data)
        self.interp.invoke()
        return [self.interp.get_tensor(i).copy() for i in self.outputs]


class LiteRT(LiteRTRef):
    name = "litert"
    description = "LiteRT with its default kernels and delegates (XNNPACK)"
    resolver = "AUTO"
