"""The quantization verdict: the op where the error jumps, its likely cause, and whether
the input vectors make the figures meaningless.

Reads the rows of harness/analysis/quantization.py. The jump at an op is how far its SNR
falls below the lowest SNR of its inputs (an input without error counts as the SNR a
full-range signal rounded to the op's integer type has: 20 log10(2^bits), 48.2 dB for
int8). The cause is read from the evidence at that op, in this order:
  clipping             float values lie beyond the int8 rails and clipping makes half
                       the error power there or more (calibration range too narrow);
  weight quantization  the weights' curve (numpy-float vs float-model) falls more there
                       than the activations' (needs --float-model);
  accumulation         the op sums many products and its inputs' noise comes out louder,
                       while its own rounding stays small;
  resolution           rounding the float values alone to the tensor's scale leaves 12 dB
                       or more below a full-range signal (most values use few levels);
  int8 rounding        none of these: the error is the rounding noise 8 bits cost.
"""

from __future__ import annotations

import math

import numpy as np

from harness.model.graph import Graph

# Cause thresholds (see the module docstring).
CLIP_SHARE = 0.5  # clipping makes at least half the error power there
SIGNIFICANT_DB = 6.0  # a weight or accumulation cause needs its curve to fall this much
ACCUMULATION_MIN = 16  # products summed per output, at least
RESOLUTION_LOSS_DB = 12.0  # rounding alone leaves this much less than a full-range signal
ROUNDING_LSB = 1 / math.sqrt(12)  # RMS of rounding a uniform value: 0.289 LSB
# Input warnings. Measured (README, "Quantization error"): with realistic inputs no layer of
# hello_world (x in [0, 2 pi]), micro_speech (features of TFLM's yes/no/noise/silence clips)
# or the example CNN (its training images) clipped any value, and every layer used at least
# 56% of its range (71% from 3 vectors on); random vectors clipped 33-42% of micro_speech's
# FULLY_CONNECTED output and used 18% of the example's logits range.
WARN_CLIPPED = 0.01  # at least 1% of an activation's float values clipped
WARN_RANGE_USED = 0.25  # the float values span less than a quarter of the int8 range ...
WARN_MIN_VALUES = 16  # ... over at least this many values (vectors x elements)


def cap_db(dtype: str) -> float:
    """The SNR of a full-range signal rounded to this integer type."""
    return 20.0 * math.log10(2.0 ** (8 * np.dtype(dtype).itemsize))


def jumps(graph: Graph, rows: list[dict], key: str) -> dict[int, float]:
    """Per op, how many dB its `key` SNR falls below its inputs' lowest."""
    snr = {r["tensor"]: r[key]["snr_db"] for r in rows if r[key]}
    out = {}
    for r in rows:
        if not r[key]:
            continue
        cap = cap_db(r["dtype"])
        ins = [i for i in graph.ops[r["op"]].inputs if i >= 0 and not graph.tensors[i].is_const]
        before = min([_capped(snr.get(i), cap) for i in ins] or [cap])
        out[r["op"]] = before - _capped(snr[r["tensor"]], cap)
    return out


def _capped(value: float | None, cap: float) -> float:
    return cap if value is None else min(value, cap)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if x < 0.1 else f"{100 * x:.0f}%"


def decide(graph: Graph, rows: list[dict]) -> dict | None:
    """The op where the error jumps, and its likely cause with the evidence."""
    key = "total" if any(r["total"] for r in rows) else "activations"
    curve = jumps(graph, rows, key)
    if not curve:
        return None
    by_op = {r["op"]: r for r in rows}
    named = by_op[max(curve, key=lambda op: (curve[op], -op))]
    extra = {k: jumps(graph, rows, k) for k in ("activations", "weights")}
    cause, evidence = _cause(named, {k: v.get(named["op"]) for k, v in extra.items()})
    return {"op": named["op"], "name": named["name"], "tensor": named["tensor"],
            "tensor_name": named["tensor_name"], "curve": key,
            "snr_db": named[key]["snr_db"], "jump_db": round(curve[named["op"]], 2),
            "cause": cause, "evidence": evidence}


def _cause(row: dict, jump: dict[str, float | None]) -> tuple[str, str]:
    for test in (_clipping, _weights, _accumulation, _resolution):
        found = test(row, jump)
        if found:
            return found
    lw = row["layerwise"]
    rms = f" ({lw['output_rmse_lsb']:.2f} LSB RMS, {ROUNDING_LSB:.2f} is ideal)" if lw else ""
    return "int8 rounding", (f"its error is the rounding noise of {row['dtype']}{rms}, "
                             "no clipping, no coarse weights: nothing stands out here")


def _clipping(row: dict, jump: dict) -> tuple[str, str] | None:
    if not row["clipped"] or (row["clip_error_share"] or 0) < CLIP_SHARE:
        return None
    return "clipping", (f"{_pct(row['clipped'])} of its float values lie beyond the int8 "
                        f"rails and clipping makes {_pct(row['clip_error_share'])} of the "
                        "error there: the calibration range is too narrow for these inputs")


