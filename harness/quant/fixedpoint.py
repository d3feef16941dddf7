"""Vectorised fixed-point arithmetic of the integer kernels (int8 and 16x8).

Every function takes and returns ``int64`` arrays that hold int32 values
(int64 leaves room for exact 32x32-bit products); results are wrapped or
saturated to int32 exactly where the C kernels in ``firmware/kernels`` (and
LiteRT's reference kernels) wrap or saturate. Written from the TFLite 8-bit
quantization spec; see ``firmware/kernels/hx_fixedpoint.h`` for the scalar C.

Requantization of an accumulator ``acc`` by ``scale ~= multiplier * 2**(shift - 31)``
(positive shift = left), three ways:

* :func:`requant_double` - TFLite's default: wrap(acc << left), rounding
  doubling high multiply, rounding right shift (two roundings, ties away).
* :func:`requant_single` - one exact 64-bit product, one rounding shift by
  ``31 - shift`` (clamped to at least 1, as ``hx_mul_by_quantized_multiplier_single``),
  ties away from zero.
* :func:`requant_float` - XNNPACK-style fp32: ``float32(acc) * float32 scale``,
  rounded half to even (``lrintf``).

The 16x8 kernels requantize 64-bit accumulators: :func:`requant_int64` (CONV_2D,
DEPTHWISE_CONV_2D: the Q0.31 multiplier first rounded to 16 bits, then
``(acc * m16 + 2**(t - 1)) >> t`` with ``t = 15 - shift``, ties toward +inf) and
:func:`requant_single_wide` (FULLY_CONNECTED: one rounding of the exact product,
ties away from zero).
"""

from __future__ import annotations

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
_U32 = (1 << 32) - 1

IntArray = np.ndarray


def i64(x: object) -> IntArray:
    """``x`` as an int64 array."""
    return np.asarray(x, dtype=np.int64)


def wrap32(x: IntArray) -> IntArray:
    """Two's-complement wrap into int32 (what a uint32 add/shift in C gives)."""
    return ((i64(x) + (1 << 31)) & _U32) - (1 << 31)


def _sign_mask(x: IntArray) -> IntArray:
    """-1 where ``x`` is negative, else 0 (an arithmetic shift of the int64 sign bit)."""
    return x >> 63


def srdhm(a: IntArray, b: IntArray) -> IntArray:
    """SaturatingRoundingDoublingHighMul: ``round(a * b / 2**31)`` for int32 a, b.

    The 64-bit product gets a nudge of +2**30 (or 1 - 2**30 when negative) and is
    divided by 2**31 truncating toward zero; ``INT32_MIN * INT32_MIN`` saturates
    to ``INT32_MAX``.
    """
    a, b = i64(a), i64(b)
    prod = a * b
    num = prod + (1 << 30) + (_sign_mask(prod) & (1 - (1 << 31)))
    out = (num + (_sign_mask(num) & ((1 << 31) - 1))) >> 31  # truncating division
    if (a == INT32_MIN).any() and (b == INT32_MIN).any():
        out = np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, out)
    return out


def div_pot(x: IntArray, exponent: IntArray | int) -> IntArray:
    """RoundingDivideByPOT: ``x / 2**exponent`` rounded to nearest, ties away from zero.

    ``exponent`` may be an array (per channel); exponents <= 0 leave ``x`` as is.
    Exact for int64 ``x`` of up to 62 bits and exponents up to 62.
    """
    x, e = i64(x), i64(exponent)
    if e.ndim == 0 and int(e) <= 0:
        return x
    safe = np.maximum(e, 1)
    # floor((x + half) / 2**e), one less before the shift for negative x: ties go away
    out = (x + (i64(1) << (safe - 1)) + _sign_mask(x)) >> safe
    return np.where(e <= 0, x, out) if (e <= 0).any() else out


