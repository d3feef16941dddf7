"""Per-layer quantization error (harness/analysis/quantization.py, quant_verdict.py) on
float/int8 twins built here (tests/support/synth_quant.py): each model is made bad on
purpose at one known layer, and the harness must name that layer and the cause."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from rich.text import Text

from harness.analysis.attribution import quantization_cause
from harness.analysis.quant_verdict import WARN_CLIPPED, WARN_RANGE_USED
from harness.analysis.quantization import (
    debugger_stats,
    error_stats,
    occupancy,
    quantization_section,
    tensors_needed,
)
from harness.model.graph import Tensor
from harness.ops.validate import load_model
from harness.references.float_model import match_ops
from harness.references.runner import ReferenceResult
from harness.report.console import Console, quantization_lines
from harness.report.html import render_html
from harness.run.vectors import load_vectors, random_vectors
from support import synth_convert
from support import synth_quant as sq
from support.paths import EXAMPLE, shared_model
from support.quant_refs import quant_refs
from support.results import make_results
from support.synth_builder import ModelBuilder

ROOT = Path(__file__).resolve().parents[3]


def _section(q: Path, f: Path | None, vectors: list[np.ndarray], random_inputs: bool) -> dict:
    return quantization_section(load_model(q), quant_refs(q, vectors, f),
                                load_model(f) if f else None, random_inputs)


def _real(tmp_path: Path, x: np.ndarray, q: Path) -> list[np.ndarray]:
    """Float samples the way a user gives them (--inputs): quantized by the harness."""
    np.save(tmp_path / "x.npy", x.reshape(len(x), 1, -1))
    return load_vectors(tmp_path / "x.npy", load_model(q))


def _row(section: dict, op: int) -> dict:
    return next(r for r in section["layers"] if r["op"] == op)


# ---- the statistics, against their definitions ----------------------------------------


def test_error_stats_follow_their_definitions() -> None:
    ref = np.array([[1.0, -2.0, 3.0, 0.0]])
    got = np.array([[1.1, -2.0, 2.8, 0.1]])  # errors 0.1, 0, -0.2, 0.1
    s = error_stats(ref, got, scale=0.1)
    assert s["elements"] == 4
    assert s["snr_db"] == pytest.approx(10 * math.log10(14 / 0.06))
    assert s["rmse"] == pytest.approx(math.sqrt(0.06 / 4))
    assert s["rmse_lsb"] == pytest.approx(math.sqrt(0.015) / 0.1)
    assert s["max_abs"] == pytest.approx(0.2) and s["max_abs_lsb"] == pytest.approx(2.0)
    assert s["mean_error"] == pytest.approx(0.0) and s["mse"] == pytest.approx(0.015)
    assert error_stats(ref, ref, 0.1)["snr_db"] is None  # identical: no finite SNR


def test_debugger_stats_are_per_vector_then_averaged() -> None:
    """QuantizationDebugger's layer statistics: each metric of diffs = quantized - float per
    example, then the mean over the examples (np.nanmean)."""
    ref = np.zeros((2, 4))
    got = np.array([[1.0, -1.0, 1.0, -1.0], [0.0, 0.0, 0.0, 4.0]])
    s = debugger_stats(ref, got)
    assert s["num_elements"] == 4
    assert s["max_abs_error"] == pytest.approx((1 + 4) / 2)  # not the pooled max, 4
    assert s["mean_error"] == pytest.approx((0 + 1) / 2)
    assert s["mean_squared_error"] == pytest.approx((1 + 4) / 2)
    assert s["stddev"] == pytest.approx((1 + math.sqrt(3)) / 2)


def test_occupancy_counts_values_beyond_the_rails_and_the_range_used() -> None:
    t = Tensor(0, "t", (5,), "int8", np.array([0.1], np.float32), np.array([0]))
    # rails at -12.8 and 12.7; 12.75 overshoots by half an LSB (rounding), 13.0 by 3 LSB
    occ = occupancy(t, np.array([0.0, 12.7, 12.75, 13.0, -20.0]))
    assert occ["clipped"] == pytest.approx(2 / 5)
    assert occ["range_used"] == pytest.approx(1.0)
    assert occ["clip_power"] == pytest.approx(0.05 ** 2 + 0.3 ** 2 + 7.2 ** 2)
    narrow = occupancy(t, np.linspace(0.0, 2.55, 50))  # 26 of 256 levels: 25.5 / 255
    assert narrow["clipped"] == 0 and narrow["range_used"] == pytest.approx(0.1, abs=1e-3)


# ---- the verdict on models made bad at one layer ----------------------------------------


def test_narrow_calibration_range_is_named_clipping_at_its_layer(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    layers = sq.dense_stack([16, 32, 32, 32, 8], seed=3, overrides={2: {"range_scale": 0.3}})
    q, f = sq.write_twin(tmp_path, layers, (1, 16), rng.normal(0, 1, (300, 16)))
    sec = _section(q, f, _real(tmp_path, rng.normal(0, 1, (20, 16)), q), random_inputs=False)
    v = sec["verdict"]
    assert (v["op"], v["cause"]) == (2, "clipping"), v
    assert _row(sec, 2)["clipped"] > WARN_CLIPPED and _row(sec, 2)["clip_error_share"] > 0.9
    assert all(_row(sec, k)["clipped"] < WARN_CLIPPED for k in (0, 1, 3))
    assert sec["unmatched"] == {"int8": [], "float": [], "weights_differ": {}}
    cause = quantization_cause(sec)
    assert cause["id"] == "clipping" and "op 2" in cause["evidence"]
    # the same vectors clip, so the warning names that layer too (given, not random, vectors)
    (w,) = sec["warnings"]
    assert (w["kind"], w["op"]) == ("clipping", 2)
    assert w["message"].startswith("the given vectors clip")


def test_coarse_per_tensor_weights_are_named_weight_quantization(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    base = sq.dense_stack([16, 32, 32, 32, 8], seed=3)
    w = base[1].weights.copy()
    w[0, 0] = 40 * np.abs(w).max()  # one outlier in output channel 0 sets the tensor's scale
    calib, x = rng.normal(0, 1, (300, 16)), rng.normal(0, 1, (20, 16))
    layers = sq.dense_stack([16, 32, 32, 32, 8], seed=3,
                            overrides={1: {"weights": w, "per_tensor": True}})
    q, f = sq.write_twin(tmp_path, layers, (1, 16), calib)
    sec = _section(q, f, _real(tmp_path, x, q), random_inputs=False)
    v = sec["verdict"]
    assert (v["op"], v["cause"]) == (1, "weight quantization"), v
    assert "per-tensor" in v["evidence"] and "per-channel" in v["evidence"]
    wt = _row(sec, 1)["weight_tensor"]
    assert not wt["per_channel"] and wt["weakest_channel_levels"] <= 4
    assert wt["per_channel_snr_db"] > wt["snr_db"] + 10
    assert _row(sec, 1)["weights"]["snr_db"] < _row(sec, 1)["activations"]["snr_db"]
    assert sec["warnings"] == []
    # per-channel scales on the same weights: no longer a weight problem
    good = sq.dense_stack([16, 32, 32, 32, 8], seed=3, overrides={1: {"weights": w}})
    q, f = sq.write_twin(tmp_path, good, (1, 16), calib, name="good")
    assert _section(q, f, _real(tmp_path, x, q), False)["verdict"]["cause"] != \
        "weight quantization"


def test_layerwise_error_is_what_each_op_adds_itself(tmp_path: Path) -> None:
    """With inputs taken from the int8 side, a layer after a clipping one is clean again."""
    rng = np.random.default_rng(1)
    layers = sq.dense_stack([16, 32, 32, 8], seed=3, overrides={0: {"range_scale": 0.3}})
    q, f = sq.write_twin(tmp_path, layers, (1, 16), rng.normal(0, 1, (300, 16)))
    sec = _section(q, f, _real(tmp_path, rng.normal(0, 1, (20, 16)), q), False)
    after = _row(sec, 1)
    assert after["activations"]["snr_db"] < 20  # the clipped values travel on ...
    assert after["layerwise"]["snr_db"] > 35  # ... but op 1 itself only rounds
    assert after["layerwise"]["float_weights"]
    assert after["layerwise"]["output_rmse_lsb"] < 0.5  # ~1/sqrt(12) LSB of rounding
    assert after["layerwise"]["debugger"]["num_elements"] == 32


def test_well_calibrated_conv_twin_is_matched_and_quiet(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    layers = [sq.Conv(rng.normal(0, 0.3, (6, 3, 3, 2)), rng.normal(0, 0.1, 6)),
              sq.Dense(rng.normal(0, 0.1, (4, 6 * 6 * 6)), rng.normal(0, 0.1, 4), relu=False)]
    x = rng.normal(0, 1, (40, 6, 6, 2))
    q, f = sq.write_twin(tmp_path, layers, (1, 6, 6, 2), x)  # the test inputs are in range
    np.save(tmp_path / "x.npy", x[30:].reshape(10, 1, 6, 6, 2))
    sec = _section(q, f, load_vectors(tmp_path / "x.npy", load_model(q)), False)
    conv, dense = sec["layers"]
    assert conv["weight_tensor"]["per_channel"] and conv["weight_tensor"]["channels"] == 6
    assert (conv["reduction"], dense["reduction"]) == (18, 216)
    assert conv["layerwise"]["float_weights"] and dense["layerwise"]["float_weights"]
    assert all(r["total"]["snr_db"] > 30 for r in sec["layers"])
    assert sec["warnings"] == [] and sec["verdict"]["cause"] in ("int8 rounding", "accumulation")


# ---- the input warnings --------------------------------------------------------------------


def test_warning_fires_on_random_vectors_and_not_on_real_samples(tmp_path: Path) -> None:
    layers = sq.dense_stack([32, 16, 8], seed=5)
    q, f = sq.write_twin(tmp_path, layers, (1, 32), sq.sparse_samples(500, seed=1))
    noisy = _section(q, f, random_vectors(load_model(q), 10, seed=0), random_inputs=True)
    warning = next(w for w in noisy["warnings"] if w["kind"] == "clipping")
    assert warning["fraction"] >= WARN_CLIPPED and warning["op"] in (0, 1)
    assert warning["fraction"] == _row(noisy, warning["op"])["clipped"]
    assert warning["message"].startswith(f"random vectors clip {100 * warning['fraction']:.0f}%")
    assert "pass --inputs with real samples" in warning["message"]
    assert noisy["verdict"]["cause"] == "clipping"
    real = _section(q, f, _real(tmp_path, sq.sparse_samples(10, seed=2), q), False)
    assert real["warnings"] == [] and real["verdict"]["cause"] != "clipping"
    assert max(r["clipped"] for r in real["layers"]) < WARN_CLIPPED
    # the console and the report say it too
    (line,) = [Text.from_markup(ln).plain
               for ln in quantization_lines({"attribution": {"quantization": noisy}})]
    assert line.startswith("  warning: random vectors clip") and len(line) <= 100
    html = render_html({"attribution": {"quantization": noisy}})
    assert "random vectors clip" in html and 'id="quantization-table"' in html


def _stripes(count: int) -> np.ndarray:
    """The example model's own kind of input (scripts/make_example_model.py)."""
    spec = importlib.util.spec_from_file_location(
        "make_example_model", ROOT / "scripts" / "make_example_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_images(count, np.random.default_rng(3))[0]


def test_example_random_vectors_leave_the_logits_range_unused(tmp_path: Path) -> None:
    noisy = _section(EXAMPLE, None, random_vectors(load_model(EXAMPLE), 10, seed=0), True)
    (w,) = [w for w in noisy["warnings"] if w["kind"] == "unused range"]
    assert w["op"] == 5 and w["name"] == "FULLY_CONNECTED" and w["fraction"] < WARN_RANGE_USED
    assert "use only" in w["message"]
    np.save(tmp_path / "x.npy", _stripes(10).reshape(10, 1, 32, 32, 1))
    real = _section(EXAMPLE, None, load_vectors(tmp_path / "x.npy", load_model(EXAMPLE)), False)
    assert real["warnings"] == []
    assert min(r["range_used"] for r in real["layers"]) > 0.5


# ---- matching the float model, and what the section needs ---------------------------------


def test_float_tensors_match_by_name_then_by_position(tmp_path: Path) -> None:
    layers = sq.dense_stack([8, 8, 4], seed=1)
    q = load_model(sq.write_twin(tmp_path, layers, (1, 8), np.ones((4, 8)))[0])
    renamed = tmp_path / "renamed.tflite"
    renamed.write_bytes(sq.float_model(layers, (1, 8), prefix="other"))
    longer = tmp_path / "longer.tflite"
    longer.write_bytes(sq.float_model(sq.dense_stack([8, 8, 4, 4], seed=1), (1, 8)))
    for path in (tmp_path / "twin_float.tflite", renamed):
        m = match_ops(q, load_model(path))
        assert m.ops == {0: 0, 1: 1} and not m.unmatched_int8 and not m.unmatched_float
        assert m.tensors[q.inputs[0]] == 0 and not m.weights_differ
    m = match_ops(q, f := load_model(longer))
    assert m.ops == {0: 0, 1: 1} and [f.tensors[i].name for i in m.unmatched_float] == ["l2/out"]


def test_conversions_at_the_edges_carry_their_match(tmp_path: Path) -> None:
    """float in -> QUANTIZE -> FULLY_CONNECTED -> DEQUANTIZE "out" against one float
    FULLY_CONNECTED also called "out" (as the converter names them): the FC pairs with the
    FC, the conversions pass the match through."""
    b = ModelBuilder(seed=1)
    x = synth_convert.model_input(b, [1, 8], "float32")
    y = b.fully_connected(synth_convert.convert(b, x, "int8", 0.05, 0), units=4, name="fc")
    (tmp_path / "q.tflite").write_bytes(b.build(synth_convert.convert(b, y, "float32",
                                                                      name="out")))
    fb = ModelBuilder(seed=1)
    fx = synth_convert.model_input(fb, [1, 8], "float32")
    w = fb.add_tensor("w", [4, 8], sq.TT.FLOAT32, data=np.ones((4, 8), np.float32))
    bias = fb.add_tensor("b", [4], sq.TT.FLOAT32, data=np.zeros(4, np.float32))
    out = fb.add_tensor("out", [1, 4], sq.TT.FLOAT32)
    sq.layer_op(fb, sq.Dense(np.ones((4, 8)), np.zeros(4)), fx, w, bias, out, int8=False)
    (tmp_path / "f.tflite").write_bytes(fb.build(out))
    q, f = load_model(tmp_path / "q.tflite"), load_model(tmp_path / "f.tflite")
    m = match_ops(q, f)
    assert m.ops == {1: 0}
    assert {i: m.tensors[op.outputs[0]] for i, op in enumerate(q.ops)} == {
        0: f.inputs[0], 1: f.outputs[0], 2: f.outputs[0]}
    assert list(m.weights_differ) == [1]  # random int8 weights are no quantization of ones


def test_hello_world_float_is_no_twin_and_numpy_float_still_splits(tmp_path: Path) -> None:
    q, f = shared_model("hello_world_int8.tflite"), shared_model("hello_world_float.tflite")
    sec = _section(q, f, random_vectors(load_model(q), 10, seed=0), True)
    assert [r["op"] for r in sec["layers"]] == [0, 1, 2]
    assert all(r["activations"]["snr_db"] > 25 for r in sec["layers"])
    assert sec["verdict"]["op"] in (0, 1, 2) and sec["verdict"]["cause"]
    (w,) = sec["warnings"]  # x is uniform over the input's range: random inputs are real here
    assert w["kind"] == "float model" and "not the float twin" in w["message"]
    assert set(sec["unmatched"]["weights_differ"]) == {"0", "1", "2"}
    assert sec["float_model"] is None and all(r["total"] is None for r in sec["layers"])


def test_section_needs_a_float_side_and_says_why_not() -> None:
    g = load_model(EXAMPLE)
    ok = ReferenceResult("numpy-int8", "ok", tensors={0: np.zeros((1, 1))})
    assert quantization_section(g, {"numpy-int8": ok}) is None
    sec = quantization_section(g, {"numpy-int8": ok, "numpy-float": ReferenceResult(
        "numpy-float", "unavailable", "no float implementation of SVDF")})
    assert sec["status"] == "not measured" and "SVDF" in sec["reason"]
    assert tensors_needed(["litert-ref", "numpy-int8", "numpy-float"]) == {"numpy-int8",
                                                                          "numpy-float"}
    assert tensors_needed(["litert-ref", "float-model"]) == {"litert-ref", "float-model"}
    assert tensors_needed(["litert-ref", "numpy-int8"]) == set()


def test_quantization_part_names_its_op_in_the_console_and_the_report(
        capsys: pytest.CaptureFixture) -> None:
    res = make_results()
    quant = res["attribution"]["quantization"]
    res["attribution"]["parts"][0]["cause"] = quantization_cause(quant)
    Console().summary(res)
    out = capsys.readouterr().out.splitlines()
    assert "  quantization (numpy-float -> litert-ref): 1 LSB (jumps at op 5 FULLY_CONNECTED), " \
           "cause: clipping" in out
    drift = render_html(res)
    drift = drift[drift.index('<section id="drift">'):drift.index('<section id="enforced">')]
    assert "jumps at op 5 FULLY_CONNECTED" in drift
    assert "the error jumps at op 5 (FULLY_CONNECTED): 31% of its float values" in drift
