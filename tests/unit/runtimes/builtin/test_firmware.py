"""The builtin runtime's generated model.c: typed arena pointers, the _s16 and _f32
kernels, exact float literals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import get_target
from support.dtype_cases import INT16_CHAIN, graph
from support.synth_dtypes import chain, one_op

# ---- generated code -------------------------------------------------------------


def test_generated_code_types_pointers_and_floats(tmp_path: Path) -> None:
    g16 = graph(tmp_path, chain("int16", [1, 6, 6, 2], INT16_CHAIN))
    code = generate_builtin(g16, get_target("stm32f4")).files["model.c"].decode()
    assert "((int16_t *)(void *)(hx_arena" in code and "((int8_t *)" not in code
    for fn in ("hx_conv2d_s16(", "hx_depthwise_conv2d_s16(", "hx_fully_connected_s16(",
               "hx_softmax_s16("):
        assert fn in code
    assert "static const alignas(16) int64_t op0_bias" in code
    gf = graph(tmp_path, one_op("float32", "fully_connected", [2, 5], units=3, activation=1))
    code = generate_builtin(gf, get_target("stm32f4")).files["model.c"].decode()
    assert "((float *)(void *)(hx_arena" in code and "hx_fully_connected_f32(" in code
    w = gf.tensors[gf.ops[0].inputs[1]].data.astype(np.float32).ravel()
    assert f"{float(w[0]).hex()}f" in code  # exact hex float literals