def _weights(row: dict, jump: dict) -> tuple[str, str] | None:
    w, a = row["weights"], row["activations"]
    if not w or not a or jump["weights"] is None or jump["weights"] < SIGNIFICANT_DB:
        return None
    if jump["weights"] <= (jump["activations"] or 0):
        return None
    if (w["snr_db"] or math.inf) >= (a["snr_db"] or math.inf):
        return None
    said = (f"the weights alone cost {jump['weights']:.1f} dB here (numpy-float vs "
            f"float-model), the activations {jump['activations'] or 0:.1f} dB")
    wt = row["weight_tensor"]
    if wt and not wt["per_channel"] and (wt["per_channel_snr_db"] or 0) > (
            wt["snr_db"] or wt["per_tensor_snr_db"] or 0) + 6:
        said += (f"; its weights are per-tensor: the weakest of its {wt['channels']} output "
                 f"channels uses {wt['weakest_channel_levels']} of 127 levels, and per-channel "
                 f"scales would give {wt['per_channel_snr_db']:.1f} dB instead of "
                 f"{wt['snr_db'] or wt['per_tensor_snr_db']:.1f} dB")
    return "weight quantization", said


def _accumulation(row: dict, jump: dict) -> tuple[str, str] | None:
    a, lw, n = row["activations"], row["layerwise"], row["reduction"]
    if (not a or not lw or not n or n < ACCUMULATION_MIN
            or (jump["activations"] or 0) < SIGNIFICANT_DB):
        return None
    own, total = lw["output_rmse_lsb"] ** 2, a["rmse_lsb"] ** 2
    if total <= 2 * own:  # the op's own rounding and clipping make half the error or more
        return None
    return "accumulation", (f"each output sums {n} products: its inputs' quantization noise "
                            f"comes out {jump['activations']:.1f} dB louder relative to the "
                            f"signal, while its own rounding adds only "
                            f"{lw['output_rmse_lsb']:.2f} LSB RMS")


def _resolution(row: dict, jump: dict) -> tuple[str, str] | None:
    ideal = row["ideal_snr_db"]
    if ideal is None or ideal >= cap_db(row["dtype"]) - RESOLUTION_LOSS_DB:
        return None
    rms = ROUNDING_LSB * 10 ** (ideal / 20)  # the values' RMS in LSB
    return "resolution", (f"rounding its float values alone to the scale {row['scale']:.3g} "
                          f"leaves {ideal:.1f} dB: their RMS is {rms:.1f} LSB while they span "
                          f"{_pct(row['range_used'])} of the range; the scale is too coarse "
                          "for most of them")


def input_warnings(rows: list[dict], random_inputs: bool) -> list[dict]:
    """Warnings when the vectors clip much of an activation or leave its range unused; each
    with a `message` and, for the console's one line, a `short` one."""
    who = "random vectors" if random_inputs else "the given vectors"
    fix = ("pass --inputs with real samples" if random_inputs
           else "check that they are real samples")
    hint = "use --inputs with real data" if random_inputs else "are they real samples?"
    out = []
    for kind, bad, worst in (
            ("clipping", lambda r: r["clipped"] >= WARN_CLIPPED, lambda r: -r["clipped"]),
            ("unused range", lambda r: r["range_used"] < WARN_RANGE_USED
             and r["values"] >= WARN_MIN_VALUES, lambda r: r["range_used"])):
        hits = [r for r in rows if r["clipped"] is not None and bad(r)]
        if not hits:
            continue
        r = min(hits, key=lambda r: (worst(r), r["op"]))
        what = (f"clip {_pct(r['clipped'])} of" if kind == "clipping"
                else f"use only {_pct(r['range_used'])} of the int8 range of")
        short = (f"clip {_pct(r['clipped'])} of op {r['op']} {r['name']}'s output"
                 if kind == "clipping" else
                 f"span {_pct(r['range_used'])} of op {r['op']} {r['name']}'s range")
        more = (f" ({len(hits) - 1} more op{'s' if len(hits) > 2 else ''} likewise)"
                if len(hits) > 1 else "")
        out.append({"kind": kind, "op": r["op"], "name": r["name"],
                    "fraction": r["clipped"] if kind == "clipping" else r["range_used"],
                    "ops": [h["op"] for h in hits],
                    "message": f"{who} {what} op {r['op']} ({r['name']})'s output{more}; "
                               f"the quantization figures describe these vectors, not your "
                               f"data: {fix}",
                    "short": f"{who} {short}; {hint}"})
    return out


def summary(verdict: dict | None) -> str:
    """One line: the named op and the cause."""
    if verdict is None:
        return "no quantized layer could be compared"
    snr = verdict["snr_db"]
    level = f"{snr:.1f} dB" if snr is not None else "no error"
    return (f"the error jumps at op {verdict['op']} ({verdict['name']}; SNR {level}, "
            f"{verdict['jump_db']:.1f} dB below its inputs): {verdict['cause']}")
