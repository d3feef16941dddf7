"""SOFTMAX: the C kernel (compiled for the host) and numpy-int8 bit-exact with
LiteRT BUILTIN_REF on 16x8 models (int16 activations, int8 weights, int64 biases).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.ops.interpreter import run_op
from harness.ops.softmax.params import softmax_int16_params, softmax_luts
from support.kernel_cases_int16 import (
    N_CASES,
    assert_bit_exact,
    dtype_kernels,
    graph_of,
    int16_input,
    log_uniform,
)
from support.kernels_host_dtypes import DtypeKernels
from support.litert_host import litert_ref
from support.synth_dtypes import one_op


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> DtypeKernels:
    return dtype_kernels(tmp_path_factory)


@pytest.mark.parametrize("i", range(N_CASES))
def test_softmax_int16(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    rng = np.random.default_rng(9000 + i)
    depth = int(rng.choice([1, 2, 3, 5, 10, 16, 37, 100, 300]))
    shape = [int(rng.integers(1, 5)), depth] if i % 3 else [1, 2, int(rng.integers(1, 4)), depth]
    case = {"shape": shape, "beta": log_uniform(rng, 0.1, 3.0),
            "input_scale": log_uniform(rng, 1e-5, 2e-3)}
    model = one_op("int16", "softmax", shape, input_scale=case["input_scale"],
                   beta=case["beta"])
    g = graph_of(model, tmp_path)
    x = int16_input(rng, shape, i)
    want = litert_ref(model, x)
    mult, shift = softmax_int16_params(case["beta"], g.tensors[g.inputs[0]].scale)
    exp_lut, recip_lut = softmax_luts()
    assert_bit_exact(kernels.softmax(mult, shift, exp_lut, recip_lut, x), want, "C kernel", case)
    assert_bit_exact(run_op(g, g.ops[0], [x]), want, "numpy", case)
