"""A model the harness can trust: parsed, structurally sound, and every op consistent
with itself by its spec's checks (NotAModel, exit 11, naming the op)."""

from __future__ import annotations

from pathlib import Path

from harness.model.graph import Graph
from harness.model.reader import parse_model, parse_model_bytes
from harness.ops.checks import invalid
from harness.ops.registry import OPS


def check_ops(graph: Graph) -> None:
    """Raise NotAModel, naming the op, for the first op inconsistent with itself:
    a required operand absent, then the spec's own check."""
    for op in graph.ops:
        spec = OPS.get(op.name)
        if spec is None:
            continue  # an op the harness does not know: the runtimes say so
        missing = [k for k in spec.required if k >= len(op.inputs) or op.inputs[k] < 0]
        if missing:
            raise invalid(op, f"input(s) {missing} are missing (it has {len(op.inputs)}: "
                          f"{op.inputs})")
        if spec.check is not None:
            spec.check(graph, op)


def load_model(path: str | Path) -> Graph:
    """Read a .tflite file and check it, structure and ops (one-line BadInput otherwise)."""
    graph = parse_model(path)
    check_ops(graph)
    return graph


def load_model_bytes(data: bytes, path: Path | None = None) -> Graph:
    """The same for model bytes (see load_model)."""
    graph = parse_model_bytes(data, path)
    check_ops(graph)
    return graph
