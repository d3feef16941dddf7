"""SOFTMAX's data-independent parameters, shared by the C emitter and the NumPy kernels:
the int8 softmax's input multiplier and diff_min, the int16 softmax's multiplier and tables."""

from __future__ import annotations

import math

import numpy as np

from harness.quant.lut import make_lut
from harness.quant.multiplier import quantize_multiplier

#: Integer bits of the rescaled softmax input difference (Q5.26).
SOFTMAX_DIFF_INTEGER_BITS = 5


def softmax_params(beta: float, input_scale: float) -> tuple[int, int, int]:
    """``(input_multiplier, input_left_shift, diff_min)`` for the int8 softmax.

    ``beta * input_scale`` (float64 of the stored float32 values) is scaled to
    a Q5.26 real multiplier, capped at ``2**31 - 1``; ``diff_min`` is the most
    negative input difference whose rescaled value still fits Q5.26.
    """
    bits = SOFTMAX_DIFF_INTEGER_BITS
    real = float(np.float32(beta)) * float(np.float32(input_scale)) * (1 << (31 - bits))
    real = min(real, float((1 << 31) - 1))
    if real <= 1.0:
        raise ValueError(f"softmax beta*scale too small: {beta}*{input_scale}")
    mult, shift = quantize_multiplier(real)
    if shift < 0:
        raise ValueError("softmax multiplier has a negative shift")
    radius = ((1 << bits) - 1) * (1 << (31 - bits)) / (1 << shift)
    return mult, shift, -math.floor(radius)


def softmax_luts() -> tuple[np.ndarray, np.ndarray]:
    """The ``exp`` table (inputs [-10, 0]) and the ``1 / (1 + x)`` table (inputs [0, 1]).

    LiteRT 2.3 makes them in float64 (a float32 construction differs in two
    entries of the reciprocal table)."""
    return make_lut(np.exp, -10.0, 0.0), make_lut(lambda v: 1.0 / (1.0 + v), 0.0, 1.0)


def softmax_int16_params(beta: float, input_scale: float) -> tuple[int, int]:
    """``(input_multiplier, input_shift)``: maps input differences so that
    [-65535, 0] covers exp's [-10, 0]."""
    real = float(np.float32(input_scale)) * float(np.float32(beta)) / (10.0 / 65535.0)
    return quantize_multiplier(real)
