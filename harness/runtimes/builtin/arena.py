"""Plan the tensor arena on the host: lifetimes, aliases, first-fit offsets.

Tensors whose lifetimes do not overlap share bytes. RESHAPE, SQUEEZE and
EXPAND_DIMS outputs alias their input (same bytes, no copy), so an alias group
lives as long as any member.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.graph import Graph
from harness.ops.registry import OPS

ALIGN = 16


@dataclass
class ArenaPlan:
    offsets: dict[int, int]  # tensor index -> byte offset in the arena
    size: int  # bytes the arena needs
    naive_size: int  # bytes without reuse, for the report


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# Ops whose output is their input's bytes (their specs say so): RESHAPE, SQUEEZE, ...
ALIAS_OPS = frozenset(name for name, spec in OPS.items() if spec.aliases_input)


def plan_arena(graph: Graph, alias_ops: frozenset[str] = ALIAS_OPS) -> ArenaPlan:
    """Give every non-constant tensor an offset so that live tensors never overlap."""
    root = {}

    def find(t: int) -> int:
        while root.get(t, t) != t:
            t = root[t]
        return t

    for op in graph.ops:
        if op.name in alias_ops:
            root[find(op.outputs[0])] = find(op.inputs[0])

    last = len(graph.ops)
    life: dict[int, list[int]] = {}

    def touch(t: int, step: int) -> None:
        if t < 0 or graph.tensors[t].is_const:
            return
        r = find(t)
        span = life.setdefault(r, [step, step])
        span[0], span[1] = min(span[0], step), max(span[1], step)

    for t in graph.inputs:
        touch(t, -1)
    for step, op in enumerate(graph.ops):
        for t in op.inputs + op.outputs:
            touch(t, step)
    for t in graph.outputs:
        touch(t, last)

    sizes: dict[int, int] = {}
    for t, tensor in enumerate(graph.tensors):
        if tensor.is_const or find(t) not in life:
            continue
        r = find(t)
        sizes[r] = max(sizes.get(r, 0), _align(tensor.nbytes))

    placed: list[tuple[int, int, int, int]] = []  # offset, size, first, last
    offsets: dict[int, int] = {}
    for r in sorted(sizes, key=lambda k: (-sizes[k], life[k][0])):
        first, end = life[r]
        busy = sorted((o, o + s) for o, s, f, e in placed if not (e < first or f > end))
        offset = 0
        for lo, hi in busy:
            if offset + sizes[r] <= lo:
                break
            offset = max(offset, hi)
        placed.append((offset, sizes[r], first, end))
        offsets[r] = offset

    all_offsets = {}
    for t, tensor in enumerate(graph.tensors):
        if not tensor.is_const and find(t) in offsets:
            all_offsets[t] = offsets[find(t)]
    size = max((o + s for o, s, _, _ in placed), default=0)
    return ArenaPlan(all_offsets, size, sum(sizes.values()))
