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

The int16 section at the end is gemmlowp's ``FixedPoint<int16_t>``: the same
wrap, saturate and rounding-multiply primitives on int16 raw values, and the
exp, logistic (:func:`sigmoid16`) and :func:`tanh16` built from them.
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


# ---- int16 (gemmlowp's FixedPoint<int16_t>) -----------------------------------
#
# The same operations on int16 raw values (held in int64 arrays), and gemmlowp's
# exp, logistic and tanh built from them: the functions LiteRT's integer LSTM uses
# for its gates (firmware/kernels/hx_lstm.c has the scalar C, where srdhm16 is
# mul16 and sat_mul_pot16 is shl_sat16).


def wrap16(x: IntArray) -> IntArray:
    """Two's-complement wrap into int16."""
    return ((i64(x) + 32768) & 0xFFFF) - 32768


def sat16(x: IntArray) -> IntArray:
    """``x`` saturated to int16."""
    return np.clip(i64(x), -32768, 32767)


def srdhm16(a: IntArray, b: IntArray | int) -> IntArray:
    """Rounding doubling high multiply of int16 values, ``round(a * b / 2**15)`` with
    ties away from zero; ``-1 * -1`` saturates."""
    a, b = i64(a), i64(b)
    ab = a * b
    out = np.where(ab >= 0, ab + (1 << 14), ab + 1 - (1 << 14))
    out = np.sign(out) * (np.abs(out) >> 15)  # division truncating toward zero
    return np.where((a == -32768) & (b == -32768), 32767, out)


def sat_mul_pot16(x: IntArray, exponent: int) -> IntArray:
    """``x * 2**exponent`` saturated to int16 (exponent >= 0)."""
    if exponent == 0:
        return i64(x)
    thr = (1 << (15 - exponent)) - 1
    return np.where(x > thr, 32767, np.where(x < -thr, -32768, wrap16(i64(x) << exponent)))


def _c16(q31: int) -> int:
    """An int32 Q0.31-style constant rounded to int16 (gemmlowp's rescaled constant)."""
    return int(div_pot(np.int64(q31), 16))


def _exp_quarter16(a: IntArray) -> IntArray:
    """exp(a) for a Q0.15 ``a`` in [-1/4, 0): Taylor series around -1/8."""
    x = wrap16(a + (1 << 12))
    x2 = srdhm16(x, x)
    x3 = srdhm16(x2, x)
    x4 = srdhm16(x2, x2)
    poly = div_pot(wrap16(srdhm16(wrap16(div_pot(x4, 2) + x3), _c16(715827883)) + x2), 1)
    const = _c16(1895147668)
    return sat16(const + srdhm16(const, wrap16(x + poly)))


# exp(-2**k) as Q0.31, applied when bit k of the remainder's integer part is set.
_EXP_FACTORS16 = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                  (2, 39332535), (3, 720401), (4, 242))


def exp_neg16(a: IntArray, int_bits: int) -> IntArray:
    """exp(a) for Q(int_bits) int16 ``a`` <= 0, as Q0.15."""
    frac = 15 - int_bits
    quarter = 1 << (frac - 2)
    a = i64(a)
    amq = wrap16((a & (quarter - 1)) - quarter)
    result = _exp_quarter16(sat_mul_pot16(amq, int_bits))
    remainder = wrap16(amq - a)
    for exponent, factor in _EXP_FACTORS16:
        if int_bits > exponent:
            bit = (remainder >> (frac + exponent)) & 1
            result = np.where(bit != 0, srdhm16(result, _c16(factor)), result)
    if int_bits > 5:
        result = np.where(a < _c16(-(1 << (36 - int_bits))), 0, result)
    return np.where(a == 0, 32767, result)


def _newton16(half_den: IntArray) -> IntArray:
    """Q2.13 estimate of 1 / half_den by three Newton-Raphson steps."""
    x = wrap16(_c16(1515870810) + srdhm16(half_den, _c16(-1010580540)))
    for _ in range(3):
        one_minus = wrap16((1 << 13) - srdhm16(half_den, x))
        x = wrap16(x + sat_mul_pot16(srdhm16(x, one_minus), 2))
    return x


def sigmoid16(x: IntArray, int_bits: int = 3) -> IntArray:
    """gemmlowp logistic: int16 Q(int_bits) in, Q0.15 out."""
    x = i64(x)
    pos = x > 0
    mag = np.where(pos, x, wrap16(-x))
    half_den = rounding_half_sum(exp_neg16(wrap16(-mag), int_bits), 32767)  # (1 + e) / 2
    rp = sat_mul_pot16(_newton16(half_den), 1)
    out = np.where(pos, rp, wrap16(32767 - rp))
    return np.where(x == 0, 1 << 14, out)


def tanh16(x: IntArray, int_bits: int) -> IntArray:
    """gemmlowp tanh: int16 Q(int_bits) in, Q0.15 out."""
    x = i64(x)
    neg = x < 0
    n = np.where(neg, x, wrap16(-x))
    e = exp_neg16(n, int_bits + 1)  # exp(2n): the same raw value, one more integer bit
    t = sat_mul_pot16(wrap16(_newton16(rounding_half_sum(e, 32767)) - (1 << 13)), 2)
    return np.where(x == 0, 0, np.where(neg, wrap16(-t), t))
