"""Quantization error, layer by layer: where the int8 network leaves the float one.

Every quantized op output of the int8 graph is compared in real values between
  Q  the int8 arithmetic (numpy-int8, else litert-ref or tflm-host), dequantized;
  F  numpy-float: the same graph in float64 with the dequantized weights;
  M  float-model: the float .tflite, its tensors matched to the int8 graph's by name and
     position (harness/references/float_model.py).
Per op output:
  activations  Q against F: the weights are the same, so this is activation quantization;
  weights      F against M: both in float, so this is weight quantization;
  total        Q against M (against F without a float model);
  layerwise    Q against the op re-run in float64 on Q's own dequantized inputs, with the
               float model's weights where matched (else the dequantized ones): the error
               the op adds by itself. Its `debugger` block holds the layer statistics of
               tf.lite.experimental.QuantizationDebugger, defined as there: diffs =
               dequantized int8 - float, each statistic per vector, then averaged.
and, from the float values (F, else M), the fraction beyond the int8 rails (`clipped`), how
much of the int8 range they span (`range_used`) and the SNR that rounding them alone to
the tensor's scale gives (`ideal_snr_db`). harness/analysis/quant_verdict.py reads the rows.
"""

from __future__ import annotations

import math

import numpy as np

from harness.analysis.quant_verdict import (
    WARN_CLIPPED,
    WARN_MIN_VALUES,
    WARN_RANGE_USED,
    decide,
    input_warnings,
    summary,
)
from harness.model.graph import Graph, Op, Tensor
from harness.ops.floating import const_value, dequantize
from harness.ops.registry import OPS
from harness.references.float_model import CONVERSIONS, Match, match_ops

# Where the int8 side comes from, best first (numpy-int8 is bit-exact with litert-ref).
INT8_SOURCES = ("numpy-int8", "litert-ref", "tflm-host")
FLOAT_SOURCES = ("numpy-float", "float-model")
# A float value counts as clipped when it lies more than this many LSB beyond a rail
# (a softmax output of exactly 1.0 overshoots the last level by one LSB by design).
CLIP_MARGIN_LSB = 1.0


def snr_db(signal_power: float, noise_power: float) -> float | None:
    """10 log10(signal/noise); None when there is no noise (or no signal to compare)."""
    if noise_power <= 0.0 or signal_power <= 0.0:
        return None
    return 10.0 * math.log10(signal_power / noise_power)


def error_stats(ref: np.ndarray, got: np.ndarray, scale: float) -> dict:
    """How far `got` is from `ref` (real values, vectors first), pooled over all vectors;
    the *_lsb figures are in LSB of `scale`."""
    err = np.asarray(got, np.float64) - np.asarray(ref, np.float64)
    mse = float(np.mean(err * err)) if err.size else 0.0
    max_abs = float(np.max(np.abs(err))) if err.size else 0.0
    return {"elements": int(err.size),
            "snr_db": snr_db(float(np.sum(np.square(ref))), float(np.sum(err * err))),
            "rmse": math.sqrt(mse), "rmse_lsb": math.sqrt(mse) / scale, "max_abs": max_abs,
            "max_abs_lsb": max_abs / scale, "mean_error": float(np.mean(err)) if err.size else 0.0,
            "stddev": float(np.std(err)) if err.size else 0.0, "mse": mse}


def debugger_stats(ref: np.ndarray, got: np.ndarray) -> dict:
    """QuantizationDebugger's default layer statistics of diffs = got - ref: each one per
    vector (the first axis), then the mean over the vectors."""
    per_vector = []
    for r, g in zip(ref, got, strict=True):
        d = np.asarray(g, np.float64) - np.asarray(r, np.float64)
        per_vector.append([d.size, np.std(d), np.mean(d), np.max(np.abs(d)), np.mean(d * d)])
    names = ("num_elements", "stddev", "mean_error", "max_abs_error", "mean_squared_error")
    return {n: float(v) for n, v in zip(names, np.nanmean(per_vector, axis=0), strict=True)}


def rails(t: Tensor) -> tuple[float, float]:
    """The real values of the tensor's lowest and highest integer."""
    info = np.iinfo(np.dtype(t.dtype))
    return (info.min - t.zero_point) * t.scale, (info.max - t.zero_point) * t.scale


