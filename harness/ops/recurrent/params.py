"""SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM parameters that do not depend on the data,
shared by the C emitter and the numpy kernels: multipliers, shifts, zero-point-folded
biases, clips, the state's starting value, and the LSTM's operand slots.

svdf_params and lstm_params raise ValueError for what the integer kernels do not
handle; the emitter turns that into UnsupportedOp, the numpy-int8 reference into a
refusal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from harness.model.graph import Graph, Op, Tensor
from harness.quant.fixedpoint import wrap32
from harness.quant.multiplier import quantize_multiplier

# LSTM input slots (TFLite's order).
INPUT, OUTPUT_STATE, CELL_STATE = 0, 18, 19
GATES = ("input", "forget", "cell", "output")
W_INPUT = {g: 1 + k for k, g in enumerate(GATES)}  # input_to_<gate>_weights
W_RECURRENT = {g: 5 + k for k, g in enumerate(GATES)}  # recurrent_to_<gate>_weights
BIAS = {g: 12 + k for k, g in enumerate(GATES)}
PEEPHOLE, PROJECTION, LAYER_NORM = (9, 10, 11), (16, 17), (20, 21, 22, 23)
GATE_FRAC_BITS = 12  # gate pre-activations are Q3.12

Rq = tuple[int, int]  # a requantization: (multiplier, shift)

# SVDF input slots.
SVDF_INPUT, SVDF_W_FEATURE, SVDF_W_TIME, SVDF_BIAS, SVDF_STATE = 0, 1, 2, 3, 4

# Operands no valid model leaves out: all but the bias for SVDF; for the LSTM all but
# the input gate's (absent in CIFG) and the optional peephole, projection and layer
# norm ones.
SVDF_REQUIRED = (SVDF_INPUT, SVDF_W_FEATURE, SVDF_W_TIME, SVDF_STATE)
LSTM_REQUIRED = (INPUT, *(W_INPUT[g] for g in GATES[1:]), *(W_RECURRENT[g] for g in GATES[1:]),
                 *(BIAS[g] for g in GATES[1:]), OUTPUT_STATE, CELL_STATE)


def initial_state(t: Tensor) -> int:
    """The value a variable (state) tensor starts from: its zero point if int8, else 0,
    as TFLite sets variable tensors when it allocates them."""
    return t.zero_point if t.dtype == "int8" else 0


def f32_scale(a: float, b: float, c: float) -> float:
    """``a * b / c`` in float32 arithmetic, as the recurrent kernels' Prepare() does it."""
    f = np.float32
    return float(f(f(f(a) * f(b)) / f(c)))


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
    feature_rq: Rq  # input x features -> state
    output_rq: Rq  # state x time weights -> output


def svdf_params(graph: Graph, op: Op) -> SvdfParams:
    """Check an integer SVDF and work out its parameters."""
    t = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    x, wf, wt, st = t[SVDF_INPUT], t[SVDF_W_FEATURE], t[SVDF_W_TIME], t[SVDF_STATE]
    out = graph.tensors[op.outputs[0]]
    if x is None or wf is None or wt is None or st is None:
        raise ValueError(f"op {op.index} (SVDF) lacks an input, feature/time weights or state")
    if x.dtype != "int8" or out.dtype != "int8" or wf.dtype != "int8":
        raise ValueError(f"op {op.index} (SVDF): integer SVDF needs int8 input, feature "
                         f"weights and output, not {x.dtype}/{wf.dtype}/{out.dtype}")
    if st.dtype not in ("int8", "int16") or wt.dtype != st.dtype:
        raise ValueError(f"op {op.index} (SVDF): state and time weights must both be int8 "
                         f"or both int16, not {st.dtype}/{wt.dtype}")
    rank = op.int_option("rank", 1)
    filters, memory = int(wf.shape[0]), int(wt.shape[1])
    if rank < 1 or filters % rank:
        raise ValueError(f"op {op.index} (SVDF): {filters} filters are not a multiple of "
                         f"rank {rank}")
    m1 = quantize_multiplier(f32_scale(x.scale, wf.scale, st.scale))
    m2 = quantize_multiplier(f32_scale(st.scale, wt.scale, out.scale))
    return SvdfParams(int(x.shape[0]), int(x.shape[-1]), filters, filters // rank, rank,
                      memory, x.zero_point, initial_state(st), out.zero_point,
                      8 if st.dtype == "int8" else 16, m1, m2)


