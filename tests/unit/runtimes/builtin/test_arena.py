"""The arena planner against an independent liveness check."""

from __future__ import annotations

import pytest

from harness.ops.validate import load_model
from harness.runtimes.builtin.arena import plan_arena
from support.paths import EXAMPLE, shared_model


def _live_ranges(g):  # independent of the planner: which tensors are live at each step
    spans = {}
    for t in g.inputs:
        spans.setdefault(t, [-1, -1])
    for step, op in enumerate(g.ops):
        for t in op.inputs + op.outputs:
            if t >= 0 and not g.tensors[t].is_const:
                s = spans.setdefault(t, [step, step])
                s[0], s[1] = min(s[0], step), max(s[1], step)
    for t in g.outputs:
        spans[t][1] = len(g.ops)
    return spans


@pytest.mark.parametrize("model", ["example", "micro_speech_quantized.tflite",
                                   "person_detect.tflite"])
def test_arena_plan_never_overlaps_live_tensors(model: str) -> None:
    g = load_model(EXAMPLE if model == "example" else shared_model(model))
    plan = plan_arena(g)
    spans = _live_ranges(g)
    aliases = {op.outputs[0]: op.inputs[0] for op in g.ops if op.name == "RESHAPE"}
    items = list(spans.items())
    for i, (a, (a0, a1)) in enumerate(items):
        ra = (plan.offsets[a], plan.offsets[a] + g.tensors[a].nbytes)
        assert ra[1] <= plan.size
        for b, (b0, b1) in items[i + 1:]:
            if aliases.get(a) == b or aliases.get(b) == a:
                continue
            if a1 < b0 or b1 < a0:
                continue  # never live at the same time
            rb = (plan.offsets[b], plan.offsets[b] + g.tensors[b].nbytes)
            assert ra[1] <= rb[0] or rb[1] <= ra[0], f"tensors {a} and {b} overlap"
    assert plan.size <= plan.naive_size
