"""SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM in NumPy, bit-exact with
firmware/kernels/hx_recurrent.c and hx_lstm.c; their state is kept in the op's plan
across runs (see :mod:`harness.ops.recurrent`).

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

The LSTM is the fully integer one (int8 activations, int16 internals), with the
arithmetic of LiteRT's integer LSTM (TFLite quantization spec, "8x8_16"):
each gate is ``sat16(rq_in(W_x . x + b_x) + rq_rec(W_h . h + b_h))`` in Q3.12
(two requantizations, each saturated to int16), through gemmlowp's int16
fixed-point sigmoid or tanh into Q0.15; the int16 cell state (scale 2^cell_scale)
is ``sat16(f*c >> 15 + i*g >> (30 + cell_scale))``, clipped; the output is
``rq_hidden(o * tanh(c)) + hidden_zp`` in int8, which is also the new output state.
Input zero points are folded into the biases (``b - zp * row sums``) like LiteRT.

Supported: no CIFG, no peephole, no projection, no layer normalisation (what
trained LSTMs converted by TFLite use); the others are refused with a reason.
"""

from __future__ import annotations

import numpy as np

from harness.ops.plan import OpPlan
from harness.ops.recurrent.params import (
    CELL_STATE,
    INPUT,
    OUTPUT_STATE,
    SVDF_STATE,
    W_INPUT,
    W_RECURRENT,
    LstmParams,
    initial_state,
    lstm_params,
    svdf_params,
)
from harness.quant.fixedpoint import (
    div_pot,
    requant_double,
    sat16,
    sigmoid16,
    tanh16,
    wrap16,
    wrap32,
)
from harness.quant.ranges import INT_RANGES


def state(plan: OpPlan, k: int, shape: tuple[int, ...]) -> np.ndarray:
    """The op's variable input ``k`` as kept across runs (int64, starts at its zero point)."""
    store = plan.cache.setdefault("state", {})
    if k not in store:
        store[k] = np.full(shape, initial_state(plan.tensor(plan.op.inputs[k])), np.int64)
    return store[k]


# ---- SVDF ------------------------------------------------------------------------


def _bias(data: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, np.int64) if data is None else data.astype(np.int64).reshape(n)


def svdf(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """SVDF: features into the state's newest column, then time weights over the memory."""
    p = plan.cache.get("svdf") or plan.cache.setdefault("svdf", svdf_params(plan.graph, plan.op))
    x = ins[0].reshape(p.batches, p.inputs).astype(np.int64)
    wf = ins[1].astype(np.int64)
    wt = ins[2].astype(np.int64).reshape(p.filters, p.memory)
    bias = _bias(ins[3] if len(ins) > 3 else None, p.units)
    st = state(plan, SVDF_STATE, (p.batches, p.filters, p.memory))
    lo, hi = INT_RANGES[f"int{p.state_bits}"]

    acc = wrap32((x - p.input_zp) @ wf.T)  # [batches, filters]
    newest = np.clip(requant_double(acc, *p.feature_rq), lo, hi) + p.state_zp
    if p.state_bits == 8:  # TFLite Micro stores zp + value without re-clamping
        newest = ((newest + 128) & 0xFF) - 128
    st[:, :, :-1] = st[:, :, 1:].copy()
    st[:, :, -1] = newest
    per_filter = wrap32(((st - p.state_zp) * wt).sum(axis=-1))  # [batches, filters]
    total = wrap32(per_filter.reshape(p.batches, p.units, p.rank).sum(axis=-1) + bias)
    out = np.clip(requant_double(total, *p.output_rq) + p.output_zp, *INT_RANGES["int8"])
    if trace is not None:
        trace.update(feature_acc=acc, newest=newest, state=st.copy(), per_filter=per_filter,
                     total=total, params=p)
    return out.astype(np.int8)


# ---- LSTM ------------------------------------------------------------------------


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
    h = np.clip(requant_double(o * hidden, *p.hidden_rq) + p.hidden_zp, *INT_RANGES["int8"])
    if trace is not None:
        for name, v in (("input_gate", i), ("forget_gate", f), ("cell_gate", g),
                        ("output_gate", o), ("cell_state", c), ("output_state", h)):
            trace.setdefault(name, []).append(v.copy())
    return h, c


def lstm(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """UNIDIRECTIONAL_SEQUENCE_LSTM over every time step; state kept across runs."""
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
