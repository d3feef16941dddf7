"""The shape family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.shape.reshape import check_reshape, emit_reshape, reshape_float, reshape_int8
from harness.ops.spec import OpSpec

ANY = frozenset({"int8", "int16", "float32"})

SPECS = (
    OpSpec("RESHAPE", check=check_reshape, emit=emit_reshape, emit_dtypes=ANY,
           numpy_int8=reshape_int8, numpy_int8_dtypes=ANY, numpy_float=reshape_float),
)