def sat_mul_pot(x: IntArray, exponent: int) -> IntArray:
    """``x * 2**exponent`` saturated to int32 (exponent > 0), or a rounding divide (< 0)."""
    x = i64(x)
    if exponent > 0:
        thr = (1 << (31 - exponent)) - 1
        return np.where(x > thr, INT32_MAX, np.where(x < -thr, INT32_MIN,
                                                     wrap32(x << exponent)))
    if exponent < 0:
        return div_pot(x, -exponent)
    return x


def rounding_half_sum(a: IntArray, b: IntArray) -> IntArray:
    """``(a + b) / 2`` rounded to nearest, ties away from zero, without overflow."""
    s = i64(a) + i64(b)
    return np.where(s >= 0, (s + 1) >> 1, -((1 - s) >> 1))


def clz32(x: IntArray) -> IntArray:
    """Leading zero bits of ``x`` as a uint32 (32 for zero)."""
    u = i64(x) & _U32
    _, exp = np.frexp(u.astype(np.float64))  # exact: u < 2**53; exp = bit length
    return 32 - exp.astype(np.int64)


# ---- requantization ----------------------------------------------------------


def requant_double(acc: IntArray, multiplier: IntArray, shift: IntArray) -> IntArray:
    """TFLite's double-rounding MultiplyByQuantizedMultiplier (``multiplier``/``shift``
    broadcast against ``acc``, e.g. per channel along the last axis)."""
    shift = i64(shift)
    acc = i64(acc)
    if (shift > 0).any():
        acc = wrap32(acc << np.maximum(shift, 0))
    return div_pot(srdhm(acc, multiplier), np.maximum(-shift, 0))


def requant_single(acc: IntArray, multiplier: IntArray, shift: IntArray) -> IntArray:
    """Single rounding: the exact product ``acc * multiplier`` divided by
    ``2**(31 - shift)``, ties away from zero. The total shift is clamped to at
    least 1, and a total shift above 62 gives 0, as in the C kernels."""
    total = np.maximum(31 - i64(shift), 1)
    out = div_pot(i64(acc) * i64(multiplier), np.minimum(total, 62))
    return wrap32(np.where(total > 62, 0, out))


def requant_float(acc: IntArray, scale: np.ndarray) -> IntArray:
    """fp32 requantization: ``lrintf(float32(acc) * float32(scale))`` (ties to even).

    Values beyond int32 saturate (the caller clamps to the int8 range anyway).
    """
    prod = np.asarray(acc).astype(np.float32) * np.asarray(scale, np.float32)
    return np.rint(np.clip(prod, -2.0**31, 2.0**31 - 128)).astype(np.int64)


def requant_int64(acc: np.ndarray, multiplier: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``acc * multiplier * 2**(shift - 31)`` with a 16-bit multiplier, as int64."""
    acc = np.asarray(acc, np.int64)
    m = np.asarray(multiplier, np.int64)
    reduced = np.where(m < 0x7FFF0000, (m + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - np.asarray(shift, np.int64)
    return (acc * reduced + (np.int64(1) << (total - 1))) >> total


def requant_single_wide(acc: np.ndarray, multiplier: np.ndarray,
                        shift: np.ndarray) -> np.ndarray:
    """``acc * multiplier * 2**(shift - 31)`` rounded once, ties away from zero, exact
    for any int64 ``acc`` (Python integers where the product would overflow int64)."""
    acc = np.asarray(acc, np.int64)
    m = np.broadcast_to(np.asarray(multiplier, np.int64), acc.shape)
    total = np.maximum(31 - np.broadcast_to(np.asarray(shift, np.int64), acc.shape), 1)
    mag = np.abs(acc)
    if acc.size and int(mag.max()) * int(m.max(initial=0)) >= 1 << 62:
        mag, m, total = mag.astype(object), m.astype(object), total.astype(object)
    q = (mag * m + (1 << (total - 1))) >> total
    return np.where(acc < 0, -q, q).astype(np.int64)
