"""LiteRT's reference kernels (BUILTIN_REF) as the tests' ground truth."""

from __future__ import annotations

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def litert_ref(model: bytes, inputs: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """Run ``model`` with LiteRT's reference kernels and return its first output.

    ``inputs`` is one array (for the model's first input) or one array per input."""
    it = Interpreter(model_content=model,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    details = it.get_input_details()
    if isinstance(inputs, np.ndarray):
        it.set_tensor(details[0]["index"], inputs)
    else:
        for detail, x in zip(details, inputs, strict=True):
            it.set_tensor(detail["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).copy()
