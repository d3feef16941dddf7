"""`--profile`: per-op counts from the device, in the counter's unit.

builtin steps the graph op by op and keeps each INVOKE's count; tflm runs
whole inferences and its profiler (TFLM's MicroProfilerInterface, timed with
the same counter) sends "hx_prof <event> <ticks> <tag>" LOG lines after each.
"""

from __future__ import annotations

import re

import numpy as np

from harness.model.graph import Graph

_PROF = re.compile(r"hx_prof (\d+) (\d+) (\S+)")


def tflm_op_counts(logs: list[str], num_ops: int) -> list[list[int]]:
    """Per inference, the ticks of each op event, from the device's LOG lines."""
    runs: list[list[int]] = []
    for line in logs:
        m = _PROF.search(line)
        if not m:
            continue
        if int(m.group(1)) == 0:
            runs.append([])
        if runs:
            runs[-1].append(int(m.group(2)))
    return [r for r in runs if len(r) == num_ops]


def profile_section(graph: Graph, op_counts: list[list[int]], scale: float, unit: str | None
                    ) -> list[dict]:
    """One row per op: median, min and max count over the vectors, and its share."""
    if not op_counts:
        return []
    arr = np.asarray(op_counts, dtype=np.float64) * scale
    med = np.median(arr, axis=0)
    total = float(med.sum()) or 1.0
    return [{"op": op.index, "name": op.name, "median": int(med[i]), "min": int(arr[:, i].min()),
             "max": int(arr[:, i].max()), "share": round(float(med[i]) / total, 4), "unit": unit}
            for i, op in enumerate(graph.ops)]
