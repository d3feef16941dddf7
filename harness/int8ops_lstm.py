"""NumPy UNIDIRECTIONAL_SEQUENCE_LSTM, the fully integer one (int8 activations, int16 internals).

The arithmetic of LiteRT's integer LSTM (TFLite quantization spec, "8x8_16"):
each gate is ``sat16(rq_in(W_x . x + b_x) + rq_rec(W_h . h + b_h))`` in Q3.12
(two requantizations, each saturated to int16), through gemmlowp's int16
fixed-point sigmoid or tanh into Q0.15; the int16 cell state (scale 2^cell_scale)
is ``sat16(f*c >> 15 + i*g >> (30 + cell_scale))``, clipped; the output is
``rq_hidden(o * tanh(c)) + hidden_zp`` in int8, which is also the new output state.
Input zero points are folded into the biases (``b - zp * row sums``) like LiteRT.

Supported: no CIFG, no peephole, no projection, no layer normalisation (what
trained LSTMs converted by TFLite use); the others are refused with a reason.
State across vectors: see :mod:`harness.int8ops_recurrent`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from harness.model.graph import Graph, Op
from harness.quant.fixedpoint import (
    div_pot,
    requant_double,
    sat16,
    sigmoid16,
    tanh16,
    wrap16,
    wrap32,
)
from harness.quant.multiplier import quantize_multiplier

if TYPE_CHECKING:
    from harness.ops.plan import OpPlan

# LSTM input slots (TFLite's order).
INPUT, OUTPUT_STATE, CELL_STATE = 0, 18, 19
GATES = ("input", "forget", "cell", "output")
W_INPUT = {g: 1 + k for k, g in enumerate(GATES)}  # input_to_<gate>_weights
W_RECURRENT = {g: 5 + k for k, g in enumerate(GATES)}  # recurrent_to_<gate>_weights
BIAS = {g: 12 + k for k, g in enumerate(GATES)}
PEEPHOLE, PROJECTION, LAYER_NORM = (9, 10, 11), (16, 17), (20, 21, 22, 23)
GATE_FRAC_BITS = 12  # gate pre-activations are Q3.12


# ---- parameters ------------------------------------------------------------------


@dataclass
class LstmParams:
    """Everything the integer LSTM needs besides the data (the C kernel gets the same)."""

    batches: int
    steps: int
    time_major: bool
    n_input: int
    n_cell: int
    n_output: int
    cell_shift: int  # log2 of the cell state scale (e.g. -11)
    cell_clip: int  # 0 = none
    hidden_zp: int
    output_state_zp: int
    hidden_rq: tuple[int, int]
    gate_rq: dict[str, tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=dict)
    bias: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _checked_log2(x: float) -> int:
    f = np.float32
    v = f(math.log(float(f(x)))) * f(1.0 / math.log(2.0))
    r = round(float(v))
    if abs(float(v) - r) >= 1e-3:
        raise ValueError(f"cell state scale {x:g} is not a power of two")
    return int(r)


def lstm_params(graph: Graph, op: Op) -> LstmParams:
    """Check an integer LSTM and work out its parameters the way LiteRT's Prepare() does."""
    ins = list(op.inputs) + [-1] * (24 - len(op.inputs))
    t = [graph.tensors[i] if i >= 0 else None for i in ins]
    x, h, c, out = t[INPUT], t[OUTPUT_STATE], t[CELL_STATE], graph.tensors[op.outputs[0]]
    name = f"op {op.index} (UNIDIRECTIONAL_SEQUENCE_LSTM)"
    if x is None or h is None or c is None:
        raise ValueError(f"{name} lacks its input or a state tensor")
    if (x.dtype, out.dtype, h.dtype, c.dtype) != ("int8", "int8", "int8", "int16"):
        raise ValueError(f"{name}: the integer LSTM needs int8 input/output/output state and "
                         f"an int16 cell state, not {x.dtype}/{out.dtype}/{h.dtype}/{c.dtype}")
    if t[W_INPUT["input"]] is None:
        raise ValueError(f"{name}: CIFG (no input gate) is not supported")
    for what, slots in (("peephole", PEEPHOLE), ("projection", PROJECTION),
                        ("layer normalisation", LAYER_NORM)):
        if any(t[s] is not None for s in slots):
            raise ValueError(f"{name}: {what} is not supported")
    if any(t[W_INPUT[g]] is None or t[W_RECURRENT[g]] is None for g in GATES):
        raise ValueError(f"{name} lacks gate weights")
    if len(op.intermediates) < 5:
        raise ValueError(f"{name} has no intermediate tensors (hidden scale)")
    hidden = graph.tensors[op.intermediates[4]]
    o = op.options
    time_major = bool(o.get("timeMajor", False))
    if len(x.shape) == 2:
        batches, steps = x.shape[0], 1
    elif len(x.shape) == 3:
        steps, batches = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    else:
        raise ValueError(f"{name}: input must be 2-D or 3-D, not {list(x.shape)}")
    n_cell, n_output = t[W_INPUT["output"]].shape[0], t[W_RECURRENT["output"]].shape[1]
    cell_shift = _checked_log2(c.scale)
    f = np.float32
    clip_f = float(o.get("cellClip", 0.0) or 0.0)
    clip = int(np.trunc(min(max(f(clip_f) / f(c.scale), -32768.0), 32767.0))) if clip_f > 0 else 0
    gate_scale = f(2.0 ** -GATE_FRAC_BITS)
    hidden_real = f(2.0 ** -15 / float(f(hidden.scale)) * 2.0 ** -15)
    p = LstmParams(int(batches), int(steps), time_major, int(x.shape[-1]), int(n_cell),
                   int(n_output), cell_shift, clip, hidden.zero_point, h.zero_point,
                   quantize_multiplier(float(hidden_real)))
    for g in GATES:
        wi, wr = t[W_INPUT[g]], t[W_RECURRENT[g]]
        b = t[BIAS[g]]
        rq_i = quantize_multiplier(float(f(f(wi.scale) * f(x.scale)) / gate_scale))
        rq_r = quantize_multiplier(float(f(f(wr.scale) * f(h.scale)) / gate_scale))
        p.gate_rq[g] = (rq_i, rq_r)
        b_i = np.zeros(n_cell, np.int64) if b is None else b.data.astype(np.int64).ravel()
        b_i = wrap32(b_i - x.zero_point * wi.data.astype(np.int64).sum(axis=1))
        b_r = wrap32(-h.zero_point * wr.data.astype(np.int64).sum(axis=1))
        p.bias[g] = (b_i, b_r)
    return p


