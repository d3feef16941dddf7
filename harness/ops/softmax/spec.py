"""The softmax family's op, as the registry reads it."""

from __future__ import annotations

from harness.ops.softmax import numpy_float, numpy_int8
from harness.ops.softmax.check import check_softmax, lowerable_softmax
from harness.ops.softmax.emit import emit_softmax
from harness.ops.spec import OpSpec

INT8_16 = frozenset({"int8", "int16"})

SPECS = (
    OpSpec("SOFTMAX", check=check_softmax, lowerable=lowerable_softmax, emit=emit_softmax,
           emit_dtypes=INT8_16, numpy_int8=numpy_int8.softmax, numpy_int8_dtypes=INT8_16,
           numpy_float=numpy_float.softmax),
)
