"""What every valid FULLY_CONNECTED satisfies, and what the builtin runtime needs."""

from __future__ import annotations

from harness.model.graph import Graph, Op
from harness.ops.checks import (
    FUSED,
    check_bias,
    enum_option,
    invalid,
    need_positive,
    need_quantized_weights,
    need_rank,
    operands,
    output_of,
)
from harness.ops.lowerable import clamp_only, constant_weights


def check_fully_connected(graph: Graph, op: Op) -> None:
    """Weights [units, depth]; the input is a whole number of rows of ``depth``."""
    inp, w, *rest = operands(graph, op, 2)
    out = output_of(graph, op)
    enum_option(op, "fusedActivationFunction", FUSED)
    need_rank(op, w, 2, "weights")
    need_quantized_weights(op, inp, w)
    units, depth = w.shape
    need_positive(op, weight_rows=units, weight_columns=depth)
    if inp.size % depth:
        raise invalid(op, f"input of {inp.size} values is not a whole number of rows of "
                      f"{depth} (weights {w.shape})")
    if out.size != inp.size // depth * units:
        raise invalid(op, f"output {out.shape} does not hold {inp.size // depth} x {units} "
                      "values")
    check_bias(op, rest[0] if rest else None, units, inp)


def lowerable_fully_connected(graph: Graph, op: Op) -> None:
    """Constant weights and bias, and a clamp as fused activation."""
    constant_weights(graph, op, (1, 2))
    clamp_only(op)
