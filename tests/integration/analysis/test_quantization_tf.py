"""The anchor: TensorFlow's tf.lite.experimental.QuantizationDebugger on a small conv net the
test converts itself, against the harness's figures where the definitions match; and the
same net's float/int8 pair through the whole pipeline. Needs TensorFlow (the `tf` extra)."""

from __future__ import annotations

import csv
import functools
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.analysis.quantization import quantization_section
from harness.config import RunConfig
from harness.ops.validate import load_model
from harness.run.pipeline import run
from support.quant_refs import quant_refs

tf = pytest.importorskip("tensorflow", reason="needs TensorFlow: pip install -e '.[tf]'")


def _net() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(0)
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1), batch_size=1),  # static shapes: no SHAPE, PACK ops
        tf.keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(2),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(3)])


def _data(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (count, 1, 8, 8, 1)).astype(np.float32)


def _quantizing(net: tf.keras.Model, int8_io: bool) -> tf.lite.TFLiteConverter:
    conv = tf.lite.TFLiteConverter.from_keras_model(net)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([x] for x in _data(50, seed=1))
    if int8_io:
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
    return conv


def _write(folder: Path, net: tf.keras.Model, quantized: bytes) -> tuple[Path, Path]:
    q, f = folder / "net_int8.tflite", folder / "net_float.tflite"
    q.write_bytes(quantized)
    f.write_bytes(tf.lite.TFLiteConverter.from_keras_model(net).convert())
    return q, f


@pytest.fixture
def reference_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The debugger's interpreter with TFLite's reference kernels, the arithmetic numpy-int8
    reproduces; its default (XNNPACK) rounds an int8 value one LSB away here and there."""
    module = sys.modules[tf.lite.experimental.QuantizationDebugger.__module__]
    interp = module._interpreter
    monkeypatch.setattr(interp, "Interpreter", functools.partial(
        interp.Interpreter, experimental_op_resolver_type=interp.OpResolverType.BUILTIN_REF))


@pytest.mark.usefixtures("reference_kernels")
def test_debugger_layer_statistics_agree_with_the_harness(tmp_path: Path) -> None:
    net, data = _net(), _data(8, seed=2)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=_quantizing(net, int8_io=False), debug_dataset=lambda: ([x] for x in data))
    debugger.run()
    dump = io.StringIO()
    debugger.layer_statistics_dump(dump)
    theirs = {row["tensor_name"]: row for row in csv.DictReader(io.StringIO(dump.getvalue()))}
    q, f = _write(tmp_path, net, debugger.get_nondebug_quantized_model())
    graph = load_model(q)
    sec = quantization_section(graph, quant_refs(q, [data], f), load_model(f), False)
    # Where the definitions differ: after a QUANTIZE of a float model input, the debugger's
    # float op reads the float input itself (so its figures also hold the input's rounding,
    # which the harness reports on the QUANTIZE's own row). Its names drop a last digit.
    quantized_inputs = {op.outputs[0] for op in graph.ops if op.name == "QUANTIZE"
                        and graph.tensors[op.inputs[0]].dtype == "float32"}
    pairs = [(r, theirs.get(r["tensor_name"]) or theirs.get(r["tensor_name"][:-1]))
             for r in sec["layers"] if r["layerwise"] and r["name"] != "QUANTIZE"
             and not quantized_inputs & set(graph.ops[r["op"]].inputs)]
    pairs = [(r, row) for r, row in pairs if row]
    assert [r["name"] for r, _ in pairs] == ["MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED",
                                            "FULLY_CONNECTED"], sorted(theirs)
    for r, row in pairs:
        name, mine = r["tensor_name"], r["layerwise"]["debugger"]
        assert mine["num_elements"] == float(row["num_elements"]), name
        scale = r["scale"]
        assert float(row["scale"]) == pytest.approx(scale, rel=1e-6)
        # the same int8 arithmetic on both sides; the float op in float32 (theirs) against
        # float64 (ours): equal to a thousandth of an LSB
        for key in ("mean_error", "stddev", "max_abs_error"):
            assert mine[key] == pytest.approx(float(row[key]), abs=1e-3 * scale), (name, key)
        assert mine["mean_squared_error"] == pytest.approx(
            float(row["mean_squared_error"]), rel=1e-3, abs=1e-6 * scale ** 2), name


def test_converted_pair_gives_the_table_and_named_layer_in_results_and_report(
        tmp_path: Path, runs_dir: Path) -> None:
    net = _net()
    q, f = _write(tmp_path, net, _quantizing(net, int8_io=True).convert())
    res = run(RunConfig(model=q, float_model=f, vectors=5, runs_dir=runs_dir, quiet=True,
                        references=["litert-ref", "numpy-int8", "numpy-float"])).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    quant = res["attribution"]["quantization"]
    assert quant["float_model"] == "float-model", quant["warnings"]
    assert quant["unmatched"]["weights_differ"] == {}
    compute = [r for r in quant["layers"] if r["name"] in ("CONV_2D", "FULLY_CONNECTED")]
    assert len(compute) == 3 and all(r["total"] and r["weights"] for r in compute)
    assert quant["verdict"]["op"] in [r["op"] for r in quant["layers"]]
    html = (Path(res["run_dir"]) / "report.html").read_text()
    assert 'id="quantization-table"' in html and quant["verdict"]["cause"] in html
