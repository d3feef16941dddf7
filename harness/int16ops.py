"""NumPy arithmetic of the 16x8 (int16 activation) kernels, as LiteRT's reference kernels do it.

* :func:`requant_int64` - the requantization of a 64-bit accumulator used by the
  16x8 CONV_2D and DEPTHWISE_CONV_2D: the Q0.31 multiplier is first rounded to
  16 bits (``(m + 2**15) >> 16``, capped at ``0x7FFF``), then
  ``(acc * m16 + 2**(t - 1)) >> t`` with ``t = 15 - shift`` (ties toward +inf).
* :func:`requant_single_wide` - the 16x8 FULLY_CONNECTED's: one rounding of the
  exact product ``acc * m / 2**(31 - shift)``, ties away from zero.
* :func:`softmax_int16` - SOFTMAX with int16 input and output (scale 1/32768,
  zero point 0): ``exp`` and ``1 / (1 + x)`` come from two 513-entry lookup
  tables with linear interpolation (:func:`softmax_luts`, :func:`lut_lookup`).

``firmware/kernels`` computes the same bits in C (``hx_conv.c``,
``hx_fully_connected.c``, ``hx_softmax.c``); the lookup tables are made here
on the host and placed in the generated model code.
"""

from __future__ import annotations

import numpy as np

from harness import quant
from harness.int8_fixedpoint import clz32, requant_double

LUT_SIZE = 513
INT16_MIN, INT16_MAX = -32768, 32767


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


# ---- SOFTMAX -----------------------------------------------------------------


def _round_away(x: np.ndarray) -> np.ndarray:
    """C's ``round``: half away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def make_lut(transform, input_min: float, input_max: float) -> np.ndarray:
    """A 513-entry int16 table of ``transform`` on [input_min, input_max], outputs
    [-1, 1] as Q0.15, in float64 arithmetic.

    Entry ``i`` samples ``input_min + i * step`` (512 steps); each entry is nudged
    by half the error a linear interpolation makes at the midpoint of its step,
    so that interpolating between entries lands closer.
    """
    steps = LUT_SIZE - 1
    step = (input_max - input_min) / steps
    inv = 65536 / 2.0  # int16 codes per unit of the [-1, 1] output range
    at = input_min + np.arange(steps) * step
    sample = _round_away(transform(at) * inv)
    interp = _round_away((transform(input_min + (np.arange(steps) + 1) * step) * inv + sample) / 2)
    bias = _round_away((interp - _round_away(transform(at + step / 2) * inv)) / 2)
    last = _round_away(transform(np.array([input_max])) * inv)
    return np.clip(np.concatenate([sample - bias, last]), INT16_MIN, INT16_MAX).astype(np.int16)


def softmax_luts() -> tuple[np.ndarray, np.ndarray]:
    """The ``exp`` table (inputs [-10, 0]) and the ``1 / (1 + x)`` table (inputs [0, 1]).

    LiteRT 2.3 makes them in float64 (a float32 construction differs in two
    entries of the reciprocal table)."""
    return make_lut(np.exp, -10.0, 0.0), make_lut(lambda v: 1.0 / (1.0 + v), 0.0, 1.0)


def lut_lookup(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Interpolated lookup of int16 ``value``: the top 9 bits pick an entry, the low 7
    interpolate towards the next one (rounded)."""
    v = np.asarray(value, np.int64)
    index = 256 + (v >> 7)
    offset = v & 0x7F
    base = lut.astype(np.int64)[index]
    slope = lut.astype(np.int64)[index + 1] - base
    return (base + ((slope * offset + 64) >> 7)).astype(np.int16).astype(np.int64)


def softmax_int16_params(beta: float, input_scale: float) -> tuple[int, int]:
    """``(input_multiplier, input_shift)``: maps input differences so that
    [-65535, 0] covers exp's [-10, 0]."""
    real = float(np.float32(input_scale)) * float(np.float32(beta)) / (10.0 / 65535.0)
    return quant.quantize_multiplier(real)


def softmax_int16(x: np.ndarray, beta: float, input_scale: float,
                  trace: dict | None = None) -> np.ndarray:
    """LiteRT's reference int16 softmax of ``x`` along the last axis (output 1/32768, zp 0)."""
    exp_lut, recip_lut = softmax_luts()
    mult, shift = softmax_int16_params(beta, input_scale)
    v = np.asarray(x, np.int64)
    diff = v - v.max(axis=-1, keepdims=True)
    scaled = requant_double(diff, mult, shift)
    exp = lut_lookup(np.clip(scaled + INT16_MAX, INT16_MIN, INT16_MAX), exp_lut)
    total = exp.sum(axis=-1, keepdims=True)
    headroom = clz32(total)
    shifted = ((total << (headroom - 1)) + (1 << 13)) >> 14
    sym = np.clip(shifted - ((1 << 15) + (1 << 16)), INT16_MIN, INT16_MAX)
    recip = lut_lookup(sym, recip_lut)
    right = 31 - headroom
    out = (exp * recip + (np.int64(1) << (right - 1))) >> right
    if trace is not None:
        trace.update(input_multiplier=mult, input_shift=shift, diff=diff, scaled_diff=scaled,
                     exp=exp, sum=total, headroom=headroom, reciprocal=recip)
    return np.clip(out, 0, INT16_MAX).astype(np.int16)
