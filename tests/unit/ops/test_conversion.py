"""Type conversions bit-exact with LiteRT BUILTIN_REF: QUANTIZE float32 -> int8/int16,
int32 <-> int16, DEQUANTIZE int8/int16 -> float32, SOFTMAX int8 -> int16, the NumPy
float32 FULLY_CONNECTED; C kernels host-compiled and NumPy, 20 seeded cases each. The QEMU
chain with every conversion is in tests/integration/ops/test_conversion_qemu.py.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from harness.ops.conversion.params import requantize_params
from harness.ops.interpreter import run_graph, run_op
from harness.ops.softmax.params import softmax_params
from harness.ops.validate import load_model, load_model_bytes
from harness.quant.ranges import TYPE_RANGE
from support import synth_convert
from support.kernels_host import build_host_library, have_host_gcc
from support.litert_host import litert_ref
from support.paths import shared_model
from support.synth_builder import ModelBuilder
from support.synth_dtypes import one_op

N_CASES = 20
SEEDS = range(N_CASES)


class QuantizeParams(ctypes.Structure):
    _fields_ = [("scale", ctypes.c_float), ("zero_point", ctypes.c_int32),
                ("act_min", ctypes.c_int32), ("act_max", ctypes.c_int32)]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    return ctypes.CDLL(str(build_host_library(tmp_path_factory.mktemp("hx_convert"))))



def _buf(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


SFX = {"int8": "s8", "int16": "s16", "int32": "s32", "float32": "f32"}


def host_c(lib: ctypes.CDLL, model: bytes, x: np.ndarray) -> np.ndarray:
    """The one-op model's op through the host-compiled C kernel the lowering picks."""
    g = load_model_bytes(model)
    op = g.ops[0]
    inp, out = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    x = np.ascontiguousarray(x, inp.dtype)
    y = np.zeros(out.shape, out.dtype)
    size = ctypes.c_int32(x.size)
    if op.name == "SOFTMAX":
        mult, shift, diff_min = softmax_params(float(op.options.get("beta", 1.0)),
                                                     inp.scale)
        depth = inp.shape[-1]
        lib.hx_softmax_s8_s16((ctypes.c_int32 * 3)(mult, shift, diff_min),
                              ctypes.c_int32(x.size // depth), ctypes.c_int32(depth),
                              _buf(x), _buf(y))
        return y
    if "float32" in (inp.dtype, out.dtype):
        q = out if inp.dtype == "float32" else inp
        lo, hi = TYPE_RANGE[out.dtype] if out.dtype != "float32" else (0, 0)
        p = QuantizeParams(q.scale, q.zero_point, lo, hi)
        kind = "quantize" if op.name == "QUANTIZE" else "dequantize"
        getattr(lib, f"hx_{kind}_{SFX[inp.dtype]}_{SFX[out.dtype]}")(
            ctypes.byref(p), size, _buf(x), _buf(y))
        return y
    p = requantize_params(inp, out)
    getattr(lib, f"hx_rescale_{SFX[inp.dtype]}_{SFX[out.dtype]}")(
        (ctypes.c_int32 * len(p))(*p.values()), size, _buf(x), _buf(y))
    return y


def check(model: bytes, x: np.ndarray, lib: ctypes.CDLL | None, case: dict) -> None:
    want = litert_ref(model, x)
    g = load_model_bytes(model)
    got = {"numpy": run_op(g, g.ops[0], [x])}
    if lib is not None:
        got["C"] = host_c(lib, model, x)
    for who, arr in got.items():
        arr = np.asarray(arr).reshape(want.shape)
        assert arr.dtype == want.dtype, (who, arr.dtype, want.dtype)
        if not np.array_equal(arr.view(np.uint8), want.view(np.uint8)):
            diff = int(np.count_nonzero(arr != want))
            pytest.fail(f"{who} not bit-exact: {diff}/{arr.size} differ\ncase: {case}")


def _shape(rng: np.random.Generator) -> list[int]:
    return [int(d) for d in rng.integers(1, 9, size=int(rng.integers(1, 5)))]


def _scale(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def convert_case(seed: int, src: str, dst: str) -> tuple[bytes, np.ndarray, dict]:
    """A one-op QUANTIZE / DEQUANTIZE model from ``src`` to ``dst`` and an input."""
    rng = np.random.default_rng(1000 * len(src + dst) + seed)
    shape = _shape(rng)
    b = ModelBuilder(seed)
    zp = {"int8": int(rng.integers(-128, 128))}
    if src == "float32":
        x = synth_convert.model_input(b, shape, "float32")
        scale = _scale(rng, 1e-3, 0.5)
        data = (rng.standard_normal(shape) * scale * (150 if dst == "int8" else 40000))
        data = data.astype(np.float32)
        if seed % 4 == 0:  # exact ties (k + 1/2) * scale, rounded away from zero
            data = ((rng.integers(-100, 100, shape) + 0.5) * np.float32(scale)).astype(
                np.float32)
        y = synth_convert.convert(b, x, dst, scale, zp.get(dst, 0))
    else:
        in_scale = _scale(rng, 1e-4, 0.1) if src != "int32" else _scale(rng, 1e-8, 1e-5)
        x = synth_convert.model_input(b, shape, src, in_scale, zp.get(src, 0))
        info = np.iinfo(src)
        span = info.max if src != "int32" else int(rng.integers(1 << 16, 1 << 28))
        data = rng.integers(-span - 1, span, size=shape, endpoint=True).astype(src)
        out_scale = None if dst == "float32" else in_scale * _scale(rng, 0.3, 3000)
        y = synth_convert.convert(b, x, dst, out_scale, 0)
    case = dict(seed=seed, src=src, dst=dst, shape=shape)
    return b.build(y), data, case


PAIRS = [("float32", "int8"), ("float32", "int16"), ("int8", "float32"), ("int16", "float32"),
         ("int32", "int16"), ("int16", "int32")]


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
@pytest.mark.parametrize("seed", SEEDS)
def test_conversion_bit_exact(pair: tuple[str, str], seed: int, lib: ctypes.CDLL) -> None:
    model, x, case = convert_case(seed, *pair)
    check(model, x, lib, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_softmax_int8_to_int16(seed: int, lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(7700 + seed)
    shape = _shape(rng)
    b = ModelBuilder(seed)
    x = synth_convert.model_input(b, shape, "int8", _scale(rng, 0.01, 0.5),
                                  int(rng.integers(-128, 128)))
    model = b.build(synth_convert.softmax_s8_s16(b, x, beta=float(rng.choice([1.0, 0.5, 2.0]))))
    data = rng.integers(-128, 128, size=shape).astype(np.int8)
    check(model, data, lib, dict(seed=seed, shape=shape))


@pytest.mark.parametrize("seed", SEEDS)
def test_numpy_float_fully_connected(seed: int) -> None:
    rng = np.random.default_rng(9600 + seed)
    depth, units, batches = (int(rng.integers(1, 65)), int(rng.integers(1, 17)),
                             int(rng.integers(1, 4)))
    model = one_op("float32", "fully_connected", [batches, depth], units=units,
                   activation=seed % 4, bias=seed % 5 != 2, seed=seed)
    x = rng.normal(0.0, 2.0, size=(batches, depth)).astype(np.float32)
    g = load_model_bytes(model)
    got = run_op(g, g.ops[0], [x])
    assert np.array_equal(got.view(np.uint32), litert_ref(model, x).view(np.uint32))


def test_numpy_covers_hello_world_float() -> None:
    path = shared_model("hello_world_float.tflite")
    g = load_model(path)
    x = np.linspace(-3, 3, 7, dtype=np.float32).reshape(7, 1, 1)
    for v in x:
        (got,), _ = run_graph(g, [v])
        assert np.array_equal(got, litert_ref(path.read_bytes(), v))
