"""The recurrent family's ops, as the registry reads them."""

from __future__ import annotations

from harness.ops.recurrent import numpy_int8
from harness.ops.recurrent.emit import emit_lstm, emit_svdf
from harness.ops.recurrent.params import LSTM_REQUIRED, SVDF_REQUIRED
from harness.ops.spec import OpSpec

# Variable (state) tensors count as activations in the dtype checks and the coverage
# table: "int16" is SVDF's int16 state and the LSTM's int16 cell state; the input and
# output are int8 in both (the emitter refuses others with UnsupportedType).
INT8_16 = frozenset({"int8", "int16"})

SPECS = (
    OpSpec("SVDF", required=SVDF_REQUIRED, emit=emit_svdf, emit_dtypes=INT8_16,
           numpy_int8=numpy_int8.svdf, numpy_int8_dtypes=INT8_16),
    OpSpec("UNIDIRECTIONAL_SEQUENCE_LSTM", required=LSTM_REQUIRED, emit=emit_lstm,
           emit_dtypes=INT8_16, numpy_int8=numpy_int8.lstm, numpy_int8_dtypes=INT8_16),
)
