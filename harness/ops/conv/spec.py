"""The convolution family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.conv import numpy_float, numpy_int8, transpose_conv
from harness.ops.conv.check import (
    check_conv2d,
    check_depthwise,
    lowerable_conv2d,
    lowerable_depthwise,
)
from harness.ops.conv.emit import emit_conv
from harness.ops.spec import OpSpec

INT8_16 = frozenset({"int8", "int16"})

SPECS = (
    OpSpec("CONV_2D", check=check_conv2d, lowerable=lowerable_conv2d, emit=emit_conv,
           emit_dtypes=INT8_16, numpy_int8=numpy_int8.conv2d,
           numpy_int8_dtypes=INT8_16, numpy_float=numpy_float.conv2d),
    OpSpec("DEPTHWISE_CONV_2D", check=check_depthwise, lowerable=lowerable_depthwise,
           emit=emit_conv, emit_dtypes=INT8_16, numpy_int8=numpy_int8.depthwise_conv2d,
           numpy_int8_dtypes=INT8_16, numpy_float=numpy_float.depthwise_conv2d),
    OpSpec("TRANSPOSE_CONV", required=(0, 1, 2), check=transpose_conv.check_transpose_conv,
           lowerable=transpose_conv.lowerable_transpose_conv,
           emit=transpose_conv.emit_transpose_conv, emit_dtypes=transpose_conv.DTYPES,
           numpy_int8=transpose_conv.transpose_conv_int8,
           numpy_int8_dtypes=transpose_conv.DTYPES),
)
