"""Firmware generation, part 1: lower each graph op to a call of a builtin kernel.

Each op's spec (harness/ops) says which activation types its C emitter handles and
what valid models it cannot generate; the emitter does all quantization arithmetic
that does not depend on the data (multipliers, shifts, padding, clamps) on the
host, so the target runs integer kernels only.
"""

from __future__ import annotations

from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph
from harness.ops.c_emit import C_TYPES, LoweredOp, tdesc
from harness.ops.registry import OPS, lacking


def _check_tensors(graph: Graph) -> None:
    """Every activation the ops use has a C type, and integer ones are quantized."""
    used = sorted({i for op in graph.ops for i in op.inputs + op.outputs if i >= 0})
    for t in (graph.tensors[i] for i in used):
        if t.is_const:
            continue
        if t.dtype not in C_TYPES:
            raise UnsupportedType(f"tensor {t.index} ({t.name!r}) is {t.dtype}, which the "
                                  "builtin runtime cannot hold")
        if t.dtype in ("int8", "int16") and not len(t.scales):
            raise UnsupportedType(f"tensor {t.index} ({t.name!r}) is {t.dtype} without "
                                  "quantization parameters; the builtin runtime needs a scale")


def check_supported(graph: Graph) -> None:
    """Refuse, before any build, a model the builtin runtime cannot run: an op without
    an emitter, what a spec's ``lowerable`` refuses (exit 12), an activation dtype the
    emitter does not declare, or a model input/output the generated code cannot hold
    (exit 13)."""
    emitters = sorted(name for name, spec in OPS.items() if spec.emit is not None)
    missing = sorted({op.name for op in graph.ops} - set(emitters))
    if missing:
        raise UnsupportedOp(
            f"{graph.path.name} uses op(s) the builtin runtime lacks: {', '.join(missing)}",
            hint=f"supported: {', '.join(emitters)}",
        )
    _check_tensors(graph)
    for op in graph.ops:
        if OPS[op.name].lowerable is not None:
            OPS[op.name].lowerable(graph, op)
    lacks = lacking(graph, "emit")
    if lacks:
        op, dtype = lacks[0]
        more = f" (and {len(lacks) - 1} more op(s))" if len(lacks) > 1 else ""
        raise UnsupportedType(
            f"op {op.index} ({op.name}) with {dtype} activations: not supported by the "
            f"builtin runtime{more}",
            hint=f"{op.name} handles {', '.join(sorted(OPS[op.name].emit_dtypes))}",
        )
    for t in graph.input_tensors() + graph.output_tensors():
        if t.dtype not in C_TYPES:
            raise UnsupportedType(f"model input/output {t.name!r} is {t.dtype}, which the "
                                  "builtin runtime cannot hold")


def lower_graph(graph: Graph) -> list[LoweredOp]:
    """Lower every op; the result is what the model template renders."""
    check_supported(graph)
    lowered = []
    for op in graph.ops:
        ins = [graph.tensors[i] for i in op.inputs if i >= 0 and not graph.tensors[i].is_const]
        outs = [graph.tensors[i] for i in op.outputs]
        lo = LoweredOp(op.index, op.name, [
            f"{op.name} (op {op.index}): "
            + ", ".join(tdesc(t) for t in ins) + " -> " + ", ".join(tdesc(t) for t in outs)
        ])
        OPS[op.name].emit(graph, op, lo)
        lowered.append(lo)
    return lowered
