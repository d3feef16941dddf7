"""Integer ranges of the quantized types and the fused-activation clamps in them.

``real = scale * (q - zero_point)`` (TFLite 8-bit spec); a fused activation
(schema ActivationFunctionType) becomes a clamp of the output integers.
"""

from __future__ import annotations

from harness.quant.multiplier import quantize_value

# Schema ActivationFunctionType codes.
ACT_NONE = 0
ACT_RELU = 1
ACT_RELU_N1_TO_1 = 2
ACT_RELU6 = 3

#: The integer range of each quantized activation type.
INT_RANGES = {"int8": (-128, 127), "int16": (-32768, 32767)}
#: The same, with the 32-bit type some conversions produce.
TYPE_RANGE = {**INT_RANGES, "int32": (-(1 << 31), (1 << 31) - 1)}


def activation_range(
    fused: int, scale: float, zero_point: int, qmin: int = -128, qmax: int = 127
) -> tuple[int, int]:
    """Output clamp ``(act_min, act_max)`` for a fused activation code.

    ``fused`` is the schema's ActivationFunctionType: NONE=0, RELU=1,
    RELU_N1_TO_1=2, RELU6=3; the bounds are quantized with the output's
    ``scale`` and ``zero_point`` and kept inside ``[qmin, qmax]``.
    """
    if fused == ACT_NONE:
        return qmin, qmax
    if fused == ACT_RELU:
        return max(qmin, quantize_value(0.0, scale, zero_point)), qmax
    if fused == ACT_RELU6:
        return (
            max(qmin, quantize_value(0.0, scale, zero_point)),
            min(qmax, quantize_value(6.0, scale, zero_point)),
        )
    if fused == ACT_RELU_N1_TO_1:
        return (
            max(qmin, quantize_value(-1.0, scale, zero_point)),
            min(qmax, quantize_value(1.0, scale, zero_point)),
        )
    raise ValueError(f"unsupported fused activation code {fused}")
