"""AVERAGE_POOL_2D and MAX_POOL_2D: the C kernel (firmware/kernels/hx_pool.c, compiled for the
host) bit-exact with LiteRT's reference kernels (BUILTIN_REF).

Each case builds a one-op int8 model with support.synth, runs it through LiteRT and through
the host-compiled kernel fed with parameters from harness.quant, and compares every output
byte (support/kernel_cases.py makes the cases).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from support import synth
from support.kernel_cases import N_CASES, assert_bit_exact, pool_case, pool_params, random_input
from support.kernels_host import HostKernels
from support.litert_host import litert_ref


def _pool_test(kernels: HostKernels, i: int, kind: str) -> None:
    case = pool_case(i, 4000 if kind == "avg" else 4500)
    build: Callable[..., bytes] = synth.avg_pool2d if kind == "avg" else synth.max_pool2d
    model = build(case["input_shape"], case["kernel"], stride=case["stride"],
                  padding=case["padding"], activation=case["activation"],
                  scale=case["scale"], zero_point=case["zero_point"])
    name = "avgpool" if kind == "avg" else "maxpool"
    p, out_shape = pool_params(model, name, case["activation"], case["kernel"],
                               case["stride"], case["padding"])
    x = random_input(np.random.default_rng(i), case["input_shape"])
    run = kernels.avg_pool if kind == "avg" else kernels.max_pool
    assert_bit_exact(run(p, x, out_shape), litert_ref(model, x), case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_avg_pool(kernels: HostKernels, i: int) -> None:
    _pool_test(kernels, i, "avg")


@pytest.mark.parametrize("i", range(N_CASES))
def test_max_pool(kernels: HostKernels, i: int) -> None:
    _pool_test(kernels, i, "max")
