"""Real 16x8 models (SEANet slices in ../shared/models): PAD, STRIDED_SLICE and
TRANSPOSE_CONV with int16 activations, host-compiled C kernels and NumPy
against LiteRT BUILTIN_REF, on several random input vectors.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from harness.ops.c_emit import LoweredOp
from harness.ops.interpreter import run_op
from harness.ops.registry import OPS
from harness.ops.validate import load_model
from support.litert_host import litert_ref
from support.paths import shared_model
from support.shape_host import host_library, run_c

MODELS = ["seanet_pad0", "seanet_strided_slice0", "seanet_transpose_conv0"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """The kernels built for the host."""
    return host_library(tmp_path_factory)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", MODELS)
def test_seanet_int16_op_bit_exact(lib: ctypes.CDLL, name: str, seed: int) -> None:
    path = shared_model(f"{name}.tflite")
    graph = load_model(path)
    (op,) = graph.ops
    rng = np.random.default_rng(seed)
    xs = []
    for t in graph.input_tensors():
        if t.dtype == "int16":
            xs.append(rng.integers(-32768, 32768, size=t.shape, dtype=np.int16))
        else:  # TRANSPOSE_CONV's output_shape is a model input here
            xs.append(np.asarray(graph.tensors[op.outputs[0]].shape, np.int32))
    want = litert_ref(path.read_bytes(), xs)
    given = [xs[graph.inputs.index(i)] if i in graph.inputs else None for i in op.inputs]
    lo = LoweredOp(op.index, op.name, [])
    OPS[op.name].emit(graph, op, lo)
    assert "_s16(" in lo.call, lo.call
    got_np = run_op(graph, op, given)
    got_c = run_c(lib, graph, op, given)
    assert want.dtype == np.int16 and np.abs(want.astype(int)).max() > 100
    for label, got in (("numpy", got_np), ("C", got_c)):
        assert got.dtype == want.dtype and got.shape == want.shape, label
        assert np.array_equal(got, want), (
            f"{label}: {int(np.count_nonzero(got != want))} of {want.size} differ")
