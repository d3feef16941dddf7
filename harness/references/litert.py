"""LiteRT references: `litert-ref` (BUILTIN_REF kernels) and `litert` (defaults, XNNPACK)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from harness.references.base import Reference, ReferenceUnavailable


def condense(message: str) -> str:
    """LiteRT repeats one complaint per tensor: keep each sentence once, list the tensors."""
    text = " ".join(message.split())
    tensors = re.findall(r"Tensor (\d+) has", text)
    seen: list[str] = []
    for part in re.split(r"(?<=\.)\s*(?=[A-Za-z])", text):
        part = re.sub(r"^Tensor \d+ has", "Tensor has", part.strip())
        if part and part not in seen:
            seen.append(part)
    out = " ".join(s for s in seen if not s.startswith("Tensor has"))
    per_tensor = [s[len("Tensor has"):].strip(" .") for s in seen if s.startswith("Tensor has")]
    if tensors:
        which = ", ".join(tensors[:6]) + (", ..." if len(tensors) > 6 else "")
        out += f" (tensors {which}: {'; '.join(per_tensor)})"
    return out[:300]


class LiteRTRef(Reference):
    name = "litert-ref"
    chain_position = 3
    description = "LiteRT with TFLite's reference kernels (OpResolverType.BUILTIN_REF)"
    resolver = "BUILTIN_REF"

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        try:
            self.interp = Interpreter(
                model_path=str(model_path),
                experimental_op_resolver_type=getattr(OpResolverType, self.resolver),
                experimental_preserve_all_tensors=per_layer,
            )
            self.interp.allocate_tensors()
        except Exception as exc:  # LiteRT raises ValueError/RuntimeError with its own text
            raise ReferenceUnavailable(f"LiteRT cannot load the model: {condense(str(exc))}"
                                       ) from None
        self.inputs = [d["index"] for d in self.interp.get_input_details()]
        self.outputs = [d["index"] for d in self.interp.get_output_details()]
        self.per_layer = per_layer

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for index, data in zip(self.inputs, inputs, strict=True):
            self.interp.set_tensor(index, data)
        self.interp.invoke()
        return [self.interp.get_tensor(i).copy() for i in self.outputs]

    def tensors(self) -> dict[int, np.ndarray]:
        if not self.per_layer:
            return {}
        out = {}
        for d in self.interp.get_tensor_details():
            try:
                out[d["index"]] = self.interp.get_tensor(d["index"]).copy()
            except ValueError:  # tensors without data (e.g. optional, not allocated)
                continue
        return out


class LiteRT(LiteRTRef):
    name = "litert"
    chain_position = 4
    description = "LiteRT with its default kernels and delegates (XNNPACK)"
    resolver = "AUTO"
