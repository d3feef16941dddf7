"""int16 and float32 models through the whole harness: supported-op checks, generated
code, vectors, references, ULP comparison, the coverage table, and QEMU end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from conftest import ROOT, shared_model
from harness.analysis.compare import FLOAT_TOLERANCE_ULP, compare_output, float_ulp_keys
from harness.config import RunConfig
from harness.errors import UnsupportedType
from harness.model.graph import Graph
from harness.ops.interpreter import run_op
from harness.ops.registry import OPS, coverage_table
from harness.ops.validate import load_model
from harness.quant.fixedpoint import requant_single_wide
from harness.quant.multiplier import fc_requant
from harness.quant.ranges import ACT_RELU
from harness.references.base import ReferenceUnavailable
from harness.references.litert import LiteRTRef
from harness.references.numpy_int8 import NumpyInt8
from harness.run.pipeline import run
from harness.run.vectors import random_vectors
from harness.runtimes.builtin.arena import plan_arena
from harness.runtimes.builtin.firmware import generate_builtin
from harness.runtimes.builtin.lower import check_supported, lower_graph
from harness.targets.table import get_target
from support.synth_dtypes import DtypeModelBuilder, chain, one_op


def write(tmp_path: Path, model: bytes, name: str = "m.tflite") -> Path:
    path = tmp_path / name
    path.write_bytes(model)
    return path


def graph(tmp_path: Path, model: bytes) -> Graph:
    return load_model(write(tmp_path, model))


INT16_CHAIN = [
    ("conv2d", {"out_channels": 4, "kernel": 3, "weight_scale": [0.01, 0.02, 0.015, 0.03],
                "output_scale": 0.02, "activation": ACT_RELU, "bias_range": 100000}),
    ("depthwise_conv2d", {"kernel": 3, "depth_multiplier": 2, "stride": 2,
                          "output_scale": 0.01, "bias_range": 100000}),
    ("reshape", {"new_shape": [1, 72]}),
    ("fully_connected", {"units": 6, "output_scale": 0.01, "bias_range": 100000}),
    ("softmax", {"beta": 1.0}),
]


# ---- refused before the build, with the op and the dtype named ------------------


def test_int16_pool_is_refused_naming_op_and_dtype(tmp_path: Path) -> None:
    b = DtypeModelBuilder("int16")
    x = b.input([1, 4, 4, 2], 0.01)
    g = graph(tmp_path, b.build(b.max_pool2d(x, kernel=2, stride=2)))
    with pytest.raises(UnsupportedType, match=r"op 0 \(MAX_POOL_2D\) with int16") as err:
        check_supported(g)
    assert err.value.code == 13 and "\n" not in err.value.one_line()


def test_float_conv_is_refused(tmp_path: Path) -> None:
    g = graph(tmp_path, one_op("float32", "conv2d", [1, 4, 4, 2], out_channels=2, kernel=3))
    with pytest.raises(UnsupportedType, match=r"op 0 \(CONV_2D\) with float32"):
        check_supported(g)


def test_16x8_with_a_zero_point_is_refused(tmp_path: Path) -> None:
    b = DtypeModelBuilder("int16")
    x = b.input([1, 8], 0.01)
    y = b.fully_connected(x, units=3)
    b.tensors[y].quantization.zeroPoint = [5]
    with pytest.raises(UnsupportedType, match=r"op 0 \(FULLY_CONNECTED\).*zero point 5"):
        lower_graph(graph(tmp_path, b.build(y)))


def test_core_dtypes_declared_for_every_core_lowering() -> None:
    for name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"):
        assert {"int8", "int16"} <= OPS[name].emit_dtypes
        assert {"int8", "int16"} <= OPS[name].numpy_int8_dtypes
    assert "float32" in OPS["FULLY_CONNECTED"].emit_dtypes
    assert all(spec.emit is not None for spec in OPS.values()
               if spec.emit_dtypes != frozenset({"int8"}))


# ---- generated code -------------------------------------------------------------


def test_generated_code_types_pointers_and_floats(tmp_path: Path) -> None:
    g16 = graph(tmp_path, chain("int16", [1, 6, 6, 2], INT16_CHAIN))
    code = generate_builtin(g16, get_target("stm32f4")).files["model.c"].decode()
    assert "((int16_t *)(void *)(hx_arena" in code and "((int8_t *)" not in code
    for fn in ("hx_conv2d_s16(", "hx_depthwise_conv2d_s16(", "hx_fully_connected_s16(",
               "hx_softmax_s16("):
        assert fn in code
    assert "static const alignas(16) int64_t op0_bias" in code
    gf = graph(tmp_path, one_op("float32", "fully_connected", [2, 5], units=3, activation=1))
    code = generate_builtin(gf, get_target("stm32f4")).files["model.c"].decode()
    assert "((float *)(void *)(hx_arena" in code and "hx_fully_connected_f32(" in code
    w = gf.tensors[gf.ops[0].inputs[1]].data.astype(np.float32).ravel()
    assert f"{float(w[0]).hex()}f" in code  # exact hex float literals


# ---- vectors ----------------------------------------------------------------------


def test_random_vectors_cover_int16_and_float32(tmp_path: Path) -> None:
    g16 = graph(tmp_path, one_op("int16", "softmax", [4, 64]))
    (v,) = random_vectors(g16, 50, seed=1)
    assert v.dtype == np.int16 and v.shape == (50, 4, 64)
    assert v.min() < -30000 and v.max() > 30000
    gf = graph(tmp_path, one_op("float32", "fully_connected", [1, 8], units=2))
    (f,) = random_vectors(gf, 10, seed=1)
    assert f.dtype == np.float32 and f.shape == (10, 1, 8) and np.abs(f).max() <= 1.0
    assert len(f[0].tobytes()) == 32  # what crosses the wire: raw little-endian float32


# ---- references -------------------------------------------------------------------


def test_references_accept_int16_and_report_float_unavailable(tmp_path: Path) -> None:
    path16 = write(tmp_path, chain("int16", [1, 6, 6, 2], INT16_CHAIN), "c16.tflite")
    x = random_vectors(load_model(path16), 3, seed=2)[0]
    lite, npy = LiteRTRef(), NumpyInt8()
    lite.load(path16)
    npy.load(path16)
    for k in range(3):
        assert np.array_equal(npy.run([x[k]])[0], lite.run([x[k]])[0])
    pathf = write(tmp_path, one_op("float32", "conv2d", [1, 4, 4, 2], out_channels=2, kernel=3),
                  "f.tflite")
    LiteRTRef().load(pathf)
    with pytest.raises(ReferenceUnavailable, match="CONV_2D with float32"):
        NumpyInt8().load(pathf)


# ---- 16x8 FULLY_CONNECTED rounding: once, ties away, wide products ------------------


def _litert(model: bytes, x: np.ndarray) -> np.ndarray:
    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def test_fc_16x8_rounds_ties_away_and_convs_ties_up(tmp_path: Path) -> None:
    """Effective scale 1/2, zero input: each output is bias / 2 and odd biases are ties."""
    biases = [-5, -3, -1, 1, 3, 5]
    common = {"input_scale": 0.25, "weight_scale": 0.5, "output_scale": 0.25,
              "bias_values": biases}
    fc = one_op("int16", "fully_connected", [1, 4], units=6, **common)
    conv = one_op("int16", "conv2d", [1, 1, 1, 4], out_channels=6, kernel=1, **common)
    fc_out = _litert(fc, np.zeros((1, 4), np.int16)).ravel()
    conv_out = _litert(conv, np.zeros((1, 1, 1, 4), np.int16)).ravel()
    assert fc_out.tolist() == [-3, -2, -1, 1, 2, 3]
    assert conv_out.tolist() == [-2, -1, 0, 1, 2, 3]
    for model, want in ((fc, fc_out), (conv, conv_out)):
        g = graph(tmp_path, model)
        x = np.zeros(g.tensors[g.inputs[0]].shape, np.int16)
        assert run_op(g, g.ops[0], [x]).ravel().tolist() == want.tolist()


def test_fc_16x8_accumulators_beyond_int32(tmp_path: Path) -> None:
    b = DtypeModelBuilder("int16")
    x = b.input([1, 1024], 1e-4)
    y = b.fully_connected(x, units=2, weight_scale=0.01, output_scale=0.5, bias_values=[0, 0])
    w_index = b.operators[-1].inputs[1]
    b.buffers[b.tensors[w_index].buffer].data = np.full(2048, 127, np.int8).view(np.uint8)
    model = b.build(y)
    xs = np.full((1, 1024), 32767, np.int16)
    want = _litert(model, xs)
    g = graph(tmp_path, model)
    assert 32767 * 127 * 1024 > 2**31
    assert np.array_equal(run_op(g, g.ops[0], [xs]), want)
    m, s = fc_requant(g.tensors[g.inputs[0]].scale, [0.01], 0.5)
    assert int(requant_single_wide(np.array([32767 * 127 * 1024]), m[0], s[0])[0]) == want[0, 0]


# ---- float comparison in ULPs -----------------------------------------------------


def test_ulp_keys_count_representable_floats() -> None:
    one = np.float32(1.0)
    nxt = np.nextafter(one, np.float32(2.0))
    keys = float_ulp_keys(np.array([one, nxt, -0.0, 0.0, -np.float32(1e-45)], np.float32))
    assert keys[1] - keys[0] == 1 and keys[2] == keys[3] == 0 and keys[4] == -1


def test_float_outputs_compared_in_ulps(tmp_path: Path) -> None:
    g = graph(tmp_path, one_op("float32", "fully_connected", [1, 4], units=3))
    t = g.output_tensors()[0]
    ref = np.array([[[1.0, -2.0, 0.5]]], np.float32)
    dev = ref.copy()
    dev[0, 0, 1] = np.nextafter(np.nextafter(np.float32(-2.0), np.float32(0)), np.float32(0))
    c = compare_output("device", "litert-ref", t, dev, ref, FLOAT_TOLERANCE_ULP)
    assert c.unit == "ULP" and c.max_abs_lsb == 2 and c.passed and c.mismatches == 1
    assert c.first_mismatch["b"] == -2.0 and "ULP" in str(c)
    assert not compare_output("device", "litert-ref", t, dev, ref, 1).passed


# ---- the coverage table -------------------------------------------------------------


def test_readme_coverage_table_is_the_task_output() -> None:
    text = (ROOT / "README.md").read_text()
    start, end = "<!-- coverage:start -->\n", "<!-- coverage:end -->"
    assert start in text and end in text, "README lacks the Op coverage markers"
    table = text[text.index(start) + len(start):text.index(end)]
    assert table == coverage_table(), "README's Op coverage is stale: paste `invoke coverage`"
    proc = subprocess.run([str(Path(sys.executable).parent / "invoke"), "coverage"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == coverage_table()


# ---- end to end in QEMU -------------------------------------------------------------


def _device_rows(res: dict) -> list[dict]:
    return [c for c in res["comparisons"] if c["a"] == "device" and c["b"] == "litert-ref"]


def test_int16_chain_bit_exact_in_qemu(tmp_path: Path) -> None:
    """CONV_2D, DEPTHWISE_CONV_2D, RESHAPE, FULLY_CONNECTED and SOFTMAX, all 16x8."""
    model = write(tmp_path, chain("int16", [1, 6, 6, 2], INT16_CHAIN, input_scale=0.002))
    assert plan_arena(load_model(model)).size > 0
    res = run(RunConfig(model=model, vectors=3, seed=4, runs_dir=tmp_path / "runs",
                        references=["litert-ref", "numpy-int8"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (row,) = _device_rows(res)
    assert row["exact_rate"] == 1.0 and row["unit"] == "LSB"
    dev = np.load(Path(res["run_dir"]) / "outputs_device.npz")["arr_0"]
    assert dev.dtype == np.int16 and np.all(np.abs(dev.astype(int).sum(-1) - 32768) < 64)


def test_hello_world_float_in_qemu_within_ulps(tmp_path: Path) -> None:
    model = shared_model("hello_world_float.tflite")
    res = run(RunConfig(model=model, vectors=5, runs_dir=tmp_path / "runs",
                        references=["litert-ref", "numpy-int8"], quiet=True)).to_dict()
    assert res["verdict"]["status"] == "PASS", res["verdict"]
    (row,) = _device_rows(res)
    assert row["unit"] == "ULP" and row["tolerance_lsb"] == FLOAT_TOLERANCE_ULP
    assert row["max_abs_lsb"] <= FLOAT_TOLERANCE_ULP
    numpy_vs_ref = [c for c in res["comparisons"] if {c["a"], c["b"]} == {"numpy-int8",
                                                                          "litert-ref"}]
    assert res["references"]["numpy-int8"]["status"] == "ok"
    assert numpy_vs_ref and numpy_vs_ref[0]["max_abs_lsb"] == 0  # float FC: same bits
    dev = np.load(Path(res["run_dir"]) / "outputs_device.npz")["arr_0"]
    assert dev.dtype == np.float32 and np.isfinite(dev).all() and len(np.unique(dev)) > 1
