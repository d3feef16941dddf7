"""CONV_2D and DEPTHWISE_CONV_2D: the C kernel (compiled for the host) and numpy-int8 bit-exact with
LiteRT BUILTIN_REF on 16x8 models (int16 activations, int8 weights, int64 biases).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.ops.c_emit import fused_act_range
from harness.ops.interpreter import run_op
from harness.quant.geometry import conv_output_and_padding
from harness.quant.multiplier import conv_requant
from support.kernel_cases_int16 import (
    N_CASES,
    assert_bit_exact,
    conv_case,
    dtype_kernels,
    graph_of,
    int16_input,
)
from support.kernels_host import HxConvParams
from support.kernels_host_dtypes import DtypeKernels, Requant
from support.litert_host import litert_ref
from support.synth_dtypes import one_op


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> DtypeKernels:
    return dtype_kernels(tmp_path_factory)


def _run_conv(kernels: DtypeKernels, tmp_path: Path, i: int, depthwise: bool) -> None:
    case = conv_case(i, depthwise)
    kw = {k: v for k, v in case.items() if k != "input_shape"}
    model = one_op("int16", "depthwise_conv2d" if depthwise else "conv2d",
                   case["input_shape"], **kw)
    g = graph_of(model, tmp_path)
    op = g.ops[0]
    inp, filt, bias, out = (g.tensors[k] for k in (*op.inputs, op.outputs[0]))
    mults, shifts = conv_requant(inp.scale, [float(s) for s in filt.scales], out.scale)
    act_min, act_max = fused_act_range(op, out)
    pads = [conv_output_and_padding(inp.shape[1 + a], filt.shape[1 + a],
                                          case["stride"][a], case["dilation"][a],
                                          case["padding"])[1] for a in (0, 1)]
    p = HxConvParams(0, 0, act_min, act_max, *case["stride"], *case["dilation"], *pads,
                     case.get("depth_multiplier", 1))
    x = int16_input(np.random.default_rng(i), case["input_shape"], i)
    want = litert_ref(model, x)
    got = kernels.conv(depthwise, p, Requant(mults, shifts), x, filt.data, bias.data,
                       out.shape)
    assert_bit_exact(got, want, "C kernel", case)
    assert_bit_exact(run_op(g, op, [x]), want, "numpy", case)


@pytest.mark.parametrize("i", range(N_CASES))
def test_conv2d_16x8(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    _run_conv(kernels, tmp_path, i, depthwise=False)


@pytest.mark.parametrize("i", range(N_CASES))
def test_depthwise_conv2d_16x8(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    _run_conv(kernels, tmp_path, i, depthwise=True)
