"""Each reference in its worker process, including one that crashes natively."""

from __future__ import annotations

import numpy as np

from harness.analysis.compare import compare_output
from harness.ops.validate import load_model
from harness.references.runner import run_reference
from harness.run.vectors import random_vectors
from support.paths import EXAMPLE, shared_model


def test_native_crash_is_reported_and_the_next_reference_still_runs() -> None:
    """LiteRT BUILTIN_REF with preserve-all-tensors corrupts its heap on this model."""
    model = shared_model("keyword_scrambled_8bit.tflite")
    g = load_model(model)
    vectors = random_vectors(g, 2, seed=0)
    crashed = run_reference("litert-ref", model, vectors, per_layer=True)
    assert crashed.status == "failed" and "worker crashed" in crashed.reason
    after = run_reference("tflm-host", model, vectors)
    assert after.status == "ok" and after.outputs[0].shape == (2, 1, 2)


def test_reference_that_cannot_load_is_unavailable_with_reason() -> None:
    model = shared_model("person_detect.tflite")
    vectors = random_vectors(load_model(model), 1, seed=0)
    r = run_reference("litert", model, vectors)
    assert not r and r.status == "unavailable" and "quantized_dimension" in r.reason
    assert run_reference("tflm-host", model, vectors)


def test_integer_references_agree_and_float_is_close_on_the_example() -> None:
    g = load_model(EXAMPLE)
    vectors = random_vectors(g, 8, seed=4)
    res = {n: run_reference(n, EXAMPLE, vectors, per_layer=True)
           for n in ("litert-ref", "tflm-host", "numpy-int8", "numpy-float")}
    assert all(res.values()), {n: r.reason for n, r in res.items()}
    base = res["litert-ref"]
    assert np.array_equal(res["numpy-int8"].outputs[0], base.outputs[0])
    # TFLM rounds FULLY_CONNECTED twice where LiteRT rounds once: the same NumPy
    # arithmetic with double rounding everywhere must give TFLM's bits exactly.
    from harness.ops.interpreter import run_graph

    double = np.stack([run_graph(g, [v[k] for v in vectors], requant="double")[0][0]
                       for k in range(len(vectors[0]))])
    assert np.array_equal(res["tflm-host"].outputs[0], double)
    out = g.output_tensors()[0]
    cmp = compare_output("numpy-float", "litert-ref", out, res["numpy-float"].outputs[0],
                         base.outputs[0], None, a_real=True)
    assert cmp.snr_db is not None and cmp.snr_db > 15, cmp.snr_db
    assert cmp.top1_agreement is not None and cmp.top1_agreement >= 0.75
    # every activation of the example is exposed by the per-layer references
    activations = {t.index for t in g.tensors if not t.is_const}
    assert activations <= set(res["numpy-int8"].tensors)
    assert {op.outputs[0] for op in g.ops} <= set(res["tflm-host"].tensors)
