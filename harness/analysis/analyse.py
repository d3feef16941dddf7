"""Compare stage, whole run: output metrics for every pair, per-layer localisation, attribution."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np

from harness.analysis.attribution import CHAIN, Outputs, attribute
from harness.analysis.compare import Comparison, compare_output, default_tolerance
from harness.analysis.localize import Source, localize
from harness.analysis.quantization import quantization_section
from harness.errors import HarnessError
from harness.model.graph import Graph
from harness.ops.validate import load_model
from harness.references.runner import ReferenceResult


def _order(name: str) -> int:
    return CHAIN.index(name) if name in CHAIN else len(CHAIN)


def output_comparisons(graph: Graph, outputs: dict[str, Outputs], own_ref: str,
                       tolerances: dict[str, int]) -> list[Comparison]:
    """Device against every reference (the own one enforced), then references pairwise."""
    out = []
    names = sorted((n for n in outputs if n != "device"), key=_order)
    pairs = [("device", n) for n in names if "device" in outputs]
    pairs += [(b, a) for a, b in combinations(names, 2)]  # later in the chain vs earlier
    for a, b in pairs:
        for k, t in enumerate(graph.output_tensors()):
            tol = (tolerances.get(b, default_tolerance(t) if b == own_ref else None)
                   if a == "device" else None)
            out.append(compare_output(
                a, b, t, outputs[a].arrays[k], outputs[b].arrays[k], tol,
                a_real=outputs[a].real_valued, b_real=outputs[b].real_valued,
                scatter=(a == "device")))
    return out


def _float_graph(path: Path | None) -> Graph | None:
    try:
        return load_model(path) if path else None
    except HarnessError:  # the float-model reference says why, as unavailable
        return None


def _quantization(graph: Graph, refs: dict[str, ReferenceResult], float_model: Path | None,
                  random_inputs: bool) -> dict | None:
    """The per-layer quantization analysis; it explains, it decides nothing, so a model it
    cannot read is said in the section and never sinks the run."""
    try:
        return quantization_section(graph, refs, _float_graph(float_model), random_inputs)
    except Exception as exc:  # noqa: BLE001 - the measured results must reach results.json
        return {"status": "not measured",
                "reason": f"the analysis failed: {type(exc).__name__}: {exc}"[:300]}


def analyse(graph: Graph, vectors: list[np.ndarray], device_outputs: list[np.ndarray] | None,
            device_tensors: dict[int, np.ndarray], refs: dict[str, ReferenceResult],
            own_ref: str, tolerances: dict[str, int], per_layer: bool,
            rounding: str, kernels: str = "reference", *,
            float_model: Path | None = None,
            random_inputs: bool = True) -> tuple[list[Comparison], dict | None, dict]:
    """Everything the report needs from the measured outputs and tensors."""
    outputs = {n: Outputs(r.outputs, r.real_valued) for n, r in refs.items() if r}
    if device_outputs is not None:
        outputs["device"] = Outputs(device_outputs)
    comparisons = output_comparisons(graph, outputs, own_ref, tolerances)
    layers: dict[str, Source] = {}
    if per_layer:
        layers = {n: Source(n, r.tensors, r.real_valued) for n, r in refs.items()
                  if r and r.tensors}
        if device_tensors:
            layers["device"] = Source("device", device_tensors)
    section = None
    if per_layer:
        names = sorted((n for n in layers if n != "device"), key=_order)
        pairs = [("device", n) for n in names if "device" in layers]
        pairs += [(b, a) for a, b in combinations(names, 2)]
        section = localize(graph, layers, pairs)
    quantization = _quantization(graph, refs, float_model, random_inputs)
    attribution = attribute(graph, outputs, layers, vectors, own_ref, rounding, quantization,
                            kernels)
    return comparisons, section, attribution