def occupancy(t: Tensor, real: np.ndarray) -> dict:
    """How float values sit in the tensor's int8 range: the fraction beyond the rails, the
    share of the range they span, the power clipping removes, the SNR rounding alone gives."""
    info = np.iinfo(np.dtype(t.dtype))
    q = real / t.scale + t.zero_point
    lo, hi = rails(t)
    clipped = (q > info.max + CLIP_MARGIN_LSB) | (q < info.min - CLIP_MARGIN_LSB)
    span = (np.clip(q.max(), info.min, info.max) - np.clip(q.min(), info.min, info.max)
            ) if q.size else 0.0
    rounded = (np.round(q) - t.zero_point) * t.scale
    return {"clipped": float(clipped.mean()) if q.size else 0.0,
            "range_used": float(span) / (info.max - info.min),
            "clip_power": float(np.sum(np.square(real - np.clip(real, lo, hi)))),
            "ideal_snr_db": snr_db(float(np.sum(real * real)),
                                   float(np.sum(np.square(real - rounded))))}


def reduction_length(graph: Graph, op: Op) -> int | None:
    """How many products (or values) one output element sums, for ops that reduce."""
    w = graph.tensors[op.inputs[1]].shape if len(op.inputs) > 1 and op.inputs[1] >= 0 else ()
    if op.name == "FULLY_CONNECTED" and len(w) == 2:
        return int(w[1])
    if op.name == "CONV_2D" and len(w) == 4:
        return int(np.prod(w[1:]))
    if op.name == "DEPTHWISE_CONV_2D" and len(w) == 4:
        return int(w[1] * w[2])
    if op.name == "AVERAGE_POOL_2D":
        return int(np.prod(op.filter_hw))
    return None


def float_weights(q: Graph, f: Graph, match: Match, op: Op) -> dict[int, np.ndarray]:
    """The float model's constants standing for `op`'s, by the int8 graph's tensor index."""
    fop = f.ops[match.ops[op.index]] if op.index in match.ops else None
    if fop is None:
        return {}
    out = {}
    for qi, fi in zip(op.inputs, fop.inputs, strict=False):
        if (qi >= 0 and fi >= 0 and q.tensors[qi].is_const and f.tensors[fi].is_const
                and tuple(q.tensors[qi].shape) == tuple(f.tensors[fi].shape)):
            out[qi] = np.asarray(const_value(f, fi), np.float64)
    return out


def rerun(graph: Graph, op: Op, q_real: dict[int, np.ndarray],
          weights: dict[int, np.ndarray]) -> np.ndarray | None:
    """`op` in float64 on the int8 side's own inputs, per vector (None: no float kernel)."""
    spec = OPS.get(op.name)
    if op.name in CONVERSIONS:
        return q_real.get(op.inputs[0])
    if spec is None or spec.numpy_float is None or any(
            i >= 0 and not graph.tensors[i].is_const and i not in q_real for i in op.inputs):
        return None
    count = len(q_real[op.outputs[0]])
    outs = []
    try:
        for k in range(count):
            ins = [q_real[i][k] if i in q_real else
                   weights[i] if i in weights else const_value(graph, i) for i in op.inputs]
            outs.append(np.asarray(spec.numpy_float(graph, op, ins), np.float64))
        return np.stack(outs).reshape(q_real[op.outputs[0]].shape)
    except (ValueError, IndexError, KeyError):  # weights of another shape: not comparable
        return None


def weight_info(graph: Graph, op: Op, floats: dict[int, np.ndarray]) -> dict | None:
    """The op's int8 weights: per-channel or not, the levels its weakest output channel
    uses and, with the float weights, their SNR and what symmetric int8 quantization per
    channel and per tensor would give."""
    if op.name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") or len(op.inputs) < 2:
        return None
    t = graph.tensors[op.inputs[1]]
    if not t.is_const or not t.quantized:
        return None
    axis = 3 if op.name == "DEPTHWISE_CONV_2D" else 0  # the output channels
    q = np.abs(t.data.astype(np.int64) - t.zero_point).swapaxes(0, axis).reshape(
        t.shape[axis], -1)
    dq = dequantize(t, t.data)
    ref = floats.get(op.inputs[1])  # what per-channel or per-tensor would give needs it
    return {"per_channel": t.per_channel, "channels": int(t.shape[axis]),
            "weakest_channel_levels": int(q.max(axis=1).min()),
            "snr_db": None if ref is None else snr_db(float(np.sum(ref * ref)),
                                                      float(np.sum(np.square(dq - ref)))),
            "per_channel_snr_db": None if ref is None else _symmetric_snr(ref, axis, True),
            "per_tensor_snr_db": None if ref is None else _symmetric_snr(ref, axis, False)}


