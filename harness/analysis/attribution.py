"""Drift attribution: split the drift along the reference chain and name a likely cause.

Chain: float-model -> numpy-float -> numpy-int8 = litert-ref -> litert -> tflm-host -> device.
Parts: quantization, kernel implementation, runtime, platform. Each non-zero part is
localised with the per-layer evidence, then explained by re-running the first
diverging op in NumPy with the other side's own inputs under each arithmetic
variant: the variant that reproduces the other side's output is the cause.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.analysis.compare import compare_output
from harness.analysis.localize import Source, compare_layers
from harness.model.graph import Graph
from harness.references import REFERENCES

# The references in their declared chain order, then the device.
CHAIN = [cls.name for cls in sorted(REFERENCES.values(), key=lambda c: c.chain_position)
         ] + ["device"]
REQUANT_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
TRANSCENDENTAL_OPS = {"SOFTMAX", "LOGISTIC", "TANH"}
# Which variant of the NumPy int8 arithmetic stands for which catalogue cause.
VARIANT_CAUSE = {
    "single": "double vs single rounding",
    "double": "double vs single rounding",
    "float": "float requantization",
    "cmsis-nn": "recurrent state reset every invocation",
}
# What each variant that names a cause did, for the evidence line.
VARIANT_HOW = {"cmsis-nn": "the op's state reset before every invocation, as TFLM's "
                           "CMSIS-NN kernel runs it (no state passed to CMSIS-NN)"}
CATALOGUE = ["double vs single rounding", "LUT vs exp in softmax/logistic/tanh",
             "float requantization", "recurrent state reset every invocation",
             "optimized-kernel differences", "compiler/FPU flags", "arena overlap"]


@dataclass
class Outputs:
    """Stacked outputs of one source, in the same order as the graph's outputs."""

    arrays: list[np.ndarray]
    real_valued: bool = False


def _first(names: list[str], available: dict) -> str | None:
    return next((n for n in names if n in available), None)


def part_definitions(own_ref: str) -> list[tuple[str, list[str], list[str]]]:
    """(part, candidate 'from' sources, candidate 'to' sources), in chain order."""
    return [
        ("quantization", ["float-model", "numpy-float"], ["litert-ref", "numpy-int8"]),
        ("kernel implementation", ["litert-ref", "numpy-int8"], ["litert"]),
        ("runtime", ["litert-ref", "numpy-int8"], ["tflm-host"]),
        ("platform", [own_ref], ["device"]),
    ]


def _op_inputs(graph: Graph, op_index: int, src: Source, vectors: list[np.ndarray],
               k: int) -> list[np.ndarray | None] | None:
    """The op's inputs in vector k as `src` saw them (None: a constant, or a state tensor
    the re-run keeps itself); None when `src` lacks one."""
    op = graph.ops[op_index]
    out = []
    for i in op.inputs:
        if i < 0 or graph.tensors[i].is_const or graph.tensors[i].is_variable:
            out.append(None)
        elif i in graph.inputs:
            out.append(vectors[graph.inputs.index(i)][k])
        elif i in src.tensors:
            out.append(src.tensors[i][k])
        else:
            return None
    return out


def _stateful(graph: Graph, op_index: int) -> bool:
    """The op keeps state between invocations (variable input tensors: SVDF, LSTM)."""
    return any(i >= 0 and graph.tensors[i].is_variable for i in graph.ops[op_index].inputs)


# Arithmetic variants beyond the requantization modes (harness.ops.plan.REQUANT_MODES):
# name -> (requantization mode, whether the op's state carries over between invocations).
# "cmsis-nn": TFLM's CMSIS-NN LSTM calls arm_lstm_unidirectional_s8 with no hidden state
# and a scratch buffer as the cell state (kernels/cmsis_nn/unidirectional_sequence_lstm.cc),
# so every invocation starts from a zero state; its arithmetic is the reference one.
STATELESS_VARIANTS = {"cmsis-nn": "reference"}


def _variants_for(graph: Graph, ops: list[int], variants: tuple[str, ...],
                  kernels: str) -> tuple[str, ...]:
    """The variants worth trying: the CMSIS-NN one only where it differs (a stateful op
    built with --kernels cmsis-nn)."""
    if kernels == "cmsis-nn" and any(_stateful(graph, i) for i in ops):
        return (*variants, "cmsis-nn")
    return variants


