"""Per-layer localisation: compare every op's output between two sources, name the first
op where they diverge.

A source is a dict {tensor index: stacked array (vectors first)} plus whether its
values are real numbers (numpy-float) or in the tensors' integer domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.analysis.compare import to_lsb, to_real
from harness.model.graph import Graph


@dataclass
class Source:
    name: str
    tensors: dict[int, np.ndarray]
    real_valued: bool = False


def op_table(graph: Graph) -> list[dict]:
    """The ops in execution order with the tensor each one produces."""
    return [{"index": op.index, "name": op.name, "tensor": op.outputs[0],
             "tensor_name": graph.tensors[op.outputs[0]].name} for op in graph.ops]


def compare_layers(graph: Graph, a: Source, b: Source) -> dict | None:
    """Per-op max |d| (LSB), exact rate and RMSE of a against b; None if no shared tensor.

    A pair of integer sources diverges at the first op with any difference; a pair
    with a real-valued side at the first op more than 1 LSB apart (quantizing a real
    value alone can move it by one).
    """
    threshold = 1 if (a.real_valued or b.real_valued) else 0
    layers, first = [], None
    for op in graph.ops:
        index = op.outputs[0]
        if index not in a.tensors or index not in b.tensors:
            continue
        t = graph.tensors[index]
        n = min(len(a.tensors[index]), len(b.tensors[index]))
        aq = to_lsb(t, a.tensors[index][:n], a.real_valued)
        bq = to_lsb(t, b.tensors[index][:n], b.real_valued)
        err = (to_real(t, a.tensors[index][:n], a.real_valued)
               - to_real(t, b.tensors[index][:n], b.real_valued))
        delta = np.abs(aq - bq)
        row = {"op": op.index, "name": op.name, "max_abs_lsb": int(delta.max(initial=0)),
               "exact_rate": float((delta == 0).mean()) if delta.size else 1.0,
               "rmse": float(np.sqrt(np.mean(err * err))) if err.size else 0.0}
        layers.append(row)
        if first is None and row["max_abs_lsb"] > threshold:
            first = {"op": op.index, "name": op.name, "max_abs_lsb": row["max_abs_lsb"],
                     "tensor": index, "tensor_name": t.name}
    if not layers:
        return None
    return {"a": a.name, "b": b.name, "threshold_lsb": threshold, "layers": layers,
            "first_divergence": first}


def localize(graph: Graph, sources: dict[str, Source], pairs: list[tuple[str, str]]) -> dict:
    """results.json's `per_layer` section for the given (a, b) pairs."""
    out = []
    for a, b in pairs:
        if a in sources and b in sources:
            row = compare_layers(graph, sources[a], sources[b])
            if row:
                out.append(row)
    return {"ops": op_table(graph), "sources": sorted(sources), "pairs": out}
