"""The numpy-int8 reference (harness/references/numpy_int8.py): every intermediate of
the example model as LiteRT BUILTIN_REF has it, person_detect as TFLite Micro has it, int16
models accepted, ops it lacks refused as unavailable.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from harness.ops.validate import load_model
from harness.references.base import ReferenceUnavailable
from harness.references.litert import LiteRTRef
from harness.references.numpy_int8 import NumpyInt8
from harness.run.vectors import random_vectors
from support import synth
from support.dtype_cases import INT16_CHAIN, write
from support.int8_checks import assert_all_tensors, assert_same, litert, random_int8
from support.paths import EXAMPLE, shared_model
from support.synth_dtypes import chain, one_op

# ---- bit-exact: whole models, every intermediate -----------------------------------


def test_example_model_outputs_and_intermediates() -> None:
    ref = NumpyInt8()
    ref.load(EXAMPLE, per_layer=True)
    graph = load_model(EXAMPLE)
    rng = np.random.default_rng(7)
    for k in range(6):
        x = random_int8(rng, graph.tensors[graph.inputs[0]].shape)
        outs, tensors = litert(EXAMPLE, [x], all_tensors=True)
        got = ref.run([x])
        assert_same(got[0], outs[0], f"example vector {k}")
        assert_all_tensors(graph, ref.tensors(), tensors, f"example vector {k}")


def test_person_detect_matches_tflm() -> None:
    """LiteRT refuses person_detect; TFLite Micro runs it with the same reference arithmetic."""
    path = shared_model("person_detect.tflite")
    pytest.importorskip("tflite_micro", reason="tflite-micro pip package not installed")
    from harness.references.tflm_host import TflmHost

    tflm, ours = TflmHost(), NumpyInt8()
    tflm.load(path, per_layer=True)
    ours.load(path, per_layer=True)
    x = random_int8(np.random.default_rng(10), [1, 96, 96, 1])
    assert_same(ours.run([x])[0], tflm.run([x])[0], "person_detect output")
    theirs = tflm.tensors()
    for i, v in ours.tensors().items():
        assert_same(v, theirs[i], f"person_detect tensor {i}")


# ---- the reference class and the API -----------------------------------------------


def test_reference_refuses_unsupported_ops(tmp_path: Path) -> None:
    b = synth.ModelBuilder()  # EXP: an op no implementation here has
    x = b.input([1, 4], 0.1, 0)
    y = b.add_tensor("exp", [1, 4], schema.TensorType.INT8, scale=0.2, zero_point=0)
    b.add_op(schema.BuiltinOperator.EXP, [x], [y], schema.BuiltinOptions.ExpOptions,
             schema.ExpOptionsT())
    path = tmp_path / "exp.tflite"
    path.write_bytes(b.build(y))
    with pytest.raises(ReferenceUnavailable, match="EXP"):
        NumpyInt8().load(path)
    assert NumpyInt8.name == "numpy-int8" and NumpyInt8.real_valued is False


# ---- references -------------------------------------------------------------------


def test_references_accept_int16_and_report_float_unavailable(tmp_path: Path) -> None:
    path16 = write(tmp_path, chain("int16", [1, 6, 6, 2], INT16_CHAIN), "c16.tflite")
    x = random_vectors(load_model(path16), 3, seed=2)[0]
    lite, npy = LiteRTRef(), NumpyInt8()
    lite.load(path16)
    npy.load(path16)
    for k in range(3):
        assert np.array_equal(npy.run([x[k]])[0], lite.run([x[k]])[0])
    pathf = write(tmp_path, one_op("float32", "conv2d", [1, 4, 4, 2], out_channels=2, kernel=3),
                  "f.tflite")
    LiteRTRef().load(pathf)
    with pytest.raises(ReferenceUnavailable, match="CONV_2D with float32"):
        NumpyInt8().load(pathf)
