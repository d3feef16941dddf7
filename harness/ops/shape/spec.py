"""The shape family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.checks import same_size
from harness.ops.shape import concatenation, mean, pad, squeeze, strided_slice, transpose
from harness.ops.shape.reshape import check_reshape, emit_reshape, reshape_float, reshape_int8
from harness.ops.spec import OpSpec

ANY = frozenset({"int8", "int16", "float32"})

SPECS = (
    OpSpec("RESHAPE", check=check_reshape, emit=emit_reshape, emit_dtypes=ANY,
           numpy_int8=reshape_int8, numpy_int8_dtypes=ANY, numpy_float=reshape_float,
           aliases_input=True),
    OpSpec("SQUEEZE", check=same_size, emit=squeeze.emit_alias, emit_dtypes=squeeze.DTYPES,
           numpy_int8=squeeze.same_bytes_int8, numpy_int8_dtypes=squeeze.DTYPES,
           aliases_input=True),
    OpSpec("EXPAND_DIMS", required=(0, 1), check=same_size, emit=squeeze.emit_alias,
           emit_dtypes=squeeze.DTYPES, numpy_int8=squeeze.same_bytes_int8,
           numpy_int8_dtypes=squeeze.DTYPES, aliases_input=True),
    OpSpec("CONCATENATION", check=concatenation.check_concatenation,
           emit=concatenation.emit_concatenation, emit_dtypes=concatenation.DTYPES,
           numpy_int8=concatenation.concatenation_int8,
           numpy_int8_dtypes=concatenation.DTYPES),
    *(OpSpec(name, required=(0, 1), check=pad.check_pad, emit=pad.emit_pad,
             emit_dtypes=pad.DTYPES, numpy_int8=pad.pad_int8, numpy_int8_dtypes=pad.DTYPES)
      for name in ("PAD", "PADV2")),
    OpSpec("STRIDED_SLICE", required=(0, 1, 2, 3), check=strided_slice.check_strided_slice,
           emit=strided_slice.emit_strided_slice, emit_dtypes=strided_slice.DTYPES,
           numpy_int8=strided_slice.strided_slice_int8,
           numpy_int8_dtypes=strided_slice.DTYPES),
    OpSpec("TRANSPOSE", required=(0, 1), check=transpose.check_transpose,
           emit=transpose.emit_transpose, emit_dtypes=transpose.DTYPES,
           numpy_int8=transpose.transpose_int8, numpy_int8_dtypes=transpose.DTYPES),
    OpSpec("MEAN", required=(0, 1), check=mean.check_mean, emit=mean.emit_mean,
           emit_dtypes=mean.DTYPES, numpy_int8=mean.mean_int8, numpy_int8_dtypes=mean.DTYPES),
)
