"""CONV_2D and DEPTHWISE_CONV_2D: the C kernel (firmware/kernels/hx_conv.c, compiled for the
host) bit-exact with LiteRT's reference kernels (BUILTIN_REF).

Each case builds a one-op int8 model with support.synth, runs it through LiteRT and through
the host-compiled kernel fed with parameters from harness.quant, and compares every output
byte (support/kernel_cases.py makes the cases).
"""

from __future__ import annotations

import numpy as np
import pytest

from support import synth
from support.kernel_cases import (
    N_CASES,
    assert_bit_exact,
    conv_case,
    conv_params,
    depthwise_case,
    random_input,
)
from support.kernels_host import HostKernels
from support.litert_host import litert_ref


@pytest.mark.parametrize("i", range(N_CASES))
def test_conv2d(kernels: HostKernels, i: int) -> None:
    case = conv_case(i)
    kw = {k: v for k, v in case.items() if k not in ("input_shape", "out_channels", "kernel")}
    model = synth.conv2d(case["input_shape"], case["out_channels"], case["kernel"], **kw)
    p, mults, shifts, filt, bias, out_shape = conv_params(
        model, "conv", case["activation"], case["stride"], case["dilation"], case["padding"])
    x = random_input(np.random.default_rng(i), case["input_shape"])
    got = kernels.conv2d(p, mults, shifts, x, filt, bias, out_shape)
    assert_bit_exact(got, litert_ref(model, x), case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_depthwise_conv2d(kernels: HostKernels, i: int) -> None:
    case = depthwise_case(i)
    kw = {k: v for k, v in case.items() if k not in ("input_shape", "kernel")}
    model = synth.depthwise_conv2d(case["input_shape"], case["kernel"], **kw)
    p, mults, shifts, filt, bias, out_shape = conv_params(
        model, "dwconv", case["activation"], case["stride"], case["dilation"], case["padding"],
        depth_multiplier=case["depth_multiplier"])
    x = random_input(np.random.default_rng(i), case["input_shape"])
    got = kernels.depthwise_conv2d(p, mults, shifts, x, filt, bias, out_shape)
    assert_bit_exact(got, litert_ref(model, x), case)
