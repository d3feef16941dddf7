"""Activation data types: which ones an op uses, and which ones each implementation handles.

Every op implementation (the builtin runtime's lowerings in ``harness/lower*.py``
and the NumPy reference in ``harness/int8ops*.py``) declares a
``DTYPES: dict[op name -> frozenset of activation dtypes]``. An op's activation
dtypes are those of its non-constant int8 / int16 / float32 inputs and outputs
(integer index or shape tensors, e.g. int32, are the op's own business).
:func:`coverage_table` renders both declarations as one markdown table.
"""

from __future__ import annotations

from harness.model import Graph, Op

ACTIVATION_DTYPES = ("int8", "int16", "float32")
INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767)}


def activation_dtypes(graph: Graph, op: Op) -> frozenset[str]:
    """The activation dtypes among ``op``'s non-constant inputs and outputs."""
    found = set()
    for i in op.inputs + op.outputs:
        if i >= 0 and not graph.tensors[i].is_const and graph.tensors[i].dtype in ACTIVATION_DTYPES:
            found.add(graph.tensors[i].dtype)
    return frozenset(found)


def lacking(graph: Graph, dtypes: dict[str, frozenset[str]]
            ) -> list[tuple[Op, str]]:
    """``(op, dtype)`` for every op (with an entry in ``dtypes``) that uses an activation
    dtype its entry does not list."""
    out = []
    for op in graph.ops:
        if op.name in dtypes:
            out += [(op, d) for d in sorted(activation_dtypes(graph, op) - dtypes[op.name])]
    return out


def coverage_rows() -> list[tuple[str, str, bool, bool]]:
    """``(op, dtype, builtin, numpy-int8)`` for every op either side knows."""
    from harness.int8ops import DTYPES as NUMPY_DTYPES
    from harness.lower import DTYPES as BUILTIN_DTYPES

    rows = []
    for name in sorted(set(BUILTIN_DTYPES) | set(NUMPY_DTYPES)):
        for dtype in ACTIVATION_DTYPES:
            rows.append((name, dtype, dtype in BUILTIN_DTYPES.get(name, frozenset()),
                         dtype in NUMPY_DTYPES.get(name, frozenset())))
    return rows


def coverage_table() -> str:
    """The op x dtype coverage as a markdown table (one row per op, a column per
    dtype and implementation)."""
    rows = coverage_rows()
    impls = ("builtin", "numpy-int8")
    head = ["op"] + [f"{d} {impl}" for d in ACTIVATION_DTYPES for impl in impls]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by_op: dict[str, dict[str, tuple[bool, bool]]] = {}
    for name, dtype, builtin, numpy in rows:
        by_op.setdefault(name, {})[dtype] = (builtin, numpy)
    for name, cells in by_op.items():
        marks = [("yes" if flag else "-") for d in ACTIVATION_DTYPES for flag in cells[d]]
        lines.append("| " + " | ".join([name, *marks]) + " |")
    return "\n".join(lines) + "\n"
