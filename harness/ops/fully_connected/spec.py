"""The fully-connected family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.fully_connected import batch_matmul, numpy_float, numpy_int8
from harness.ops.fully_connected.check import check_fully_connected, lowerable_fully_connected
from harness.ops.fully_connected.emit import emit_fully_connected
from harness.ops.spec import OpSpec

INT8_16_F32 = frozenset({"int8", "int16", "float32"})

SPECS = (
    OpSpec("FULLY_CONNECTED", check=check_fully_connected, lowerable=lowerable_fully_connected,
           emit=emit_fully_connected, emit_dtypes=INT8_16_F32,
           numpy_int8=numpy_int8.fully_connected, numpy_int8_dtypes=INT8_16_F32,
           numpy_float=numpy_float.fully_connected),
    OpSpec("BATCH_MATMUL", required=(0, 1), check=batch_matmul.check_batch_matmul,
           emit=batch_matmul.emit_batch_matmul, emit_dtypes=batch_matmul.DTYPES,
           numpy_int8=batch_matmul.batch_matmul_int8, numpy_int8_dtypes=batch_matmul.DTYPES),
)