def _symmetric_snr(w: np.ndarray, axis: int, per_channel: bool) -> float | None:
    """SNR of `w` quantized symmetrically to int8 [-127, 127] (TFLite's weight scheme)."""
    keep = tuple(i for i in range(w.ndim) if i != axis) if per_channel else None
    top = np.max(np.abs(w), axis=keep, keepdims=True) if per_channel else np.max(np.abs(w))
    scale = np.where(top > 0, top / 127.0, 1.0)
    q = np.clip(np.round(w / scale), -127, 127) * scale
    return snr_db(float(np.sum(w * w)), float(np.sum(np.square(w - q))))


def _real(graph: Graph, tensors: dict[int, np.ndarray], real_valued: bool
          ) -> dict[int, np.ndarray]:
    """A source's activation tensors as real values (integer sources dequantized; LiteRT
    also hands back the constants, per-channel weights among them: left out)."""
    keep = {i: v for i, v in tensors.items()
            if 0 <= i < len(graph.tensors) and not graph.tensors[i].is_const}
    if real_valued:
        return {i: np.asarray(v, np.float64) for i, v in keep.items()}
    return {i: dequantize(graph.tensors[i], v) for i, v in keep.items()
            if not graph.tensors[i].per_channel}


def _layerwise(graph: Graph, op: Op, q_real: dict[int, np.ndarray],
               floats: dict[int, np.ndarray]) -> dict | None:
    """The error `op` adds by itself: Q against the op re-run on Q's own inputs."""
    i, scale = op.outputs[0], graph.tensors[op.outputs[0]].scale
    with_float = rerun(graph, op, q_real, floats)
    if with_float is None:
        return None
    with_int8 = rerun(graph, op, q_real, {}) if floats else with_float
    row = error_stats(with_float, q_real[i], scale)
    row.update(float_weights=bool(floats),
               output_rmse_lsb=error_stats(with_int8, q_real[i], scale)["rmse_lsb"],
               weights_rmse_lsb=(error_stats(with_float, with_int8, scale)["rmse_lsb"]
                                 if floats else None),
               debugger=debugger_stats(with_float, q_real[i]))
    return row


def layer_row(graph: Graph, op: Op, q_real: dict[int, np.ndarray],
              f_real: dict[int, np.ndarray], m_real: dict[int, np.ndarray],
              floats: dict[int, np.ndarray]) -> dict:
    """Everything measured at `op`'s output (see the module docstring)."""
    i = op.outputs[0]
    t, q, f, m = graph.tensors[i], q_real[i], f_real.get(i), m_real.get(i)
    row = {"op": op.index, "name": op.name, "tensor": i, "tensor_name": t.name,
           "dtype": t.dtype, "scale": t.scale, "zero_point": t.zero_point,
           "values": int(q.size), "activations": None if f is None else error_stats(f, q, t.scale),
           "weights": None if f is None or m is None else error_stats(m, f, t.scale),
           "total": None if m is None else error_stats(m, q, t.scale),
           "layerwise": _layerwise(graph, op, q_real, floats),
           "reduction": reduction_length(graph, op),
           "weight_tensor": weight_info(graph, op, floats),
           "clipped": None, "range_used": None, "ideal_snr_db": None, "clip_error_share": None}
    ref = f if f is not None else m
    if ref is not None:
        occ = occupancy(t, ref)
        err = float(np.sum(np.square(q - ref)))
        row.update(clipped=occ["clipped"], range_used=occ["range_used"],
                   ideal_snr_db=occ["ideal_snr_db"],
                   clip_error_share=min(1.0, occ["clip_power"] / err) if err > 0 else 0.0)
    return row


