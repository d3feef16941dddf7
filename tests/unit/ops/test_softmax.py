"""SOFTMAX: the C kernel (firmware/kernels/hx_softmax.c, compiled for the
host) bit-exact with LiteRT's reference kernels (BUILTIN_REF).

Each case builds a one-op int8 model with support.synth, runs it through LiteRT and through
the host-compiled kernel fed with parameters from harness.quant, and compares every output
byte (support/kernel_cases.py makes the cases).
Also the softmax parameters (harness/ops/softmax/params.py) from the formulas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.ops.softmax.params import softmax_params
from support import synth
from support.kernel_cases import N_CASES, assert_bit_exact, random_input, reconstruct, softmax_case
from support.kernels_host import HostKernels, HxSoftmaxParams
from support.litert_host import litert_ref


@pytest.mark.parametrize("i", range(N_CASES))
def test_softmax(kernels: HostKernels, i: int) -> None:
    case = softmax_case(i)
    model = synth.softmax(case["input_shape"], beta=case["beta"],
                          input_scale=case["input_scale"], input_zp=case["input_zp"])
    inp = synth.tensor_by_name(model, "input")
    mult, shift, diff_min = softmax_params(case["beta"], inp.scales[0])
    p = HxSoftmaxParams(input_multiplier=mult, input_left_shift=shift, diff_min=diff_min)
    rng = np.random.default_rng(i)
    x = random_input(rng, case["input_shape"])
    if i % 4 == 3:  # a narrow spread keeps many values near the row maximum
        x = np.clip(x // 16 + rng.integers(-128, 112), -128, 127).astype(np.int8)
    assert_bit_exact(kernels.softmax(p, x), litert_ref(model, x), case)


def test_softmax_params() -> None:
    # beta * scale = 2^-4 -> real 2^22 = 0.5 * 2^23
    assert softmax_params(1.0, 1 / 16) == (1 << 30, 23, -math.floor(31 * 2**26 / 2**23))
    assert softmax_params(1.0, 1 / 16)[2] == -248
    mult, shift, diff_min = softmax_params(2.0, 0.1)
    real = 2.0 * float(np.float32(0.1)) * 2**26
    assert abs(reconstruct(mult, shift) - real) <= real * 2.0**-31
    assert diff_min == -math.floor(31 * 2**26 / 2**shift)
    # beta * scale above 32 caps the real multiplier at 2^31 - 1
    assert softmax_params(10.0, 4.0) == ((1 << 31) - 1, 31, 0)
    with pytest.raises(ValueError):
        softmax_params(1.0, 1e-9)
