"""Requantization multipliers: the integers the kernels use in place of real scales.

Everything here turns the float scales and zero points stored in a .tflite
model into the integers the kernels in ``firmware/kernels`` consume, computed
the way LiteRT's reference kernels compute them so results are bit-exact.

Conventions follow the TFLite 8-bit spec: ``real = scale * (q - zero_point)``;
a multiplier is a Q0.31 significand plus a power-of-two ``shift`` where a
positive shift means a left shift.

What LiteRT 2.3 (BUILTIN_REF) does, pinned by ``tests/unit/quant/test_multiplier.py``:

* The effective scale ``input_scale * filter_scale / output_scale`` is
  evaluated in float64 (from the stored float32 values) for CONV_2D,
  DEPTHWISE_CONV_2D and FULLY_CONNECTED, per-tensor and per-channel alike;
  a float32 product gives different bits.
* CONV_2D and DEPTHWISE_CONV_2D requantize with TFLite's double rounding
  (:func:`multiply_by_quantized_multiplier`); FULLY_CONNECTED, per-tensor and
  per-channel, with a single rounding of the exact 64-bit product, ties away
  from zero (:func:`multiply_by_quantized_multiplier_single`).
  TFLite Micro differs: its FULLY_CONNECTED uses double rounding too.
"""


from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

Product = Literal["float32", "float64"]


def _round_half_away(x: float) -> int:
    """Round to the nearest integer, ties away from zero (C's ``round``)."""
    a = abs(x)
    r = math.floor(a)
    if a - r >= 0.5:
        r += 1
    return int(r) if x >= 0 else -int(r)


def quantize_multiplier(real: float, *, single_rounding: bool = False) -> tuple[int, int]:
    """Split a non-negative real multiplier into ``(q31_multiplier, shift)``.

    ``real ~= q31_multiplier * 2**(shift - 31)`` with ``q31_multiplier`` in
    ``[2**30, 2**31)``, or ``(0, 0)`` for zero and for values so small that the
    shift would be below -31 (flushed to zero).

    With ``single_rounding`` the shift is also capped at 30 (saturating the
    multiplier), which the single-rounding requantization needs; the default
    double-rounding requantization has no upper cap.
    """
    if real < 0:
        raise ValueError(f"negative multiplier {real!r}")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)  # real = q * 2**shift, q in [0.5, 1)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if single_rounding and shift > 30:
        return (1 << 31) - 1, 30
    return q_fixed, shift


def effective_scale(
    input_scale: float, filter_scale: float, output_scale: float, product: Product
) -> float:
    """``input_scale * filter_scale / output_scale`` as LiteRT evaluates it.

    All three arrive as float32 (the model stores float32). With ``product``
    "float32" the first product is rounded to float32 before the float64
    division; with "float64" everything is float64.
    """
    i = float(np.float32(input_scale))
    f = float(np.float32(filter_scale))
    o = float(np.float32(output_scale))
    if product == "float32":
        return float(np.float32(np.float32(i) * np.float32(f))) / o
    if product == "float64":
        return i * f / o
    raise ValueError(f"product must be 'float32' or 'float64', not {product!r}")


def requant_params(
    input_scale: float,
    filter_scales: Sequence[float] | float,
    output_scale: float,
    product: Product,
) -> tuple[list[int], list[int]]:
    """Multipliers and shifts, one per filter scale, for a given product precision."""
    scales = [float(filter_scales)] if np.ndim(filter_scales) == 0 else list(filter_scales)
    if not scales:
        raise ValueError("no filter scales")
    mults: list[int] = []
    shifts: list[int] = []
    for s in scales:
        m, sh = quantize_multiplier(effective_scale(input_scale, s, output_scale, product))
        mults.append(m)
        shifts.append(sh)
    return mults, shifts


def conv_requant(
    input_scale: float, filter_scales: Sequence[float] | float, output_scale: float
) -> tuple[list[int], list[int]]:
    """Requantization for CONV_2D and DEPTHWISE_CONV_2D (float64 product).

    Per-tensor (one filter scale) and per-channel alike; a per-tensor result
    has a single entry, which the kernels use for every channel.
    """
    return requant_params(input_scale, filter_scales, output_scale, "float64")


def fc_requant(
    input_scale: float, filter_scales: Sequence[float] | float, output_scale: float
) -> tuple[list[int], list[int]]:
    """Requantization for FULLY_CONNECTED (float64 product, like convolutions).

    LiteRT applies these multipliers with a single rounding
    (see :data:`FC_SINGLE_ROUNDING`).
    """
    return requant_params(input_scale, filter_scales, output_scale, "float64")


#: LiteRT's reference FULLY_CONNECTED requantizes with a single rounding
#: (per-tensor and per-channel); its convolutions use double rounding.
FC_SINGLE_ROUNDING = True


def _rounding_divide_by_pot(x: int, exponent: int) -> int:
    """``x / 2**exponent`` rounded to nearest, ties away from zero."""
    if exponent <= 0:
        return x
    mag = (abs(x) + (1 << (exponent - 1))) >> exponent
    return -mag if x < 0 else mag


def _saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    """High 32 bits of ``2*a*b`` rounded to nearest (int32 operands)."""
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    prod = a * b
    nudge = (1 << 30) if prod >= 0 else 1 - (1 << 30)
    num = prod + nudge
    q = abs(num) >> 31  # C division truncates toward zero
    return q if num >= 0 else -q


def _wrap32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite's double-rounding requantization of an int32 ``x`` (reference model)."""
    left = max(shift, 0)
    right = max(-shift, 0)
    hi = _saturating_rounding_doubling_high_mul(_wrap32(x << left), multiplier)
    return _rounding_divide_by_pot(hi, right)


def multiply_by_quantized_multiplier_single(x: int, multiplier: int, shift: int) -> int:
    """Single-rounding requantization: ``x * multiplier / 2**(31 - shift)``, ties away."""
    return _rounding_divide_by_pot(x * multiplier, 31 - shift)


def quantize_value(f: float, scale: float, zero_point: int) -> int:
    """``zero_point + round(f / scale)`` with a float32 division, ties away from zero."""
    q = np.float32(f) / np.float32(scale)
    return int(zero_point) + _round_half_away(float(q))

