"""FULLY_CONNECTED parameters that do not depend on the data, shared by the C emitter
and the numpy kernel."""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.graph import Graph, Op
from harness.quant.multiplier import fc_requant


@dataclass(frozen=True)
class FcParams:
    """Shape of the product and its requantization (integer activations)."""

    batches: int  # rows of the input
    accum: int  # depth of each row
    units: int  # outputs per row
    multipliers: list[int]  # Q0.31, one per unit (or one per tensor); empty for float32
    shifts: list[int]


def fc_params(graph: Graph, op: Op) -> FcParams:
    """Rows, depth, units, and (integer inputs) the multipliers and shifts."""
    inp, w, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    units, accum = w.shape
    mults: list[int] = []
    shifts: list[int] = []
    if inp.dtype != "float32":
        mults, shifts = fc_requant(inp.scale, [float(s) for s in w.scales], out.scale)
    return FcParams(inp.size // accum, accum, units, mults, shifts)
