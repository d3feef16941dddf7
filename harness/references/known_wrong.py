"""Models a reference is known to get wrong: refuse rather than enforce garbage.

The pipeline refuses a reference for a model when the model holds an op / dtype
combination the reference is known to misread: the reference is recorded as
"unavailable" with a reason naming the ops (results.json), it is not run, and
the runtime's stand-in (e.g. numpy-int8 for litert-ref) is enforced instead, as
for any reference that cannot run a model. Calling the reference directly
(harness.references.runner) still runs it, to look at what it does.

Each rule is ``(references, op name, predicate(graph, op), reason)``; keep a
rule only while the misreading is real.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.model.graph import Graph, Op
from harness.references.runner import ReferenceResult

Predicate = Callable[[Graph, Op], bool]


def _svdf_int8_time_weights(graph: Graph, op: Op) -> bool:
    """An int8 SVDF with int8 weights_time (and state): the TFLite Micro layout."""
    return (graph.tensors[op.inputs[0]].dtype == "int8"
            and graph.tensors[op.inputs[2]].dtype == "int8")


RULES: list[tuple[frozenset[str], str, Predicate, str]] = [
    (frozenset({"litert-ref", "litert"}), "SVDF", _svdf_int8_time_weights,
     "LiteRT's SVDF reads int8 weights_time and state as int16 (it only knows the "
     "int16-state layout), so its outputs are garbage"),
]


def known_wrong(reference: str, graph: Graph) -> str | None:
    """Why ``reference`` must not be trusted on ``graph``, or None."""
    for refs, name, predicate, reason in RULES:
        if reference not in refs:
            continue
        hits = [op.index for op in graph.ops if op.name == name and predicate(graph, op)]
        if hits:
            ops = ", ".join(str(i) for i in hits[:4]) + (", ..." if len(hits) > 4 else "")
            return f"known wrong for this model: op(s) {ops} ({name}): {reason}"
    return None


def refusal(reference: str, graph: Graph) -> ReferenceResult | None:
    """An "unavailable" result for a reference known wrong on ``graph``, else None."""
    why = known_wrong(reference, graph)
    return ReferenceResult(reference, "unavailable", why) if why else None
