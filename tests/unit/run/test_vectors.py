"""Input vectors (harness/run/vectors.py): seeded random vectors of every activation
type, loaded vectors quantized and checked, bad ones refused in one line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.errors import BadInput, ExitCode
from harness.ops.validate import load_model
from harness.run.vectors import load_vectors, random_vectors
from support.dtype_cases import graph
from support.paths import EXAMPLE, shared_model
from support.synth_dtypes import one_op


def test_random_vectors_are_seeded_and_span_the_range() -> None:
    g = load_model(EXAMPLE)
    (a,) = random_vectors(g, 50, seed=1)
    (b,) = random_vectors(g, 50, seed=1)
    (c,) = random_vectors(g, 50, seed=2)
    assert a.shape == (50, 1, 32, 32, 1) and a.dtype == np.int8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() == -128 and a.max() == 127


def test_load_vectors_quantizes_float_and_checks_shape(tmp_path: Path) -> None:
    g = load_model(EXAMPLE)
    t = g.input_tensors()[0]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 32, 32, 1)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    (q,) = load_vectors(tmp_path / "x.npy", g)
    expect = np.clip(np.round(x / t.scale) + t.zero_point, -128, 127).astype(np.int8)
    assert np.array_equal(q, expect)
    np.save(tmp_path / "bad.npy", np.zeros((2, 5), np.int8))
    with pytest.raises(BadInput, match="does not fit"):
        load_vectors(tmp_path / "bad.npy", g)
    np.savez(tmp_path / "two.npz", a=x, b=x)
    with pytest.raises(BadInput, match="2 arrays"):
        load_vectors(tmp_path / "two.npz", g)


# ---- vectors ----------------------------------------------------------------------


def test_random_vectors_cover_int16_and_float32(tmp_path: Path) -> None:
    g16 = graph(tmp_path, one_op("int16", "softmax", [4, 64]))
    (v,) = random_vectors(g16, 50, seed=1)
    assert v.dtype == np.int16 and v.shape == (50, 4, 64)
    assert v.min() < -30000 and v.max() > 30000
    gf = graph(tmp_path, one_op("float32", "fully_connected", [1, 8], units=2))
    (f,) = random_vectors(gf, 10, seed=1)
    assert f.dtype == np.float32 and f.shape == (10, 1, 8) and np.abs(f).max() <= 1.0
    assert len(f[0].tobytes()) == 32  # what crosses the wire: raw little-endian float32


def test_shape_operand_inputs_get_the_output_shape() -> None:
    g = load_model(shared_model("seanet_transpose_conv0.tflite"))
    shape_in, data_in = random_vectors(g, 3, seed=1)
    assert shape_in.tolist() == [[1, 3, 12, 64]] * 3
    assert data_in.dtype == np.int16 and data_in.shape == (3, 1, 1, 5, 64)


# ---- vectors of the wrong shape or dtype -------------------------------------

# EXAMPLE's input is (1, 32, 32, 1) int8.
BAD_VECTORS = {
    "wrong shape": (np.zeros((3, 16, 16, 1), np.int8), "does not fit input"),
    "wrong rank": (np.zeros((32, 32), np.int8), "does not fit input"),
    "out of int8 range": (np.full((1, 32, 32, 1), 300, np.int32), "outside int8"),
    "complex": (np.zeros((1, 32, 32, 1), np.complex64), "not numbers"),
    "strings": (np.full((1, 32, 32, 1), "x"), "not numbers"),
    "NaN floats": (np.full((1, 32, 32, 1), np.nan, np.float32), "NaN"),
    "no vectors": (np.zeros((0, 1, 32, 32, 1), np.int8), "no values"),
    "scalar": (np.array(3, np.int8), "does not fit input"),
}


@pytest.mark.parametrize("case", sorted(BAD_VECTORS))
def test_bad_vectors_are_refused_in_one_line(case: str, tmp_path: Path) -> None:
    data, says = BAD_VECTORS[case]
    path = tmp_path / "inputs.npy"
    np.save(path, data)
    with pytest.raises(BadInput) as info:
        load_vectors(path, load_model(EXAMPLE))
    assert info.value.code == ExitCode.BAD_INPUT
    assert says in info.value.one_line() and "\n" not in info.value.one_line()
