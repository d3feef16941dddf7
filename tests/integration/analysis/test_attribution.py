"""Per-layer localisation and drift attribution, end to end on the real QEMU and references."""

from __future__ import annotations

from pathlib import Path

from harness.config import RunConfig
from harness.run.pipeline import run
from support import synth
from support.paths import EXAMPLE, shared_model


def _part(res: dict, name: str) -> dict:
    return next(p for p in res["attribution"]["parts"] if p["part"] == name)


def _pair(res: dict, a: str, b: str) -> dict:
    return next(p for p in res["per_layer"]["pairs"] if (p["a"], p["b"]) == (a, b))


def test_default_firmware_has_zero_drift_at_every_layer(tmp_path: Path) -> None:
    res = run(RunConfig(model=EXAMPLE, vectors=2, per_layer=True, runs_dir=tmp_path,
                        references=["litert-ref", "numpy-int8"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    layers = _pair(res, "device", "litert-ref")["layers"]
    assert len(layers) == len(res["model"]["ops"])
    assert all(row["max_abs_lsb"] == 0 for row in layers)
    assert _part(res, "platform")["cause"] is None


def test_single_rounding_firmware_names_op_and_cause(tmp_path: Path) -> None:
    res = run(RunConfig(model=EXAMPLE, vectors=2, per_layer=True, rounding="single",
                        runs_dir=tmp_path, references=["litert-ref", "numpy-int8"],
                        quiet=True)).to_dict()
    assert res["verdict"]["status"] == "DRIFT" and res["verdict"]["exit_code"] == 1
    first = _pair(res, "device", "litert-ref")["first_divergence"]
    assert first["name"] == "CONV_2D" and first["max_abs_lsb"] >= 1
    platform = _part(res, "platform")
    assert platform["first_divergence"]["op"] == first["op"]
    assert platform["cause"]["id"] == "double vs single rounding", platform["cause"]
    rates = platform["cause"]["variant_rates"]
    assert rates["single"] == 1.0 > rates["reference"]
    html = (Path(res["run_dir"]) / "report.html").read_text()
    assert "double vs single rounding" in html


def test_xnnpack_difference_is_localised_and_explained(tmp_path: Path) -> None:
    model = tmp_path / "conv.tflite"
    model.write_bytes(synth.conv2d((1, 12, 12, 8), 16, (3, 3), padding="SAME", seed=1,
                                   weight_scale=[0.003 + 0.001 * k for k in range(16)],
                                   output_scale=0.02))
    res = run(RunConfig(model=model, vectors=3, seed=1, per_layer=True, runs_dir=tmp_path,
                        references=["litert-ref", "litert", "numpy-int8"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    kernel = _part(res, "kernel implementation")
    assert (kernel["from"], kernel["to"]) == ("litert-ref", "litert")
    assert kernel["max_abs_lsb"] >= 1, "this model was chosen because XNNPACK differs on it"
    assert kernel["first_divergence"]["name"] == "CONV_2D"
    assert kernel["cause"]["id"] == "float requantization", kernel["cause"]
    assert kernel["cause"]["variant_rates"]["float"] == 1.0


def test_float_model_separates_quantization_from_platform(tmp_path: Path) -> None:
    res = run(RunConfig(model=shared_model("hello_world_int8.tflite"),
                        float_model=shared_model("hello_world_float.tflite"), vectors=10,
                        runs_dir=tmp_path, references=["litert-ref", "numpy-float"],
                        quiet=True)).to_dict()
    assert res["references"]["float-model"]["status"] == "ok"
    quant = _part(res, "quantization")
    assert quant["from"] == "float-model" and quant["max_abs_lsb"] > 0
    platform = _part(res, "platform")
    assert (platform["from"], platform["to"], platform["max_abs_lsb"]) == ("litert-ref",
                                                                          "device", 0)
    assert res["verdict"]["status"] == "PASS"


def test_person_detect_runs_without_litert(tmp_path: Path) -> None:
    res = run(RunConfig(model=shared_model("person_detect.tflite"), vectors=1, per_layer=True,
                        runs_dir=tmp_path, quiet=True,
                        references=["litert-ref", "tflm-host", "numpy-int8",
                        "numpy-float"])).to_dict()
    ref = res["references"]["litert-ref"]
    assert ref["status"] == "unavailable" and "quantized_dimension" in ref["reason"]
    compared = {c["b"] for c in res["comparisons"] if c["a"] == "device"}
    assert compared == {"tflm-host", "numpy-int8", "numpy-float"}
    assert res["enforced_reference"] == "numpy-int8"
    assert res["verdict"]["status"] == "PASS" and "stands in" in res["verdict"]["reason"]
    for b in ("tflm-host", "numpy-int8"):
        assert _pair(res, "device", b)["first_divergence"] is None
