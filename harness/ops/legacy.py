"""Transitional: the shape family still lives in the old
parallel modules (int8ops_*, lower_*, model_check_shape); this adapter reads their
dictionaries into OpSpecs until each family has its own folder."""

from __future__ import annotations

from harness import (
    int8ops_shape,
    lower_shape,
    model_check_shape,
)
from harness.model.graph import Graph, Op
from harness.ops.checks import same_size
from harness.ops.lowerable import clamp_only
from harness.ops.spec import OpSpec


def _clamp(graph: Graph, op: Op) -> None:
    clamp_only(op)


CHECKS = {"SQUEEZE": same_size, "EXPAND_DIMS": same_size, **model_check_shape.SHAPE_CHECKS}
REQUIRED = {
    "STRIDED_SLICE": (0, 1, 2, 3), "PAD": (0, 1), "PADV2": (0, 1), "MEAN": (0, 1),
    "TRANSPOSE": (0, 1), "EXPAND_DIMS": (0, 1), "BATCH_MATMUL": (0, 1),
    "TRANSPOSE_CONV": (0, 1, 2),
}
CLAMPED = {"TRANSPOSE_CONV"}


def _specs() -> tuple[OpSpec, ...]:
    out = []
    for kernels, lowerings, dtypes in (
            (int8ops_shape, lower_shape, int8ops_shape.DTYPES),):
        for name, emit in lowerings.LOWERINGS.items():
            out.append(OpSpec(
                name, required=REQUIRED.get(name, ()), check=CHECKS.get(name),
                lowerable=_clamp if name in CLAMPED else None, emit=emit,
                emit_dtypes=lowerings.DTYPES[name], numpy_int8=kernels.KERNELS.get(name),
                numpy_int8_dtypes=dtypes.get(name, frozenset({"int8"}))))
    return tuple(out)


SPECS = _specs()
