"""SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM in C: hx_svdf_s8_s16 / hx_svdf_s8_s8
(firmware/kernels/hx_recurrent.c) and hx_unidirectional_lstm_s8 (hx_lstm.c).

Each op owns static RAM for its state, declared in its own block of the generated
``hx_model_invoke_op``: not in the arena (whose bytes other tensors reuse), kept
across INVOKEs, and set to the tensors' zero points by the op's first call after
boot, as TFLite does when it allocates variable tensors. The arena still plans a
slot for each variable tensor (the planner sees an ordinary op input); nothing
reads or writes it. Why this matches the references: see :mod:`harness.ops.recurrent`.

All parameters (multipliers, zero-point-folded biases, clips) are worked out on
the host by the same functions the NumPy kernels use (params.py).
"""

from __future__ import annotations

import numpy as np

from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph, Op, Tensor
from harness.ops.c_emit import C_TYPES, CArray, LoweredOp, ptr, tdesc
from harness.ops.recurrent.params import (
    CELL_STATE,
    GATES,
    OUTPUT_STATE,
    SVDF_BIAS,
    SVDF_INPUT,
    SVDF_STATE,
    SVDF_W_FEATURE,
    SVDF_W_TIME,
    W_INPUT,
    W_RECURRENT,
    LstmParams,
    initial_state,
    lstm_params,
    svdf_params,
)


def _check_io(op: Op, *tensors: Tensor) -> None:
    """The builtin recurrent kernels take int8 inputs and outputs (state aside)."""
    for t in tensors:
        if t.dtype != "int8":
            raise UnsupportedType(f"op {op.index} ({op.name}) has a {t.dtype} input/output; "
                                  f"the builtin {op.name} handles int8 (with int16 state)")


def _state_block(p: str, states: list[tuple[Tensor, str]], call: str) -> str:
    """The op's call wrapped with its static state, zero-pointed once after boot."""
    decl = []
    fills = []
    for t, name in states:
        decl.append(f"  static {C_TYPES[t.dtype]} {name}[{t.size}]; /* variable tensor "
                    f"{t.index}: {tdesc(t)} */")
        fn = "hx_fill_s16" if t.dtype == "int16" else "hx_fill_s8"
        fills.append(f"{fn}({name}, {t.size}, {initial_state(t)});")
    return "\n".join([
        "{",
        *decl,
        f"  static uint8_t {p}_ready; /* state set to its zero points on the first call */",
        f"  if (!{p}_ready) {{ {' '.join(fills)} {p}_ready = 1u; }}",
        f"  {call}",
        "}",
    ])


