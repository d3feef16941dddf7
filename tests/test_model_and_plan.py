"""Model parsing, the arena planner and input vectors, on real and synthetic models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from conftest import EXAMPLE, SHARED_MODELS, shared_model
from harness.errors import BadInput, ModelNotFound, NotAModel
from harness.ops.validate import load_model, load_model_bytes
from harness.run.vectors import load_vectors, random_vectors
from harness.runtimes.builtin.arena import plan_arena
from support import synth

REAL_MODELS = (sorted(p.name for p in SHARED_MODELS.glob("*.tflite"))
               or ["micro_speech_quantized.tflite"])


def test_example_model_structure() -> None:
    g = load_model(EXAMPLE)
    assert [op.name for op in g.ops] == ["CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D",
                                         "AVERAGE_POOL_2D", "RESHAPE", "FULLY_CONNECTED",
                                         "SOFTMAX"]
    (inp,) = g.input_tensors()
    assert inp.shape == (1, 32, 32, 1) and inp.dtype == "int8"
    filt = g.tensors[g.ops[0].inputs[1]]
    assert filt.per_channel and len(filt.scales) == filt.shape[0]
    assert g.ops[1].options["depthMultiplier"] == 2


@pytest.mark.parametrize("name", REAL_MODELS)
def test_parse_agrees_with_litert(name: str) -> None:
    """Shapes, dtypes and quantization of inputs/outputs match what LiteRT reads."""
    path = shared_model(name)
    g = load_model(path)
    try:
        interp = Interpreter(model_path=str(path))
    except ValueError as exc:
        pytest.skip(f"LiteRT cannot load {name}: {str(exc)[:80]}")
    for ours, theirs in ((g.input_tensors(), interp.get_input_details()),
                         (g.output_tensors(), interp.get_output_details())):
        for t, d in zip(ours, theirs, strict=True):
            assert list(t.shape) == list(d["shape"])
            assert np.dtype(t.dtype) == np.dtype(d["dtype"])
            assert np.allclose(t.scales, d["quantization_parameters"]["scales"])


def test_missing_and_non_models(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound):
        load_model(tmp_path / "absent.tflite")
    with pytest.raises(ModelNotFound):
        load_model(tmp_path)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(NotAModel):
        load_model(junk)


@pytest.mark.parametrize("cut", [8, 20, 100, 1000, 3000, 5600])
def test_truncated_model_is_a_clean_error(cut: int) -> None:
    with pytest.raises(NotAModel, match="damaged or truncated"):
        load_model_bytes(EXAMPLE.read_bytes()[:cut])


def _live_ranges(g):  # independent of the planner: which tensors are live at each step
    spans = {}
    for t in g.inputs:
        spans.setdefault(t, [-1, -1])
    for step, op in enumerate(g.ops):
        for t in op.inputs + op.outputs:
            if t >= 0 and not g.tensors[t].is_const:
                s = spans.setdefault(t, [step, step])
                s[0], s[1] = min(s[0], step), max(s[1], step)
    for t in g.outputs:
        spans[t][1] = len(g.ops)
    return spans


@pytest.mark.parametrize("model", ["example", "micro_speech_quantized.tflite",
                                   "person_detect.tflite"])
def test_arena_plan_never_overlaps_live_tensors(model: str) -> None:
    g = load_model(EXAMPLE if model == "example" else shared_model(model))
    plan = plan_arena(g)
    spans = _live_ranges(g)
    aliases = {op.outputs[0]: op.inputs[0] for op in g.ops if op.name == "RESHAPE"}
    items = list(spans.items())
    for i, (a, (a0, a1)) in enumerate(items):
        ra = (plan.offsets[a], plan.offsets[a] + g.tensors[a].nbytes)
        assert ra[1] <= plan.size
        for b, (b0, b1) in items[i + 1:]:
            if aliases.get(a) == b or aliases.get(b) == a:
                continue
            if a1 < b0 or b1 < a0:
                continue  # never live at the same time
            rb = (plan.offsets[b], plan.offsets[b] + g.tensors[b].nbytes)
            assert ra[1] <= rb[0] or rb[1] <= ra[0], f"tensors {a} and {b} overlap"
    assert plan.size <= plan.naive_size


def test_random_vectors_are_seeded_and_span_the_range() -> None:
    g = load_model(EXAMPLE)
    (a,) = random_vectors(g, 50, seed=1)
    (b,) = random_vectors(g, 50, seed=1)
    (c,) = random_vectors(g, 50, seed=2)
    assert a.shape == (50, 1, 32, 32, 1) and a.dtype == np.int8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() == -128 and a.max() == 127


def test_load_vectors_quantizes_float_and_checks_shape(tmp_path: Path) -> None:
    g = load_model(EXAMPLE)
    t = g.input_tensors()[0]
    x = np.random.default_rng(0).uniform(-1, 1, (3, 1, 32, 32, 1)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    (q,) = load_vectors(tmp_path / "x.npy", g)
    expect = np.clip(np.round(x / t.scale) + t.zero_point, -128, 127).astype(np.int8)
    assert np.array_equal(q, expect)
    np.save(tmp_path / "bad.npy", np.zeros((2, 5), np.int8))
    with pytest.raises(BadInput, match="does not fit"):
        load_vectors(tmp_path / "bad.npy", g)
    np.savez(tmp_path / "two.npz", a=x, b=x)
    with pytest.raises(BadInput, match="2 arrays"):
        load_vectors(tmp_path / "two.npz", g)


def test_synthetic_model_roundtrips_through_parser() -> None:
    g = load_model_bytes(synth.conv2d((1, 6, 6, 2), 3, (3, 3), stride=(2, 2), padding="VALID",
                                       weight_scale=[0.01, 0.02, 0.03]))
    (op,) = g.ops
    assert op.name == "CONV_2D" and op.options["strideH"] == 2 and op.options["padding"] == 1
    assert list(g.tensors[op.inputs[1]].scales) == pytest.approx([0.01, 0.02, 0.03])
