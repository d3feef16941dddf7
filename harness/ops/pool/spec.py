"""The pooling family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.pool import numpy_float, numpy_int8
from harness.ops.pool.check import check_pool, lowerable_pool
from harness.ops.pool.emit import emit_pool
from harness.ops.spec import OpSpec

SPECS = (
    OpSpec("AVERAGE_POOL_2D", check=check_pool, lowerable=lowerable_pool, emit=emit_pool,
           numpy_int8=numpy_int8.average_pool2d, numpy_float=numpy_float.average_pool2d),
    OpSpec("MAX_POOL_2D", check=check_pool, lowerable=lowerable_pool, emit=emit_pool,
           numpy_int8=numpy_int8.max_pool2d, numpy_float=numpy_float.max_pool2d),
)
