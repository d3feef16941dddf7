"""FULLY_CONNECTED: the C kernel (firmware/kernels/hx_fully_connected.c, compiled for the
host) bit-exact with LiteRT's reference kernels (BUILTIN_REF).

Each case builds a one-op int8 model with support.synth, runs it through LiteRT and through
the host-compiled kernel fed with parameters from harness.quant, and compares every output
byte (support/kernel_cases.py makes the cases).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.quant.multiplier import fc_requant
from harness.quant.ranges import activation_range
from support import synth
from support.kernel_cases import N_CASES, assert_bit_exact, fc_case, random_input
from support.kernels_host import HostKernels, HxFcParams
from support.litert_host import litert_ref

# ---- bit-exactness tests -----------------------------------------------------


@pytest.mark.parametrize("i", range(N_CASES))
def test_fully_connected(kernels: HostKernels, i: int) -> None:
    case = fc_case(i)
    kw = {k: v for k, v in case.items() if k not in ("input_shape", "units")}
    model = synth.fully_connected(case["input_shape"], case["units"], **kw)
    inp = synth.tensor_by_name(model, "input")
    wts = synth.tensor_by_name(model, "fc/weights")
    bias = synth.tensor_by_name(model, "fc/bias").data if case["bias"] else None
    out = synth.tensor_by_name(model, "fc")
    mults, shifts = fc_requant(inp.scales[0], wts.scales, out.scales[0])
    act_min, act_max = activation_range(case["activation"], out.scales[0],
                                              out.zero_points[0])
    p = HxFcParams(input_offset=-inp.zero_points[0], filter_offset=-wts.zero_points[0],
                   output_offset=out.zero_points[0], act_min=act_min, act_max=act_max)
    x = random_input(np.random.default_rng(i), case["input_shape"])
    assert wts.data is not None
    got = kernels.fully_connected(p, mults, shifts, x, wts.data, bias,
                                  per_channel=len(wts.scales) > 1)
    assert_bit_exact(got, litert_ref(model, x), case)
