"""The references the quantization analysis reads (numpy-int8, numpy-float, float-model),
run in this process with their per-layer tensors: quicker than worker processes for
unit tests, and the same classes the workers run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.references.float_model import FloatModel
from harness.references.numpy_float import NumpyFloat
from harness.references.numpy_int8 import NumpyInt8
from harness.references.runner import ReferenceResult


def run_in_process(ref: NumpyInt8 | NumpyFloat | FloatModel, model: Path,
                   vectors: list[np.ndarray]) -> ReferenceResult:
    """Every vector through `ref`, stacked as the worker would stack them."""
    ref.load(Path(model), per_layer=True)
    outs, tensors = [], []
    for k in range(len(vectors[0])):
        outs.append(ref.run([v[k] for v in vectors]))
        tensors.append(ref.tensors())
    keys = set.intersection(*(set(t) for t in tensors))
    return ReferenceResult(ref.name, "ok", "", 0.0,
                           [np.stack([o[i] for o in outs]) for i in range(len(outs[0]))],
                           {k: np.stack([t[k] for t in tensors]) for k in sorted(keys)},
                           ref.real_valued)


def quant_refs(model: Path, vectors: list[np.ndarray],
               float_model: Path | None = None) -> dict[str, ReferenceResult]:
    """numpy-int8 and numpy-float, and float-model when `float_model` is given."""
    refs = {r.name: run_in_process(r, model, vectors) for r in (NumpyInt8(), NumpyFloat())}
    if float_model is not None:
        refs["float-model"] = run_in_process(FloatModel(str(float_model)), model, vectors)
    return refs