def try_variants(graph: Graph, ops: list[int], target: Source, vectors: list[np.ndarray],
                 variants: tuple[str, ...] = ("reference", "double", "single", "float"),
                 kernels: str = "reference") -> dict[str, float]:
    """Exact-match rate of each arithmetic variant against `target`'s outputs of `ops`,
    each op computed from `target`'s own inputs to it, vector after vector (an op's
    state carries over, as in an interpreter, except in a stateless variant).
    {} when it cannot be tested."""
    try:
        from harness.ops.interpreter import run_plan
        from harness.ops.plan import OpPlan
    except ImportError:
        return {}
    if target.real_valued:
        return {}
    variants = _variants_for(graph, ops, variants, kernels)
    mode = {v: STATELESS_VARIANTS.get(v, v) for v in variants}
    hits = dict.fromkeys(variants, 0)
    total = 0
    for op_index in ops:
        op = graph.ops[op_index]
        want = target.tensors.get(op.outputs[0])
        if want is None:
            continue
        try:
            plans = {v: OpPlan(graph, op, mode[v]) for v in variants}
        except ValueError:
            return {}
        for k in range(len(want)):
            ins = _op_inputs(graph, op_index, target, vectors, k)
            if ins is None:
                break
            total += want[k].size
            for variant in variants:
                plan = plans[variant]
                if variant in STATELESS_VARIANTS:  # a fresh plan: the state starts over
                    plan = OpPlan(graph, op, mode[variant])
                try:
                    got = run_plan(plan, ins)
                except (NotImplementedError, ValueError, KeyError):
                    return {}
                hits[variant] += int(np.sum(np.asarray(got).reshape(-1) == want[k].reshape(-1)))
    return {v: hits[v] / total for v in variants} if total else {}


# When variants explain the evidence equally well, the likelier one for each part.
TIE_ORDER = {"kernel implementation": ("float", "single", "double"),
             "runtime": ("double", "single", "float"),
             "platform": ("single", "double", "float")}


def explain(part: str, first: dict | None, graph: Graph, target: Source | None,
            vectors: list[np.ndarray], rounding: str, diverging: list[int] | None = None,
            kernels: str = "reference") -> dict:
    """A cause from the catalogue with the evidence that backs it."""
    if part == "quantization":
        where = f"; first departs by more than 1 LSB at op {first['op']} ({first['name']})" \
            if first else ""
        return {"id": "quantization", "evidence": "int8 resolution and calibration ranges: the "
                "float network and the integer one differ by design" + where}
    if first is None:
        hint = "; run with --per-layer to localise and test the cause"
        if part == "platform" and rounding == "single":
            return {"id": "double vs single rounding",
                    "evidence": "the firmware was built with --rounding single" + hint}
        return {"id": "optimized-kernel differences" if part != "platform" else "unexplained",
                "evidence": "no per-layer evidence" + hint}
    op = graph.ops[first["op"]]
    where = (f"op {op.index} ({op.name}) is the first to diverge "
             f"(max |d| {first['max_abs_lsb']} LSB)")
    ops = diverging or [op.index]
    rates = (try_variants(graph, ops, target, vectors, kernels=kernels) if target is not None
             else {})
    if rates:
        ref_rate = rates.get("reference", 0.0)
        top = max(rates.values())
        order = TIE_ORDER.get(part, ("single", "double", "float"))
        best = next((v for v in order if rates.get(v) == top), max(rates, key=rates.get))
        shown = ", ".join(f"{v} {100 * r:.1f}%" for v, r in rates.items())
        if best != "reference" and rates[best] > ref_rate:
            if op.name in TRANSCENDENTAL_OPS and best == "float":
                cause = "LUT vs exp in softmax/logistic/tanh"
            else:
                cause = VARIANT_CAUSE.get(best, "optimized-kernel differences")
            also = [v for v in rates if v != best and v != "reference" and rates[v] == top]
            tie = f"; {', '.join(also)} fits equally well" if also else ""
            how = VARIANT_HOW.get(best, f"the {best} arithmetic")
            return {"id": cause, "evidence": f"{where}; re-running the {len(ops)} diverging "
                    f"op(s) on {target.name}'s own inputs reproduces {target.name}'s outputs "
                    f"with {how} (exact-match rates: {shown}){tie}",
                    "variant_rates": rates}
        if ref_rate == 1.0 and part == "platform":
            return {"id": "arena overlap", "evidence": f"{where}, yet the reference arithmetic "
                    f"on the device's own inputs gives the device's output ({shown}): the "
                    "inputs changed between ops", "variant_rates": rates}
        tail = f" (exact-match rates: {shown})"
    else:
        tail = ""
    if op.name in TRANSCENDENTAL_OPS:
        cause = "LUT vs exp in softmax/logistic/tanh"
    elif any(graph.tensors[i].dtype == "float32" for i in op.outputs):
        cause = "compiler/FPU flags"
    else:
        cause = "optimized-kernel differences"
    return {"id": cause, "evidence": f"{where}; no arithmetic variant reproduces it{tail}"}


