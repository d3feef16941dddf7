"""Model parsing against LiteRT's own view of real models, and the clean errors for
missing, non- and truncated models.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from harness.errors import ModelNotFound, NotAModel
from harness.ops.validate import load_model, load_model_bytes
from support.paths import EXAMPLE, SHARED_MODELS, shared_model

REAL_MODELS = (sorted(p.name for p in SHARED_MODELS.glob("*.tflite"))
               or ["micro_speech_quantized.tflite"])


def test_example_model_structure() -> None:
    g = load_model(EXAMPLE)
    assert [op.name for op in g.ops] == ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D",
                                         "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED",
                                         "SOFTMAX"]
    (inp,) = g.input_tensors()
    assert inp.shape == (1, 32, 32, 1) and inp.dtype == "int8"
    filt = g.tensors[g.ops[0].inputs[1]]
    assert filt.per_channel and len(filt.scales) == filt.shape[0]
    assert g.ops[1].options["depthMultiplier"] == 2


@pytest.mark.parametrize("name", REAL_MODELS)
def test_parse_agrees_with_litert(name: str) -> None:
    """Shapes, dtypes and quantization of inputs/outputs match what LiteRT reads."""
    path = shared_model(name)
    g = load_model(path)
    try:
        interp = Interpreter(model_path=str(path))
    except ValueError as exc:
        pytest.skip(f"LiteRT cannot load {name}: {str(exc)[:80]}")
    for ours, theirs in ((g.input_tensors(), interp.get_input_details()),
                         (g.output_tensors(), interp.get_output_details())):
        for t, d in zip(ours, theirs, strict=True):
            assert list(t.shape) == list(d["shape"])
            assert np.dtype(t.dtype) == np.dtype(d["dtype"])
            assert np.allclose(t.scales, d["quantization_parameters"]["scales"])


def test_missing_and_non_models(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        load_model(tmp_path / "absent.tflite")
    with pytest.raises(ModelNotFound):
        load_model(tmp_path)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(NotAModel):
        load_model(junk)


@pytest.mark.parametrize("cut", [8, 20, 100, 1000, 3000, 5600])
def test_truncated_model_is_a_clean_error(cut: int) -> None:
    with pytest.raises(NotAModel, match="damaged or truncated"):
        load_model_bytes(EXAMPLE.read_bytes()[:cut])
