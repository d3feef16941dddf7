"""Attribution on ops that keep state between invocations (SVDF, LSTM): the re-run
carries the state from vector to vector as an interpreter does, and, for
--kernels cmsis-nn, tries CMSIS-NN's LSTM behaviour (a fresh state every invocation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.analysis.attribution import explain, try_variants
from harness.analysis.localize import Source
from harness.ops.interpreter import Int8Interpreter
from harness.ops.validate import load_model
from support.synth_recurrent import LstmCase, lstm_model

VECTORS = 4


@pytest.fixture
def lstm(tmp_path: Path):
    path = tmp_path / "lstm.tflite"
    path.write_bytes(lstm_model(3, LstmCase(steps=4)))
    graph = load_model(path)
    t = graph.input_tensors()[0]
    rng = np.random.default_rng(0)
    vectors = [rng.integers(-128, 128, (VECTORS, *t.shape)).astype(np.int8)]
    return graph, vectors


def _device(graph, vectors, keeps_state: bool) -> Source:
    """A device stand-in: the numpy-int8 interpreter, one for all vectors (state kept)
    or a fresh one per vector (state reset, as TFLM's CMSIS-NN LSTM runs)."""
    out = graph.ops[0].outputs[0]
    shared = Int8Interpreter(graph)
    rows = []
    for k in range(VECTORS):
        it = shared if keeps_state else Int8Interpreter(graph)
        _, tensors = it.run([vectors[0][k]])
        rows.append(tensors[out])
    return Source("device", {out: np.stack(rows)})


def test_a_device_that_resets_the_state_is_named(lstm) -> None:
    graph, vectors = lstm
    rates = try_variants(graph, [0], _device(graph, vectors, False), vectors,
                         kernels="cmsis-nn")
    assert rates["cmsis-nn"] == 1.0
    assert rates["reference"] < 1.0  # from the second vector on the state differs
    first = {"op": 0, "name": graph.ops[0].name, "max_abs_lsb": 9}
    cause = explain("platform", first, graph, _device(graph, vectors, False), vectors,
                    "double", [0], "cmsis-nn")
    assert cause["id"] == "recurrent state reset every invocation"
    assert "state reset before every invocation" in cause["evidence"]


def test_a_device_that_keeps_the_state_matches_the_reference(lstm) -> None:
    graph, vectors = lstm
    rates = try_variants(graph, [0], _device(graph, vectors, True), vectors,
                         kernels="cmsis-nn")
    assert rates["reference"] == 1.0 and rates["cmsis-nn"] < 1.0


def test_the_cmsis_nn_variant_only_for_cmsis_nn_builds(lstm) -> None:
    graph, vectors = lstm
    rates = try_variants(graph, [0], _device(graph, vectors, True), vectors)
    assert "cmsis-nn" not in rates and rates["reference"] == 1.0