def emit_svdf(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """Flash arrays for the weights and bias, the params struct, and the call in its
    state block."""
    t = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    _check_io(op, graph.tensors[op.inputs[SVDF_INPUT]], graph.tensors[op.outputs[0]])
    try:
        sp = svdf_params(graph, op)
    except ValueError as exc:
        raise UnsupportedOp(str(exc)) from None
    x, wf, wt, st = t[SVDF_INPUT], t[SVDF_W_FEATURE], t[SVDF_W_TIME], t[SVDF_STATE]
    if wf.data is None or wt.data is None:
        raise UnsupportedOp(f"op {op.index} (SVDF) has non-constant weights")
    p = f"op{op.index}"
    lo.comment.append(f"rank {sp.rank}, {sp.filters} filters x memory {sp.memory}; "
                      f"state int{sp.state_bits} kept across invocations")
    lo.arrays.append(CArray("int8_t", f"{p}_weights_feature", wf.data.astype(np.int64).ravel()))
    lo.arrays.append(CArray(C_TYPES[wt.dtype], f"{p}_weights_time",
                            wt.data.astype(np.int64).ravel()))
    bias = _svdf_bias(op, t[SVDF_BIAS] if len(t) > SVDF_BIAS else None, p, lo)
    lo.params.append(("hx_svdf_params", f"{p}_params",
                      f"{{{sp.batches}, {sp.inputs}, {sp.filters}, {sp.rank}, {sp.memory}, "
                      f"{-sp.input_zp}, {sp.state_zp}, {sp.output_zp}, "
                      f"{sp.feature_rq[0]}, {sp.feature_rq[1]}, "
                      f"{sp.output_rq[0]}, {sp.output_rq[1]}}}"))
    fn = "hx_svdf_s8_s16" if sp.state_bits == 16 else "hx_svdf_s8_s8"
    call = (f"{fn}(&{p}_params, {ptr(x)}, {p}_weights_feature, {p}_weights_time, {bias}, "
            f"{p}_state, {ptr(graph.tensors[op.outputs[0]])});")
    lo.call = _state_block(p, [(st, f"{p}_state")], call)


def _svdf_bias(op: Op, b: Tensor | None, p: str, lo: LoweredOp) -> str:
    """The bias array's name (placed in flash), or NULL without a bias."""
    if b is None:
        return "NULL"
    if b.data is None:
        raise UnsupportedOp(f"op {op.index} (SVDF) has a non-constant bias")
    lo.arrays.append(CArray("int32_t", f"{p}_bias", b.data.astype(np.int64).ravel()))
    return f"{p}_bias"


def emit_lstm(graph: Graph, op: Op, lo: LoweredOp) -> None:
    """Flash arrays for each gate's weights and folded biases, the params struct, and
    the call in its state block."""
    out = graph.tensors[op.outputs[0]]
    x = graph.tensors[op.inputs[0]]
    _check_io(op, x, out)
    try:
        lp = lstm_params(graph, op)
    except ValueError as exc:
        raise UnsupportedOp(str(exc)) from None
    p = f"op{op.index}"
    lo.comment.append(
        f"{lp.batches} batch(es) x {lp.steps} step(s) {'time' if lp.time_major else 'batch'}"
        f"-major, {lp.n_input} -> {lp.n_cell} cells; "
        f"cell state 2^{lp.cell_shift}, clip {lp.cell_clip}; state kept across invocations")
    gates = [_lstm_gate(graph, op, lp, g, p, lo) for g in GATES]
    lo.params.append(("hx_lstm_params", f"{p}_params",
                      f"{{{lp.batches}, {lp.steps}, {int(lp.time_major)}, {lp.n_input}, "
                      f"{lp.n_cell}, {lp.cell_shift}, {lp.cell_clip}, {lp.hidden_zp}, "
                      f"{lp.hidden_rq[0]}, {lp.hidden_rq[1]},\n    {{"
                      + ",\n     ".join(gates) + "}}"))
    h = graph.tensors[op.inputs[OUTPUT_STATE]]
    c = graph.tensors[op.inputs[CELL_STATE]]
    call = (f"hx_unidirectional_lstm_s8(&{p}_params, {ptr(x)}, {p}_output_state, "
            f"{p}_cell_state, {ptr(out)});")
    lo.call = _state_block(p, [(h, f"{p}_output_state"), (c, f"{p}_cell_state")], call)


def _lstm_gate(graph: Graph, op: Op, lp: LstmParams, g: str, p: str, lo: LoweredOp) -> str:
    """Gate ``g``'s weights and biases as flash arrays; returns its hx_lstm_gate initialiser."""
    wi = graph.tensors[op.inputs[W_INPUT[g]]]
    wr = graph.tensors[op.inputs[W_RECURRENT[g]]]
    (mi, si), (mr, sr) = lp.gate_rq[g]
    b_i, b_r = lp.bias[g]
    for name, values, ctype in ((f"{p}_{g}_wx", wi.data, "int8_t"),
                                (f"{p}_{g}_wh", wr.data, "int8_t"),
                                (f"{p}_{g}_bx", b_i, "int32_t"),
                                (f"{p}_{g}_bh", b_r, "int32_t")):
        lo.arrays.append(CArray(ctype, name, np.asarray(values).astype(np.int64).ravel()))
    return f"{{{p}_{g}_wx, {p}_{g}_wh, {p}_{g}_bx, {p}_{g}_bh, {mi}, {si}, {mr}, {sr}}}"
