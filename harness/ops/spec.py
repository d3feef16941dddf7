"""OpSpec: one op and every implementation of it, declared in its family's spec.py.

An op family (a folder under harness/ops) holds, per op: the consistency checks
every valid model satisfies (``check``: NotAModel, exit 11), the builtin
runtime's own refusals of valid models (``lowerable``: exit 12/13), the C
emitter of the builtin runtime (``emit``), the numpy-int8 kernel (``numpy_int8``)
and the numpy-float kernel (``numpy_float``), and the activation types the emitter
and the int8 kernel handle. Data-independent parameters (multipliers, shifts,
tables) live in the family's params.py and are shared by the emitter and the
kernels. harness/ops/registry.py collects every family's SPECS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.model.graph import Graph, Op

if TYPE_CHECKING:
    from harness.ops.c_emit import LoweredOp
    from harness.ops.plan import OpPlan

CheckFn = Callable[[Graph, Op], None]
EmitFn = Callable[[Graph, Op, "LoweredOp"], None]
Int8Fn = Callable[["OpPlan", list[Any], "dict | None"], np.ndarray]
FloatFn = Callable[[Graph, Op, list[Any]], np.ndarray]

INT8 = frozenset({"int8"})


@dataclass(frozen=True)
class OpSpec:
    """Everything the harness knows about one builtin operator."""

    name: str  # the schema's BuiltinOperator name, e.g. "CONV_2D"
    required: tuple[int, ...] = ()  # operand positions that may not be absent (-1)
    check: CheckFn | None = None  # relations every valid model satisfies
    lowerable: CheckFn | None = None  # valid models the builtin runtime cannot generate
    emit: EmitFn | None = None  # the builtin runtime's C for this op
    emit_dtypes: frozenset[str] = INT8  # activation types the emitter handles
    numpy_int8: Int8Fn | None = None  # the numpy-int8 kernel
    numpy_int8_dtypes: frozenset[str] = INT8  # activation types that kernel handles
    numpy_float: FloatFn | None = None  # the numpy-float kernel (float64, dequantized weights)
    aliases_input: bool = False  # the output is the input's bytes: the arena shares them
