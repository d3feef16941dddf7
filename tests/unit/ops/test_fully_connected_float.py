"""float32 FULLY_CONNECTED: the C kernel (compiled for the host) within
FLOAT_TOLERANCE_ULP of LiteRT BUILTIN_REF.
"""

from __future__ import annotations

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from harness.analysis.compare import FLOAT_TOLERANCE_ULP, float_ulp_keys
from support.kernel_cases_int16 import ACTIVATIONS, N_CASES, dtype_kernels
from support.kernels_host_dtypes import DtypeKernels
from support.litert_host import litert_ref
from support.synth_dtypes import one_op


@pytest.fixture(scope="module")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> DtypeKernels:
    return dtype_kernels(tmp_path_factory)


FLOAT_RANGES = {0: (-3.4028234663852886e38, 3.4028234663852886e38), 1: (0.0, 3.4028234663852886e38),
                2: (-1.0, 1.0), 3: (0.0, 6.0)}


@pytest.mark.parametrize("i", range(N_CASES))
def test_fully_connected_float(kernels: DtypeKernels, i: int) -> None:
    rng = np.random.default_rng(9500 + i)
    depth, units, batches = int(rng.integers(1, 65)), int(rng.integers(1, 17)), int(
        rng.integers(1, 4))
    act = ACTIVATIONS[i % 4]
    model = one_op("float32", "fully_connected", [batches, depth], units=units,
                   activation=act, bias=i % 5 != 2, seed=i)
    it = Interpreter(model_content=model)
    details = {d["name"]: d["index"] for d in it.get_tensor_details()}
    w = it.get_tensor(details["fc/weights"])
    bias = it.get_tensor(details["fc/bias"]) if "fc/bias" in details else None
    x = rng.normal(0.0, 2.0, size=(batches, depth)).astype(np.float32)
    want = litert_ref(model, x)
    got = kernels.fully_connected_f32(FLOAT_RANGES[act], x, w, bias)
    ulps = np.abs(float_ulp_keys(got) - float_ulp_keys(want))
    assert ulps.max() <= FLOAT_TOLERANCE_ULP, f"{ulps.max()} ULP apart: {got} vs {want}"
