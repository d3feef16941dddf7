"""Transitional: the elementwise and recurrent families still live in the old
parallel modules (int8ops_*, lower_*); this adapter reads their dictionaries into
OpSpecs until each family has its own folder."""

from __future__ import annotations

import numpy as np

from harness import (
    int8ops_elementwise,
    int8ops_recurrent,
    lower_elementwise,
    lower_recurrent,
)
from harness.model.graph import Graph, Op
from harness.ops.checks import (
    FUSED,
    enum_option,
    invalid,
    operands,
    output_of,
    same_shape,
)
from harness.ops.lowerable import clamp_only
from harness.ops.spec import OpSpec


def check_binary(graph: Graph, op: Op) -> None:
    """Two inputs that broadcast to the output."""
    a, b, *_ = operands(graph, op, 2)
    out = output_of(graph, op)
    if "fusedActivationFunction" in op.options:
        enum_option(op, "fusedActivationFunction", FUSED)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise invalid(op, f"inputs {a.shape} and {b.shape} do not broadcast") from None
    if tuple(shape) != out.shape:
        raise invalid(op, f"output {out.shape} is not the broadcast {tuple(shape)} of its "
                      "inputs")


def _clamp(graph: Graph, op: Op) -> None:
    clamp_only(op)


CHECKS = {
    "QUANTIZE": same_shape,
    "DEQUANTIZE": same_shape, "RELU": same_shape, "RELU6": same_shape,
    "LEAKY_RELU": same_shape, "LOGISTIC": same_shape, "TANH": same_shape,
    "HARD_SWISH": same_shape, "ADD": check_binary, "SUB": check_binary, "MUL": check_binary,
    "PRELU": check_binary,
}
REQUIRED = {
    "SVDF": (0, 1, 2, 4), "PRELU": (0, 1),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": (0, 2, 3, 4, 6, 7, 8, 13, 14, 15, 18, 19),
}
CLAMPED = {"ADD", "SUB", "MUL"}


def _specs() -> tuple[OpSpec, ...]:
    out = []
    for kernels, lowerings, dtypes in (
            (int8ops_elementwise, lower_elementwise, int8ops_elementwise.DTYPES),
            (int8ops_recurrent, lower_recurrent, int8ops_recurrent.DTYPES)):
        for name, emit in lowerings.LOWERINGS.items():
            out.append(OpSpec(
                name, required=REQUIRED.get(name, ()), check=CHECKS.get(name),
                lowerable=_clamp if name in CLAMPED else None, emit=emit,
                emit_dtypes=lowerings.DTYPES[name], numpy_int8=kernels.KERNELS.get(name),
                numpy_int8_dtypes=dtypes.get(name, frozenset({"int8"}))))
    return tuple(out)


SPECS = _specs()