def quantization_cause(quantization: dict | None) -> dict | None:
    """The quantization part's cause: the op where the per-layer error jumps and why
    (harness/analysis/quantization.py), or None without that analysis."""
    verdict = (quantization or {}).get("verdict")
    if not verdict:
        return None
    return {"id": verdict["cause"], "op": verdict["op"], "name": verdict["name"],
            "evidence": f"the error jumps at op {verdict['op']} ({verdict['name']}): "
                        f"{verdict['evidence']}"}


def attribute(graph: Graph, outputs: dict[str, Outputs], layers: dict[str, Source],
              vectors: list[np.ndarray], own_ref: str, rounding: str = "double",
              quantization: dict | None = None, kernels: str = "reference") -> dict:
    """results.json's `attribution` section; `quantization` (the per-layer quantization
    analysis) names the quantization part's cause and is kept as its own key; `kernels`
    (the device's TFLM kernel set) adds its variants to the platform part."""
    chain = [{"stage": s, "status": "ok" if s in outputs else "not run"} for s in CHAIN]
    parts = []
    for part, froms, tos in part_definitions(own_ref):
        a, b = _first(tos, outputs), _first(froms, outputs)
        row = {"part": part, "from": b, "to": a, "max_abs_lsb": None, "rmse": None,
               "snr_db": None, "first_divergence": None, "cause": None}
        if a is None or b is None:
            need = [" or ".join(names) for names, got in ((froms, b), (tos, a)) if got is None]
            row["cause"] = {"id": "not measured", "evidence": "needs " + " and ".join(need)}
            parts.append(row)
            continue
        worst = None
        for k, t in enumerate(graph.output_tensors()):
            c = compare_output(a, b, t, outputs[a].arrays[k], outputs[b].arrays[k], None,
                               a_real=outputs[a].real_valued, b_real=outputs[b].real_valued)
            if worst is None or c.max_abs_lsb > worst.max_abs_lsb:
                worst = c
        row.update(max_abs_lsb=worst.max_abs_lsb, rmse=worst.rmse, snr_db=worst.snr_db)
        diverging: list[int] = []
        if a in layers and b in layers:
            pl = compare_layers(graph, layers[a], layers[b])
            row["first_divergence"] = pl["first_divergence"] if pl else None
            diverging = [x["op"] for x in (pl["layers"] if pl else []) if x["max_abs_lsb"] > 0]
        if worst.max_abs_lsb > 0 or row["first_divergence"]:
            # Also when later layers absorb it: an intermediate drift is still drift.
            row["cause"] = ((part == "quantization" and quantization_cause(quantization))
                            or explain(part, row["first_divergence"], graph, layers.get(a),
                                       vectors, rounding, diverging,
                                       kernels if part == "platform" else "reference"))
        parts.append(row)
    return {"chain": chain, "parts": parts, "summary": _summary(parts),
            "quantization": quantization}


def _summary(parts: list[dict]) -> str:
    said = []
    for p in parts:
        if p["max_abs_lsb"] is None:
            continue
        if p["max_abs_lsb"] == 0 and not p["first_divergence"]:
            said.append(f"{p['part']}: none ({p['to']} equals {p['from']})")
            continue
        where = ""
        if p["first_divergence"]:
            f = p["first_divergence"]
            where = f", starting at op {f['op']} {f['name']}"
        cause = f"; likely cause: {p['cause']['id']}" if p["cause"] else ""
        size = (f"up to {p['max_abs_lsb']} LSB at the outputs" if p["max_abs_lsb"]
                else "outputs equal but intermediates differ")
        said.append(f"{p['part']}: {size} ({p['from']} -> {p['to']}){where}{cause}")
    return "; ".join(said) if said else "nothing measured"
