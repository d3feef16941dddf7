"""The conversion family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.checks import same_shape
from harness.ops.conversion import numpy_int8
from harness.ops.conversion.emit import emit_convert, emit_quantize
from harness.ops.spec import OpSpec

ANY = frozenset({"int8", "int16", "float32"})

SPECS = (
    OpSpec("QUANTIZE", check=same_shape, emit=emit_quantize, emit_dtypes=ANY,
           numpy_int8=numpy_int8.quantize, numpy_int8_dtypes=ANY),
    OpSpec("DEQUANTIZE", check=same_shape, emit=emit_convert, emit_dtypes=ANY,
           numpy_int8=numpy_int8.dequantize, numpy_int8_dtypes=ANY),
)