def _comparable(t: Tensor) -> bool:
    """A quantized integer tensor with one usable scale."""
    return (t.quantized and not t.per_channel and np.dtype(t.dtype).kind in "iu"
            and math.isfinite(t.scale) and t.scale > 0)


def _sources(refs: dict) -> tuple[str | None, str | None, str | None, str]:
    """(int8 side, numpy-float, float-model) among the references with tensors, and why
    not when a side is missing."""
    have = {n for n, r in refs.items() if r and r.tensors}
    q = next((n for n in INT8_SOURCES if n in have), None)
    f = "numpy-float" if "numpy-float" in have else None
    m = "float-model" if "float-model" in have else None
    why = []
    for name in FLOAT_SOURCES:
        r = refs.get(name)
        if r is not None and not r:
            why.append(f"{name} {r.status}: {r.reason}")
    if q is None:
        why.append("no int8 reference kept its tensors (needs numpy-int8)")
    return q, f, m, "; ".join(why)


def _unmatched(graph: Graph, float_graph: Graph | None, match: Match) -> dict | None:
    """The activation tensors of either graph that have no counterpart in the other."""
    if float_graph is None:
        return None
    return {"int8": [graph.tensors[i].name for i in match.unmatched_int8],
            "float": [float_graph.tensors[i].name for i in match.unmatched_float],
            "weights_differ": {str(k): v for k, v in match.weights_differ.items()}}


def quantization_section(graph: Graph, refs: dict, float_graph: Graph | None = None,
                         random_inputs: bool = True) -> dict | None:
    """results.json's `attribution.quantization`; None when neither numpy-float nor
    float-model was asked for. `refs`: ReferenceResult by name, with their tensors."""
    if not any(n in refs for n in FLOAT_SOURCES):
        return None
    q, f, m, why = _sources(refs)
    if q is None or (f is None and m is None):
        return {"status": "not measured", "reason": why or "no float side kept its tensors"}
    match = match_ops(graph, float_graph) if float_graph is not None and m else Match()
    twin = not match.weights_differ  # else another network: its intermediates mean nothing
    q_real = _real(graph, refs[q].tensors, refs[q].real_valued)
    f_real = _real(graph, refs[f].tensors, True) if f else {}
    m_real = _real(graph, refs[m].tensors, True) if m and twin else {}
    rows = [layer_row(graph, op, q_real, f_real, m_real,
                      float_weights(graph, float_graph, match, op) if m_real else {})
            for op in graph.ops if _comparable(graph.tensors[op.outputs[0]])
            and op.outputs[0] in q_real]
    verdict = decide(graph, rows)
    warnings = [] if twin else [_not_twin(match)]
    return {"status": "ok", "reason": why, "int8": q, "float": f,
            "float_model": m if m_real else None,
            "vectors": len(next(iter(q_real.values()))) if q_real else 0, "layers": rows,
            "unmatched": _unmatched(graph, float_graph, match) if m else None,
            "verdict": verdict, "summary": summary(verdict),
            "warnings": warnings + input_warnings(rows, random_inputs),
            "thresholds": {"warn_clipped": WARN_CLIPPED, "warn_range_used": WARN_RANGE_USED,
                           "warn_min_values": WARN_MIN_VALUES}}


def _not_twin(match: Match) -> dict:
    op, dev = max(match.weights_differ.items(), key=lambda kv: kv[1])
    return {"kind": "float model", "op": op, "name": None, "fraction": None,
            "ops": sorted(match.weights_differ),
            "message": f"--float-model is not the float twin of this int8 model: the weights "
                       f"of op {op} differ by up to {dev:g} LSB (quantizing moves a weight by "
                       f"half an LSB at most); per layer, only numpy-float is compared",
            "short": f"--float-model is not this int8 model's float twin (op {op}'s weights "
                     f"differ by {dev:.0f} LSB)"}


def tensors_needed(names: list[str]) -> set[str]:
    """The references among `names` whose per-layer tensors this analysis reads (kept
    also without --per-layer): the float side and the best int8 side, when a float side
    runs at all."""
    floats = {n for n in FLOAT_SOURCES if n in names}
    q = next((n for n in INT8_SOURCES if n in names), None)
    return floats | {q} if floats and q else floats
