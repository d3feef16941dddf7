"""int16 (16x8) elementwise ops, host-compiled C and NumPy, bit-exact with LiteRT
BUILTIN_REF. Shares the runners of test_elementwise.py (support/elementwise_host.py).
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from harness.errors import UnsupportedOp, UnsupportedType
from harness.ops.c_emit import LoweredOp
from harness.ops.registry import OPS
from harness.ops.validate import load_model, load_model_bytes
from harness.quant.ranges import ACT_NONE, ACT_RELU
from support import synth_elementwise as se
from support.elementwise_host import SEEDS, check, log_uniform, quantize_case
from support.paths import shared_model
from support.synth_builder import ModelBuilder


def rand_int16(rng: np.random.Generator, shape: list[int]) -> np.ndarray:
    return rng.integers(-32768, 32768, size=shape, dtype=np.int16)


def binary16_case(op: str, seed: int) -> tuple[bytes, list[np.ndarray], dict]:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    out = [int(d) for d in rng.integers(1, 5, size=rank - 1)] + [int(rng.integers(8, 65))]
    s1 = [d if rng.random() < 0.7 else 1 for d in out]
    s2 = [d if rng.random() < 0.7 else 1 for d in out]
    sc1, sc2 = log_uniform(rng, 1e-5, 1e-3), log_uniform(rng, 1e-5, 1e-3)
    out_scale = (sc1 + sc2) * log_uniform(rng, 0.5, 2.0)
    act = (ACT_NONE, ACT_RELU)[seed % 2]
    b = ModelBuilder(seed)
    x1 = se.add_input(b, s1, "int16", sc1, 0, "x1")
    x2 = se.add_input(b, s2, "int16", sc2, 0, "x2")
    model = b.build(se.add_binary(b, op, x1, x2, scale=out_scale, activation=act))
    return model, [rand_int16(rng, s1), rand_int16(rng, s2)], dict(
        op=op, seed=seed, shapes=(s1, s2), scales=(sc1, sc2, out_scale), act=act)


@pytest.mark.parametrize("op", ["ADD", "SUB"])
@pytest.mark.parametrize("seed", SEEDS)
def test_binary_int16(op: str, seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = binary16_case(op, seed)
    check(model, inputs, lib, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_leaky_relu_int16(seed: int, lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(seed)
    shape = [1, int(rng.integers(1, 4)), int(rng.integers(8, 40))]
    in_scale = log_uniform(rng, 1e-4, 1e-2)
    out_scale = in_scale * log_uniform(rng, 0.5, 2.0)
    alpha = float((rng.uniform(0.01, 0.99), rng.uniform(1.0, 2.0), rng.uniform(-1.5, -0.01))
                  [seed % 3])
    b = ModelBuilder(seed)
    x = se.add_input(b, shape, "int16", in_scale, 0)
    model = b.build(se.add_unary(b, "LEAKY_RELU", x, scale=out_scale, alpha=alpha))
    check(model, [rand_int16(rng, shape)], lib,
          dict(seed=seed, shape=shape, scales=(in_scale, out_scale), alpha=alpha))


@pytest.mark.parametrize("op", ["RELU", "RELU6"])
@pytest.mark.parametrize("seed", SEEDS)
def test_relu_int16(op: str, seed: int, lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(seed)
    shape = [int(rng.integers(1, 4)), int(rng.integers(8, 40))]
    in_scale = log_uniform(rng, 5e-5, 5e-4) if op == "RELU6" else log_uniform(rng, 1e-5, 1e-2)
    out_scale = in_scale * log_uniform(rng, 0.5, 2.0)
    b = ModelBuilder(seed)
    x = se.add_input(b, shape, "int16", in_scale, 0)
    model = b.build(se.add_unary(b, op, x, scale=out_scale))
    check(model, [rand_int16(rng, shape)], lib,
          dict(op=op, seed=seed, scales=(in_scale, out_scale)))


@pytest.mark.parametrize("seed", SEEDS)
def test_quantize_int16_to_int8(seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = quantize_case(seed, "int16", "int8")
    check(model, inputs, lib, case)


@pytest.mark.parametrize("seed", SEEDS)
def test_quantize_int16_to_int16(seed: int, lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(seed)
    shape = [int(rng.integers(1, 5)), int(rng.integers(8, 40))]
    in_scale = log_uniform(rng, 1e-4, 1e-2)
    b = ModelBuilder(seed)
    x = se.add_input(b, shape, "int16", in_scale, 0)
    out_scale = in_scale * log_uniform(rng, 0.3, 3.0)
    model = b.build(se.add_unary(b, "QUANTIZE", x, scale=out_scale, zero_point=0))
    check(model, [rand_int16(rng, shape)], lib, dict(seed=seed, scales=(in_scale, out_scale)))


@pytest.mark.parametrize("seed", SEEDS)
def test_quantize_int8_to_int16(seed: int, lib: ctypes.CDLL) -> None:
    model, inputs, case = quantize_case(seed, "int8", "int16")
    check(model, inputs, lib, case)


@pytest.mark.parametrize("name", ["seanet_add0.tflite", "seanet_leaky_relu0.tflite"])
def test_seanet_int16_models(name: str, lib: ctypes.CDLL) -> None:
    """The real 16x8 single-op models, on random full-range int16 inputs."""
    g = load_model(shared_model(name))
    rng = np.random.default_rng(7)
    for _ in range(3):
        inputs = [rand_int16(rng, list(t.shape)) for t in g.input_tensors()]
        check(g.path.read_bytes(), inputs, lib, dict(model=name))


def test_seanet_quantize_int32_to_int16_numpy() -> None:
    g = load_model(shared_model("seanet_quantize0.tflite"))
    rng = np.random.default_rng(3)
    x = rng.integers(-(1 << 24), 1 << 24, size=g.input_tensors()[0].shape).astype(np.int32)
    check(g.path.read_bytes(), [x], None, dict(model=g.name))


def test_int16_add_on_the_power_of_two_path_is_refused() -> None:
    """LiteRT has a separate int16 ADD for power-of-two scales; it is not implemented,
    so the lowering refuses it instead of giving other bits."""
    b = ModelBuilder(0)
    x1 = se.add_input(b, [4], "int16", 2.0 ** -12, 0, "x1")
    x2 = se.add_input(b, [4], "int16", 2.0 ** -13, 0, "x2")
    g = load_model_bytes(b.build(se.add_binary(b, "ADD", x1, x2, scale=2.0 ** -11,
                                                pot_scale_int16=True)))
    with pytest.raises(UnsupportedOp, match="pot_scale_int16"):
        OPS["ADD"].emit(g, g.ops[0], LoweredOp(0, "ADD", []))


def test_mixed_dtypes_are_refused_with_the_op_named() -> None:
    b = ModelBuilder(0)
    x = se.add_input(b, [4], "int16", 1e-3, 0)
    g = load_model_bytes(b.build(se.add_unary(b, "HARD_SWISH", x, scale=1e-3)))
    with pytest.raises(UnsupportedType, match=r"op 0 \(HARD_SWISH\).*int16"):
        OPS["HARD_SWISH"].emit(g, g.ops[0], LoweredOp(0, "HARD_SWISH", []))
