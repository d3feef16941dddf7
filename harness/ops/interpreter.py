"""Run a graph (or one op) with the registry's numpy kernels.

``numpy-int8``: the integer arithmetic of the builtin runtime's C kernels and
LiteRT's reference kernels (BUILTIN_REF), written for reading: every stage is a
NumPy expression over whole tensors, and ``trace`` dicts expose the
intermediates. ``requant`` (see harness.ops.plan.REQUANT_MODES) selects the
requantization arithmetic, to test drift hypotheses.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.model.graph import Graph, Op
from harness.ops.plan import OpPlan
from harness.ops.registry import OPS, lacking


def run_plan(plan: OpPlan, given: list[np.ndarray | None], trace: dict | None = None
             ) -> np.ndarray:
    """One op's numpy-int8 kernel on ``given`` inputs (None: absent or the constant)."""
    spec = OPS.get(plan.op.name)
    if spec is None or spec.numpy_int8 is None:
        raise NotImplementedError(f"no int8 implementation of {plan.op.name}")
    out = spec.numpy_int8(plan, plan.inputs(given), trace)
    shape = plan.tensor(plan.op.outputs[0]).shape
    if out.size != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"op {plan.op.index} ({plan.op.name}) computed {out.shape}, "
                         f"the model says {shape}")
    return out.reshape(shape)


def run_op(graph: Graph, op: Op, inputs: Sequence[np.ndarray | None], *,
           requant: str = "reference", trace: dict | None = None) -> np.ndarray:
    """Run one op on its input arrays (in op order; None = absent or "use the
    constant"). Returns the output array; ``trace`` receives the intermediates."""
    return run_plan(OpPlan(graph, op, requant), list(inputs), trace)


def unsupported(graph: Graph) -> list[str]:
    """Names of the graph's ops (or op and activation type pairs) numpy-int8 cannot run."""
    missing = sorted({op.name for op in graph.ops
                      if op.name not in OPS or OPS[op.name].numpy_int8 is None})
    missing += [f"{op.name} with {dtype} activations" for op, dtype in lacking(graph,
                                                                               "numpy_int8")]
    return sorted(set(missing))


class Int8Interpreter:
    """A graph prepared once for repeated :meth:`run` calls."""

    def __init__(self, graph: Graph, requant: str = "reference") -> None:
        missing = unsupported(graph)
        if missing:
            raise NotImplementedError(f"no int8 implementation of {', '.join(missing)}")
        self.graph = graph
        self.requant = requant
        self.plans = [OpPlan(graph, op, requant) for op in graph.ops]

    def run(self, inputs: Sequence[np.ndarray], traces: dict[int, dict] | None = None
            ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
        """Outputs, and every activation tensor by index; ``traces`` (if given)
        receives each op's intermediates by op index."""
        g = self.graph
        if len(inputs) != len(g.inputs):
            raise ValueError(f"{len(inputs)} inputs given, the model has {len(g.inputs)}")
        values: dict[int, np.ndarray] = {}
        for index, data in zip(g.inputs, inputs, strict=True):
            t = g.tensors[index]
            arr = np.asarray(data)
            if arr.dtype != np.dtype(t.dtype) or arr.size != t.size:
                raise ValueError(f"input {t.name!r} wants {t.dtype}{list(t.shape)}, "
                                 f"got {arr.dtype}{list(arr.shape)}")
            values[index] = arr.reshape(t.shape).copy()
        for plan in self.plans:
            given = [values.get(i) for i in plan.op.inputs]
            trace = None if traces is None else traces.setdefault(plan.op.index, {})
            values[plan.op.outputs[0]] = run_plan(plan, given, trace)
        return [values[i] for i in g.outputs], values


def run_graph(graph: Graph, inputs: Sequence[np.ndarray], *, requant: str = "reference"
              ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """Run the whole graph: ``(outputs, {tensor index: array} of every activation)``."""
    return Int8Interpreter(graph, requant).run(inputs)