# ---- LSTM ------------------------------------------------------------------------


GateRq = tuple[Rq, Rq]  # input product, recurrent product -> Q3.12
GateBias = tuple[np.ndarray, np.ndarray]  # input bias, recurrent bias (zero points folded)


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
    hidden_rq: Rq
    gate_rq: dict[str, GateRq] = field(default_factory=dict)
    bias: dict[str, GateBias] = field(default_factory=dict)


def _checked_log2(x: float) -> int:
    f = np.float32
    v = f(math.log(float(f(x)))) * f(1.0 / math.log(2.0))
    r = round(float(v))
    if abs(float(v) - r) >= 1e-3:
        raise ValueError(f"cell state scale {x:g} is not a power of two")
    return int(r)


def _lstm_operands(graph: Graph, op: Op) -> list[Tensor | None]:
    """The 24 operands (None where absent), refused unless the kernel handles them."""
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
    return t


def _batches_steps(op: Op, x: Tensor, time_major: bool) -> tuple[int, int]:
    if len(x.shape) == 2:
        return x.shape[0], 1
    if len(x.shape) == 3:
        return (x.shape[1], x.shape[0]) if time_major else (x.shape[0], x.shape[1])
    raise ValueError(f"op {op.index} (UNIDIRECTIONAL_SEQUENCE_LSTM): input must be 2-D or "
                     f"3-D, not {list(x.shape)}")


def lstm_params(graph: Graph, op: Op) -> LstmParams:
    """Check an integer LSTM and work out its parameters the way LiteRT's Prepare() does."""
    t = _lstm_operands(graph, op)
    x, h, c = t[INPUT], t[OUTPUT_STATE], t[CELL_STATE]
    hidden = graph.tensors[op.intermediates[4]]
    time_major = bool(op.options.get("timeMajor", False))
    batches, steps = _batches_steps(op, x, time_major)
    n_cell, n_output = t[W_INPUT["output"]].shape[0], t[W_RECURRENT["output"]].shape[1]
    cell_shift = _checked_log2(c.scale)
    f = np.float32
    clip_f = op.float_option("cellClip", 0.0)
    clip = int(np.trunc(min(max(f(clip_f) / f(c.scale), -32768.0), 32767.0))) if clip_f > 0 else 0
    hidden_real = f(2.0 ** -15 / float(f(hidden.scale)) * 2.0 ** -15)
    p = LstmParams(int(batches), int(steps), time_major, int(x.shape[-1]), int(n_cell),
                   int(n_output), cell_shift, clip, hidden.zero_point, h.zero_point,
                   quantize_multiplier(float(hidden_real)))
    for g in GATES:
        p.gate_rq[g], p.bias[g] = _gate_params(t, g, n_cell)
    return p


def _gate_params(t: list[Tensor | None], g: str, n_cell: int) -> tuple[GateRq, GateBias]:
    """One gate's two requantizations (input and recurrent product -> Q3.12) and its two
    biases with the input and output-state zero points folded in (``b - zp * row sums``)."""
    f = np.float32
    x, h = t[INPUT], t[OUTPUT_STATE]
    wi, wr, b = t[W_INPUT[g]], t[W_RECURRENT[g]], t[BIAS[g]]
    gate_scale = f(2.0 ** -GATE_FRAC_BITS)
    rq_i = quantize_multiplier(float(f(f(wi.scale) * f(x.scale)) / gate_scale))
    rq_r = quantize_multiplier(float(f(f(wr.scale) * f(h.scale)) / gate_scale))
    b_i = np.zeros(n_cell, np.int64) if b is None else b.data.astype(np.int64).ravel()
    b_i = wrap32(b_i - x.zero_point * wi.data.astype(np.int64).sum(axis=1))
    b_r = wrap32(-h.zero_point * wr.data.astype(np.int64).sum(axis=1))
    return (rq_i, rq_r), (b_i, b_r)
