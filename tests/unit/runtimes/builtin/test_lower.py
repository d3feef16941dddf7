"""The builtin runtime's lowering refuses, before the build, what its kernels lack,
naming the op and the activation type.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UnsupportedType
from harness.runtimes.builtin.lower import check_supported, lower_graph
from support.dtype_cases import graph
from support.synth_dtypes import DtypeModelBuilder, one_op

# ---- refused before the build, with the op and the dtype named ------------------


def test_int16_pool_is_refused_naming_op_and_dtype(tmp_path: Path) -> None:
    b = DtypeModelBuilder("int16")
    x = b.input([1, 4, 4, 2], 0.01)
    g = graph(tmp_path, b.build(b.max_pool2d(x, kernel=2, stride=2)))
    with pytest.raises(UnsupportedType, match=r"op 0 \(MAX_POOL_2D\) with int16") as err:
        check_supported(g)
    assert err.value.code == 13 and "\n" not in err.value.one_line()


def test_float_conv_is_refused(tmp_path: Path) -> None:
    g = graph(tmp_path, one_op("float32", "conv2d", [1, 4, 4, 2], out_channels=2, kernel=3))
    with pytest.raises(UnsupportedType, match=r"op 0 \(CONV_2D\) with float32"):
        check_supported(g)


def test_16x8_with_a_zero_point_is_refused(tmp_path: Path) -> None:
    b = DtypeModelBuilder("int16")
    x = b.input([1, 8], 0.01)
    y = b.fully_connected(x, units=3)
    b.tensors[y].quantization.zeroPoint = [5]
    with pytest.raises(UnsupportedType, match=r"op 0 \(FULLY_CONNECTED\).*zero point 5"):
        lower_graph(graph(tmp_path, b.build(y)))
