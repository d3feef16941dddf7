"""Lowering of the builtin runtime's recurrent ops (see lower_base.LoweredOp).

SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM keep state in variable tensors. On the
device each such op owns static RAM for its state, declared in its own block of
the generated ``hx_model_invoke_op``: not in the arena (whose bytes other
tensors reuse), kept across INVOKEs, and set to the tensors' zero points by the
op's first call after boot, as TFLite does when it allocates variable tensors.
The arena still plans a slot for each variable tensor (the planner sees an
ordinary op input); nothing reads or writes it. Why this matches the references
(one interpreter per run, vectors in order): see :mod:`harness.int8ops_recurrent`.

All parameters (multipliers, zero-point-folded biases, clips) are worked out on
the host by the same functions the NumPy reference uses.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.errors import UnsupportedOp, UnsupportedType
from harness.int8ops_lstm import GATES, W_INPUT, W_RECURRENT, lstm_params
from harness.int8ops_recurrent import svdf_params
from harness.model.graph import Graph, Op, Tensor
from harness.ops.c_emit import CArray, LoweredOp, ptr, tdesc


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
        ctype = "int16_t" if t.dtype == "int16" else "int8_t"
        decl.append(f"  static {ctype} {name}[{t.size}]; /* variable tensor {t.index}: "
                    f"{tdesc(t)} */")
        fn = "hx_fill_s16" if t.dtype == "int16" else "hx_fill_s8"
        fills.append(f"{fn}({name}, {t.size}, {t.zero_point if t.dtype == 'int8' else 0});")
    return "\n".join([
        "{",
        *decl,
        f"  static uint8_t {p}_ready; /* state set to its zero points on the first call */",
        f"  if (!{p}_ready) {{ {' '.join(fills)} {p}_ready = 1u; }}",
        f"  {call}",
        "}",
    ])


def _svdf(graph: Graph, op: Op, lo: LoweredOp) -> None:
    t = [graph.tensors[i] if i >= 0 else None for i in op.inputs]
    _check_io(op, graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]])
    try:
        sp = svdf_params(graph, op)
    except ValueError as exc:
        raise UnsupportedOp(str(exc)) from None
    x, wf, wt, st = t[0], t[1], t[2], t[4]
    if wf.data is None or wt.data is None:
        raise UnsupportedOp(f"op {op.index} (SVDF) has non-constant weights")
    p = f"op{op.index}"
    lo.comment.append(f"rank {sp.rank}, {sp.filters} filters x memory {sp.memory}; "
                      f"state int{sp.state_bits} kept across invocations")
    lo.arrays.append(CArray("int8_t", f"{p}_weights_feature", wf.data.astype(np.int64).ravel()))
    wt_type = "int16_t" if sp.state_bits == 16 else "int8_t"
    lo.arrays.append(CArray(wt_type, f"{p}_weights_time", wt.data.astype(np.int64).ravel()))
    bias = "NULL"
    if len(t) > 3 and t[3] is not None:
        if t[3].data is None:
            raise UnsupportedOp(f"op {op.index} (SVDF) has a non-constant bias")
        lo.arrays.append(CArray("int32_t", f"{p}_bias", t[3].data.astype(np.int64).ravel()))
        bias = f"{p}_bias"
    lo.params.append(("hx_svdf_params", f"{p}_params",
                      f"{{{sp.batches}, {sp.inputs}, {sp.filters}, {sp.rank}, {sp.memory}, "
                      f"{-sp.input_zp}, {sp.state_zp}, {sp.output_zp}, "
                      f"{sp.feature_rq[0]}, {sp.feature_rq[1]}, "
                      f"{sp.output_rq[0]}, {sp.output_rq[1]}}}"))
    fn = "hx_svdf_s8_s16" if sp.state_bits == 16 else "hx_svdf_s8_s8"
    call = (f"{fn}(&{p}_params, {ptr(x)}, {p}_weights_feature, {p}_weights_time, {bias}, "
            f"{p}_state, {ptr(graph.tensors[op.outputs[0]])});")
    lo.call = _state_block(p, [(st, f"{p}_state")], call)


def _lstm(graph: Graph, op: Op, lo: LoweredOp) -> None:
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
    gates = []
    for g in GATES:
        wi = graph.tensors[op.inputs[W_INPUT[g]]]
        wr = graph.tensors[op.inputs[W_RECURRENT[g]]]
        (mi, si), (mr, sr) = lp.gate_rq[g]
        b_i, b_r = lp.bias[g]
        for name, values, ctype in ((f"{p}_{g}_wx", wi.data, "int8_t"),
                                    (f"{p}_{g}_wh", wr.data, "int8_t"),
                                    (f"{p}_{g}_bx", b_i, "int32_t"),
                                    (f"{p}_{g}_bh", b_r, "int32_t")):
            lo.arrays.append(CArray(ctype, name, np.asarray(values).astype(np.int64).ravel()))
        gates.append(f"{{{p}_{g}_wx, {p}_{g}_wh, {p}_{g}_bx, {p}_{g}_bh, "
                     f"{mi}, {si}, {mr}, {sr}}}")
    lo.params.append(("hx_lstm_params", f"{p}_params",
                      f"{{{lp.batches}, {lp.steps}, {int(lp.time_major)}, {lp.n_input}, "
                      f"{lp.n_cell}, {lp.cell_shift}, {lp.cell_clip}, {lp.hidden_zp}, "
                      f"{lp.hidden_rq[0]}, {lp.hidden_rq[1]},\n    {{"
                      + ",\n     ".join(gates) + "}}"))
    h = graph.tensors[op.inputs[18]]
    c = graph.tensors[op.inputs[19]]
    call = (f"hx_unidirectional_lstm_s8(&{p}_params, {ptr(x)}, {p}_output_state, "
            f"{p}_cell_state, {ptr(out)});")
    lo.call = _state_block(p, [(h, f"{p}_output_state"), (c, f"{p}_cell_state")], call)


LOWERINGS: dict[str, Callable[[Graph, Op, LoweredOp], None]] = {
    "SVDF": _svdf,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _lstm,
}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this. Variable (state)
# tensors count as activations there: "int16" is SVDF's int16 state and the
# LSTM's int16 cell state; input and output must be int8 (UnsupportedType else).
DTYPES: dict[str, frozenset[str]] = {
    "SVDF": frozenset({"int8", "int16"}),
    "UNIDIRECTIONAL_SEQUENCE_LSTM": frozenset({"int8", "int16"}),
}
