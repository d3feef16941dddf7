"""(d) Host reference speed: vectors per second of each reference on one model.

In-process, after one warm-up call; a reference that cannot load the model is
reported with its reason. The numpy-int8 / litert-ref ratio is taken from the
same round of measurements.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from harness.bench.stats import Figure
from harness.ops.validate import load_model
from harness.references import REFERENCES, ReferenceUnavailable
from harness.run.vectors import random_vectors

NAMES = ("litert-ref", "litert", "tflm-host", "numpy-int8", "numpy-float")


def _rate(ref, vectors: list[np.ndarray], seconds: float) -> float:
    n_vec = vectors[0].shape[0]
    ref.run([v[0] for v in vectors])
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or n == 0:
        k = n % n_vec
        ref.run([v[k] for v in vectors])
        n += 1
    return n / elapsed


def reference_speed(model: Path, rounds: int = 3, seconds: float = 1.0) -> list[Figure]:
    """Vectors/s per reference, and numpy-int8 over litert-ref (goal: within 5x)."""
    graph = load_model(model)
    vectors = random_vectors(graph, 8, seed=0)
    loaded, reasons = {}, {}
    for name in NAMES:
        ref = REFERENCES[name]()
        try:
            ref.load(model)
            loaded[name] = ref
        except ReferenceUnavailable as exc:
            reasons[name] = str(exc)[:90]
    rates: dict[str, list[float]] = {n: [] for n in loaded}
    ratios = []
    for _ in range(rounds):
        got = {n: _rate(r, vectors, seconds) for n, r in loaded.items()}
        for n, v in got.items():
            rates[n].append(v)
        if "numpy-int8" in got and "litert-ref" in got:
            ratios.append(got["litert-ref"] / got["numpy-int8"])
    cmd = f"invoke bench (model {model.name})"
    figs = [Figure(f"(d) {graph.name}: {n}", rates.get(n, []), "vectors/s", command=cmd,
                   note=reasons.get(n, "")) for n in NAMES]
    figs.append(Figure(f"(d) {graph.name}: litert-ref speed / numpy-int8 speed", ratios, "x",
                       "<= 5", cmd, "" if ratios else "litert-ref cannot load this model"))
    return figs
