"""NumPy implementations of the recurrent ops (same arithmetic as firmware/kernels/hx_recurrent.c).

SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM (:mod:`harness.int8ops_lstm`) keep state in
*variable* tensors (SVDF's activation state, the LSTM's output and cell state).

State across vectors - what every side does, and why it is the same:

* LiteRT (``litert-ref``) and TFLite Micro (``tflm-host``) run all vectors of a
  run through ONE interpreter, in order (``references/runner.py``); variable
  tensors start at their zero point (int8) or 0 (int16) when the interpreter is
  built and are updated in place by every Invoke(). So vector k sees the state
  left by vectors 0..k-1.
* Here the state lives in the op's :class:`OpPlan` (``plan.cache["state"]``), set
  to the zero point on first use; one :class:`~harness.int8ops.Int8Interpreter`
  runs a whole run, so it carries the state from vector to vector the same way.
  A fresh plan (``run_op``) starts from the zero point again.
* On the device each recurrent op owns static RAM for its variable tensors
  (``lower_recurrent``): set to the zero point once after boot, never placed in
  the reused arena, updated by every INVOKE. A run boots the firmware once.

Consequences: vectors must run in the same order everywhere (they do), and a
``--resume``d run or a board reset mid-run restarts the device's state, so it
diverges from references that did not restart.

SVDF comes in two integer flavours, told apart by the state tensor's type:

* int16 state and int16 time weights (the TFLite quantization spec; LiteRT's
  kernel, which reads the state and time weights as int16 whatever their type);
* int8 state with a zero point and int8 time weights (TFLite Micro only, e.g.
  ``keyword_scrambled_8bit``; LiteRT misreads this model, so TFLite Micro is the
  reference for it).

Both keep the newest feature activations in the state's last column; the
output is ``bias + sum over rank of (time weights . state)``, requantized to int8
with no activation clamp beyond the int8 range (LiteRT and TFLite Micro both ignore
the fused RELU there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from harness import int8ops_lstm
from harness.model.graph import Graph, Op
from harness.quant.fixedpoint import requant_double, wrap32
from harness.quant.multiplier import quantize_multiplier

if TYPE_CHECKING:
    from harness.ops.plan import OpPlan


def f32_scale(a: float, b: float, c: float) -> float:
    """``a * b / c`` in float32 arithmetic, as the recurrent kernels' Prepare() does it."""
    f = np.float32
    return float(f(f(f(a) * f(b)) / f(c)))


def state(plan: OpPlan, k: int, shape: tuple[int, ...]) -> np.ndarray:
    """The op's variable input ``k`` as kept across runs (int64, starts at its zero point)."""
    store = plan.cache.setdefault("state", {})
    if k not in store:
        t = plan.tensor(plan.op.inputs[k])
        zp = t.zero_point if t.dtype == "int8" else 0
        store[k] = np.full(shape, zp, np.int64)
    return store[k]


# ---- SVDF ------------------------------------------------------------------------


@dataclass
class SvdfParams:
    """What SVDF needs besides the data (computed on the host for the C kernel too)."""

    batches: int
    inputs: int
    filters: int
    units: int
    rank: int
    memory: int
    input_zp: int
    state_zp: int  # 0 for int16 state
    output_zp: int
    state_bits: int  # 8 or 16
    feature_rq: tuple[int, int]  # (multiplier, shift): input x features -> state
    output_rq: tuple[int, int]  # state x time weights -> output


def svdf_params(graph: Graph, op: Op) -> SvdfParams:
    """Check an integer SVDF and work out its parameters."""
    t = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    x, wf, wt, st = t[0], t[1], t[2], t[4]
    out = graph.tensors[op.outputs[0]]
    if x is None or wf is None or wt is None or st is None:
        raise ValueError(f"op {op.index} (SVDF) lacks an input, feature/time weights or state")
    if x.dtype != "int8" or out.dtype != "int8" or wf.dtype != "int8":
        raise ValueError(f"op {op.index} (SVDF): integer SVDF needs int8 input, feature "
                         f"weights and output, not {x.dtype}/{wf.dtype}/{out.dtype}")
    if st.dtype not in ("int8", "int16") or wt.dtype != st.dtype:
        raise ValueError(f"op {op.index} (SVDF): state and time weights must both be int8 "
                         f"or both int16, not {st.dtype}/{wt.dtype}")
    rank = int(op.options.get("rank", 1))
    filters, memory = int(wf.shape[0]), int(wt.shape[1])
    if rank < 1 or filters % rank:
        raise ValueError(f"op {op.index} (SVDF): {filters} filters are not a multiple of "
                         f"rank {rank}")
    m1 = quantize_multiplier(f32_scale(x.scale, wf.scale, st.scale))
    m2 = quantize_multiplier(f32_scale(st.scale, wt.scale, out.scale))
    return SvdfParams(int(x.shape[0]), int(x.shape[-1]), filters, filters // rank, rank,
                      memory, x.zero_point, st.zero_point if st.dtype == "int8" else 0,
                      out.zero_point, 8 if st.dtype == "int8" else 16, m1, m2)


def _bias(data: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, np.int64) if data is None else data.astype(np.int64).reshape(n)


def svdf(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """SVDF: features into the state's newest column, then time weights over the memory."""
    p = plan.cache.get("svdf") or plan.cache.setdefault("svdf", svdf_params(plan.graph, plan.op))
    x = ins[0].reshape(p.batches, p.inputs).astype(np.int64)
    wf = ins[1].astype(np.int64)
    wt = ins[2].astype(np.int64).reshape(p.filters, p.memory)
    bias = _bias(ins[3] if len(ins) > 3 else None, p.units)
    st = state(plan, 4, (p.batches, p.filters, p.memory))
    lo, hi = (-128, 127) if p.state_bits == 8 else (-32768, 32767)

    acc = wrap32((x - p.input_zp) @ wf.T)  # [batches, filters]
    newest = np.clip(requant_double(acc, *p.feature_rq), lo, hi) + p.state_zp
    if p.state_bits == 8:  # TFLite Micro stores zp + value without re-clamping
        newest = ((newest + 128) & 0xFF) - 128
    st[:, :, :-1] = st[:, :, 1:].copy()
    st[:, :, -1] = newest
    per_filter = wrap32(((st - p.state_zp) * wt).sum(axis=-1))  # [batches, filters]
    total = wrap32(per_filter.reshape(p.batches, p.units, p.rank).sum(axis=-1) + bias)
    out = np.clip(requant_double(total, *p.output_rq) + p.output_zp, -128, 127)
    if trace is not None:
        trace.update(feature_acc=acc, newest=newest, state=st.copy(), per_filter=per_filter,
                     total=total, params=p)
    return out.astype(np.int8)


KERNELS: dict[str, Callable[..., np.ndarray]] = {
    "SVDF": svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": int8ops_lstm.lstm,
}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this. Variable (state)
# tensors count as activations there: "int16" is SVDF's int16 state and the
# LSTM's int16 cell state; the input and output are int8 in both.
DTYPES: dict[str, frozenset[str]] = {
    "SVDF": frozenset({"int8", "int16"}),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": frozenset({"int8", "int16"}),
}
