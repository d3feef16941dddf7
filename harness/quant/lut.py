"""int16 lookup tables with linear interpolation, as LiteRT's 16-bit kernels use them.

A table holds 513 int16 samples of a function on [input_min, input_max] with
outputs in [-1, 1] as Q0.15; a lookup takes the top 9 bits of an int16 value as
the entry and interpolates with the low 7.
"""

from __future__ import annotations

import numpy as np

LUT_SIZE = 513
INT16_MIN, INT16_MAX = -32768, 32767


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


def lut_lookup(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Interpolated lookup of int16 ``value``: the top 9 bits pick an entry, the low 7
    interpolate towards the next one (rounded)."""
    v = np.asarray(value, np.int64)
    index = 256 + (v >> 7)
    offset = v & 0x7F
    base = lut.astype(np.int64)[index]
    slope = lut.astype(np.int64)[index + 1] - base
    return (base + ((slope * offset + 64) >> 7)).astype(np.int16).astype(np.int64)
