"""`tflm-host`: the desktop TFLite Micro interpreter from the `tflite-micro` pip package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.references.base import Reference, ReferenceUnavailable


def host_arena_capacity(graph: object, model_bytes: int) -> int:
    """An arena that holds any model on the host: the pip interpreter's default (ten
    times the model file) runs out on small models with big activations."""
    activations = sum(t.nbytes for t in graph.tensors if not t.is_const)  # type: ignore
    return 10 * model_bytes + 4 * activations + (1 << 20)


class TflmHost(Reference):
    name = "tflm-host"
    chain_position = 5
    description = "TFLite Micro's desktop interpreter (tflite-micro pip package)"

    def load(self, model_path: Path, *, per_layer: bool = False) -> None:
        from tflite_micro.python.tflite_micro import runtime

        from harness.ops.validate import load_model

        config = (runtime.InterpreterConfig.kPreserveAllTensors if per_layer
                  else runtime.InterpreterConfig.kAllocationRecording)
        graph = load_model(model_path)
        try:
            self.interp = runtime.Interpreter.from_file(
                str(model_path), arena_size=host_arena_capacity(graph, model_path.stat().st_size),
                intrepreter_config=config)
        except Exception as exc:  # TFLM raises RuntimeError with its own text
            reason = " ".join(str(exc).split())
            raise ReferenceUnavailable(f"TFLM cannot load the model: {reason[:300]}") from None
        self.n_inputs, self.n_outputs = len(graph.inputs), len(graph.outputs)
        self.activations = [t.index for t in graph.tensors if not t.is_const]
        self.per_layer = per_layer

    def run(self, inputs: list[np.ndarray]) -> list[np.ndarray]:
        for k, data in enumerate(inputs):
            self.interp.set_input(data, k)
        self.interp.invoke()
        return [np.array(self.interp.get_output(k)) for k in range(self.n_outputs)]

    def tensors(self) -> dict[int, np.ndarray]:
        if not self.per_layer:
            return {}
        out = {}
        for index in self.activations:
            t = self.interp.GetTensor(index, 0)
            out[index] = np.asarray(t["tensor_data"]).reshape(t["shape"]).copy()
        return out
