"""`float-model`: the original float .tflite of the same network (given with --float-model).

Inputs are the int8 vectors dequantized with the int8 model's input parameters,
so the comparison shows the end-to-end quantization error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.ops.floating import dequantize
from harness.ops.validate import load_model
from harness.references.base import Reference, ReferenceUnavailable


class FloatModel(Reference):
    name = "float-model"
    chain_position = 0
    description = "the float .tflite of the same network, run by LiteRT"
    real_valued = True

    def __init__(self, float_model: str | None = None) -> None:
        self.float_model = float_model

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        if not self.float_model:
            raise ReferenceUnavailable("no float model given (use --float-model)")
        from ai_edge_litert.interpreter import Interpreter

        try:
            self.qgraph = load_model(model_path)
            fgraph = load_model(self.float_model)
        except HarnessError as exc:
            raise ReferenceUnavailable(str(exc)) from None
        q_in = [t.shape for t in self.qgraph.input_tensors()]
        f_in = [t.shape for t in fgraph.input_tensors()]
        if q_in != f_in or any(t.dtype != "float32" for t in fgraph.input_tensors()):
            raise ReferenceUnavailable(f"float model inputs {f_in} do not match the int8 model's "
                                       f"{q_in} (or are not float32)")
        try:
            self.interp = Interpreter(model_path=str(self.float_model))
            self.interp.allocate_tensors()
        except Exception as exc:
            raise ReferenceUnavailable(f"LiteRT cannot load the float model: {exc}") from None
        self.inputs = [d["index"] for d in self.interp.get_input_details()]
        self.outputs = [d["index"] for d in self.interp.get_output_details()]

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for index, t, data in zip(self.inputs, self.qgraph.input_tensors(), inputs, strict=True):
            self.interp.set_tensor(index, dequantize(t, data).astype(np.float32))
        self.interp.invoke()
        return [self.interp.get_tensor(i).astype(np.float64) for i in self.outputs]