# ---- the op ----------------------------------------------------------------------


def _gate(p: LstmParams, plan: OpPlan, g: str, x: np.ndarray, h: np.ndarray,
          sigmoid: bool) -> np.ndarray:
    (rq_i, rq_r), (b_i, b_r) = p.gate_rq[g], p.bias[g]
    wi = plan.tensor(plan.op.inputs[W_INPUT[g]]).data.astype(np.int64)
    wr = plan.tensor(plan.op.inputs[W_RECURRENT[g]]).data.astype(np.int64)
    acc = sat16(requant_double(wrap32(x @ wi.T + b_i), *rq_i))
    acc = sat16(requant_double(wrap32(h @ wr.T + b_r), *rq_r) + acc)
    return sigmoid16(acc) if sigmoid else tanh16(acc, 3)


def lstm_step(p: LstmParams, plan: OpPlan, x: np.ndarray, h: np.ndarray, c: np.ndarray,
              trace: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One time step for all batches: ``(new output state, new cell state)``."""
    i = _gate(p, plan, "input", x, h, True)
    f = _gate(p, plan, "forget", x, h, True)
    g = _gate(p, plan, "cell", x, h, False)
    c = wrap16(div_pot(f * c, 15))
    c = sat16(c + wrap16(div_pot(i * g, 30 + p.cell_shift)))
    if p.cell_clip > 0:
        c = np.clip(c, -p.cell_clip, p.cell_clip)
    o = _gate(p, plan, "output", x, h, True)
    hidden = tanh16(c, 15 + p.cell_shift)
    h = np.clip(requant_double(o * hidden, *p.hidden_rq) + p.hidden_zp, -128, 127)
    if trace is not None:
        for name, v in (("input_gate", i), ("forget_gate", f), ("cell_gate", g),
                        ("output_gate", o), ("cell_state", c), ("output_state", h)):
            trace.setdefault(name, []).append(v.copy())
    return h, c


def lstm(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """UNIDIRECTIONAL_SEQUENCE_LSTM over every time step; state kept across runs."""
    from harness.int8ops_recurrent import state

    p = plan.cache.get("lstm") or plan.cache.setdefault("lstm", lstm_params(plan.graph, plan.op))
    x = ins[INPUT].astype(np.int64)
    x = x.reshape(p.steps, p.batches, p.n_input) if p.time_major else \
        x.reshape(p.batches, p.steps, p.n_input).transpose(1, 0, 2)
    h = state(plan, OUTPUT_STATE, (p.batches, p.n_output))
    c = state(plan, CELL_STATE, (p.batches, p.n_cell))
    outs = []
    for step in range(p.steps):
        h[...], c[...] = lstm_step(p, plan, x[step], h, c, trace)
        outs.append(h.copy())
    y = np.stack(outs)  # [steps, batches, n_output]
    if not p.time_major:
        y = y.transpose(1, 0, 2)
    if trace is not None:
        trace["params"] = p
    return y.astype(np.int8)
