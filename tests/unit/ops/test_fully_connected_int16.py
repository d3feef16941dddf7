"""FULLY_CONNECTED: the C kernel (compiled for the host) and numpy-int8 bit-exact with
LiteRT BUILTIN_REF on 16x8 models (int16 activations, int8 weights, int64 biases);
its rounding (once, ties away from zero) and accumulators beyond int32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from harness.ops.c_emit import fused_act_range
from harness.ops.interpreter import run_op
from harness.quant.fixedpoint import requant_single_wide
from harness.quant.multiplier import fc_requant
from support.dtype_cases import graph
from support.kernel_cases_int16 import (
    N_CASES,
    assert_bit_exact,
    dtype_kernels,
    fc_case,
    graph_of,
    int16_input,
)
from support.kernels_host import HxFcParams
from support.kernels_host_dtypes import DtypeKernels, Requant
from support.litert_host import litert_ref
from support.synth_dtypes import DtypeModelBuilder, one_op


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> DtypeKernels:
    return dtype_kernels(tmp_path_factory)


@pytest.mark.parametrize("i", range(N_CASES))
def test_fully_connected_16x8(kernels: DtypeKernels, tmp_path: Path, i: int) -> None:
    case = fc_case(i)
    model = one_op("int16", "fully_connected", case["input_shape"],
                   **{k: v for k, v in case.items() if k != "input_shape"})
    g = graph_of(model, tmp_path)
    op = g.ops[0]
    inp, w, bias, out = (g.tensors[k] for k in (*op.inputs, op.outputs[0]))
    mults, shifts = fc_requant(inp.scale, [float(s) for s in w.scales], out.scale)
    act_min, act_max = fused_act_range(op, out)
    x = int16_input(np.random.default_rng(i), case["input_shape"], i)
    want = litert_ref(model, x)
    got = kernels.fully_connected(HxFcParams(0, 0, 0, act_min, act_max),
                                  Requant(mults, shifts), x, w.data, bias.data)
    assert_bit_exact(got, want, "C kernel", case)
    assert_bit_exact(run_op(g, op, [x]), want, "numpy", case)


# ---- 16x8 FULLY_CONNECTED rounding: once, ties away, wide products ------------------


def _litert(model: bytes, x: np.ndarray) -> np.ndarray:
    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def test_fc_16x8_rounds_ties_away_and_convs_ties_up(tmp_path: Path) -> None:
    """Effective scale 1/2, zero input: each output is bias / 2 and odd biases are ties."""
    biases = [-5, -3, -1, 1, 3, 5]
    common = {"input_scale": 0.25, "weight_scale": 0.5, "output_scale": 0.25,
              "bias_values": biases}
    fc = one_op("int16", "fully_connected", [1, 4], units=6, **common)
    conv = one_op("int16", "conv2d", [1, 1, 1, 4], out_channels=6, kernel=1, **common)
    fc_out = _litert(fc, np.zeros((1, 4), np.int16)).ravel()
    conv_out = _litert(conv, np.zeros((1, 1, 1, 4), np.int16)).ravel()
    assert fc_out.tolist() == [-3, -2, -1, 1, 2, 3]
    assert conv_out.tolist() == [-2, -1, 0, 1, 2, 3]
    for model, want in ((fc, fc_out), (conv, conv_out)):
        g = graph(tmp_path, model)
        x = np.zeros(g.tensors[g.inputs[0]].shape, np.int16)
        assert run_op(g, g.ops[0], [x]).ravel().tolist() == want.tolist()


def test_fc_16x8_accumulators_beyond_int32(tmp_path: Path) -> None:
    b = DtypeModelBuilder("int16")
    x = b.input([1, 1024], 1e-4)
    y = b.fully_connected(x, units=2, weight_scale=0.01, output_scale=0.5, bias_values=[0, 0])
    w_index = b.operators[-1].inputs[1]
    b.buffers[b.tensors[w_index].buffer].data = np.full(2048, 127, np.int8).view(np.uint8)
    model = b.build(y)
    xs = np.full((1, 1024), 32767, np.int16)
    want = _litert(model, xs)
    g = graph(tmp_path, model)
    assert 32767 * 127 * 1024 > 2**31
    assert np.array_equal(run_op(g, g.ops[0], [xs]), want)
    m, s = fc_requant(g.tensors[g.inputs[0]].scale, [0.01], 0.5)
    assert int(requant_single_wide(np.array([32767 * 127 * 1024]), m[0], s[0])[0]) == want[0, 0]
