"""The elementwise family's ops, as the registry reads them."""

from __future__ import annotations

from typing import Any

from harness.ops.checks import same_shape
from harness.ops.elementwise import emit, numpy_float, numpy_int8
from harness.ops.elementwise.check import check_binary, lowerable_binary
from harness.ops.elementwise.params import DTYPES
from harness.ops.spec import CheckFn, EmitFn, Int8Fn, OpSpec


def _spec(name: str, check: CheckFn, emit_fn: EmitFn, kernel: Int8Fn, **more: Any) -> OpSpec:
    """One op, handling the same activation types in C and in NumPy (params.DTYPES)."""
    return OpSpec(name, check=check, emit=emit_fn, emit_dtypes=DTYPES[name],
                  numpy_int8=kernel, numpy_int8_dtypes=DTYPES[name], **more)


SPECS = (
    _spec("ADD", check_binary, emit.emit_binary, numpy_int8.add_sub, lowerable=lowerable_binary),
    _spec("SUB", check_binary, emit.emit_binary, numpy_int8.add_sub, lowerable=lowerable_binary),
    _spec("MUL", check_binary, emit.emit_binary, numpy_int8.mul, lowerable=lowerable_binary),
    _spec("RELU", same_shape, emit.emit_relu, numpy_int8.relu),
    _spec("RELU6", same_shape, emit.emit_relu, numpy_int8.relu),
    _spec("LEAKY_RELU", same_shape, emit.emit_leaky_relu, numpy_int8.leaky_relu),
    _spec("PRELU", check_binary, emit.emit_prelu, numpy_int8.prelu, required=(0, 1)),
    _spec("HARD_SWISH", same_shape, emit.emit_hard_swish, numpy_int8.hard_swish),
    _spec("LOGISTIC", same_shape, emit.emit_lookup, numpy_int8.lookup),
    _spec("TANH", same_shape, emit.emit_lookup, numpy_int8.lookup),
    _spec("MAXIMUM", check_binary, emit.emit_minmax, numpy_int8.minmax, required=(0, 1),
          numpy_float=numpy_float.minmax),
    _spec("MINIMUM", check_binary, emit.emit_minmax, numpy_int8.minmax, required=(0, 1),
          numpy_float=numpy_float.minmax),
)
