"""The one registry of ops: every family's SPECS, looked up by builtin operator name.

A new op family is a folder under harness/ops with a spec.py holding SPECS, and
one line in FAMILIES below. Everything that needs to know about ops reads this
registry: the consistency checks after parsing, the builtin runtime's support
checks and C emission, the numpy references, and the coverage table.
"""

from __future__ import annotations

from harness.model.graph import Graph, Op
from harness.ops.conv import spec as conv
from harness.ops.conversion import spec as conversion
from harness.ops.elementwise import spec as elementwise
from harness.ops.fully_connected import spec as fully_connected
from harness.ops.pool import spec as pool
from harness.ops.recurrent import spec as recurrent
from harness.ops.shape import spec as shape
from harness.ops.softmax import spec as softmax
from harness.ops.spec import OpSpec

FAMILIES = (conv, fully_connected, pool, softmax, elementwise, conversion, shape, recurrent)

ACTIVATION_DTYPES = ("int8", "int16", "float32")


def _collect() -> dict[str, OpSpec]:
    ops: dict[str, OpSpec] = {}
    for family in FAMILIES:
        for spec in family.SPECS:
            if spec.name in ops:
                raise RuntimeError(f"op {spec.name} is declared twice ({family.__name__})")
            ops[spec.name] = spec
    return dict(sorted(ops.items()))


OPS: dict[str, OpSpec] = _collect()


def activation_dtypes(graph: Graph, op: Op) -> frozenset[str]:
    """The activation dtypes among ``op``'s non-constant int8/int16/float32 inputs and
    outputs (integer index or shape tensors, e.g. int32, are the op's own business)."""
    found = set()
    for i in op.inputs + op.outputs:
        if i >= 0 and not graph.tensors[i].is_const and \
                graph.tensors[i].dtype in ACTIVATION_DTYPES:
            found.add(graph.tensors[i].dtype)
    return frozenset(found)


def lacking(graph: Graph, impl: str) -> list[tuple[Op, str]]:
    """``(op, dtype)`` for every op whose ``impl`` ("emit" or "numpy_int8") exists but
    does not handle one of the activation dtypes the op uses."""
    out = []
    for op in graph.ops:
        spec = OPS.get(op.name)
        if spec is not None and getattr(spec, impl) is not None:
            handled = getattr(spec, f"{impl}_dtypes")
            out += [(op, d) for d in sorted(activation_dtypes(graph, op) - handled)]
    return out


def coverage_rows() -> list[tuple[str, str, bool, bool]]:
    """``(op, dtype, builtin, numpy-int8)`` for every op either implementation knows."""
    rows = []
    for name, spec in OPS.items():
        if spec.emit is None and spec.numpy_int8 is None:
            continue
        for dtype in ACTIVATION_DTYPES:
            rows.append((name, dtype, spec.emit is not None and dtype in spec.emit_dtypes,
                         spec.numpy_int8 is not None and dtype in spec.numpy_int8_dtypes))
    return rows


def coverage_table() -> str:
    """The op x dtype coverage as a markdown table (one row per op, a column per
    dtype and implementation); the README's "Op coverage" section is this output."""
    impls = ("builtin", "numpy-int8")
    head = ["op"] + [f"{d} {impl}" for d in ACTIVATION_DTYPES for impl in impls]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    by_op: dict[str, dict[str, tuple[bool, bool]]] = {}
    for name, dtype, builtin, numpy in coverage_rows():
        by_op.setdefault(name, {})[dtype] = (builtin, numpy)
    for name, cells in by_op.items():
        marks = [("yes" if flag else "-") for d in ACTIVATION_DTYPES for flag in cells[d]]
        lines.append("| " + " | ".join([name, *marks]) + " |")
    return "\n".join(lines) + "\n"
