"""QUANTIZE / DEQUANTIZE parameters, shared by the C emitter (emit.py) and the NumPy
kernels (numpy_int8.py).

An integer-to-integer QUANTIZE is a requantization on the elementwise rescale
kernel (``hx_rescale_params``; its real multiplier in float64, as LiteRT's); the
float conversions carry the float32 scale and zero point (``hx_quantize_params``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.model.graph import Tensor
from harness.quant.multiplier import quantize_multiplier
from harness.quant.ranges import TYPE_RANGE

f32 = np.float32


def requantize_params(inp: Tensor, out: Tensor) -> dict[str, int]:
    """Integer QUANTIZE (``hx_rescale_params``): the float64 ratio of the float32
    scales, clamped to the output type's range."""
    m, s = quantize_multiplier(float(f32(inp.scale)) / float(f32(out.scale)))
    lo, hi = TYPE_RANGE[out.dtype]
    return dict(input_offset=-inp.zero_point, output_offset=out.zero_point,
                multiplier=m, shift=s, act_min=lo, act_max=hi)


@dataclass(frozen=True)
class ConvertParams:
    """``hx_quantize_params``: the quantized side's scale (a float32 value) and zero
    point, and the clamp of a QUANTIZE's output (0, 0 for a DEQUANTIZE)."""

    scale: float
    zero_point: int
    act_min: int
    act_max: int


def quantize_params(out: Tensor) -> ConvertParams:
    """QUANTIZE float32 -> int: the output's scale and zero point, its type's range."""
    return ConvertParams(float(f32(out.scale)), out.zero_point, *TYPE_RANGE[out.dtype])


def dequantize_params(inp: Tensor) -> ConvertParams:
    """DEQUANTIZE int -> float32: the input's scale and zero point."""
    return ConvertParams(float(f32(inp.scale)), inp.zero_point, 0, 0)
