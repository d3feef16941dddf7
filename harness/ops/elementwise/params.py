"""The elementwise ops' data-independent parameters (multipliers, shifts, clamps,
lookup tables), shared by the C emitter (emit.py) and the NumPy kernels
(numpy_int8.py), so host and device use one source.

Each ``*_params`` function returns the fields of its C struct in
firmware/kernels/hx_elementwise.h, in declaration order. Where LiteRT evaluates a
real multiplier in float32 (MUL, LEAKY_RELU, PRELU, RELU, HARD_SWISH) it is done
in float32 here too; ADD and SUB use float64.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable

import numpy as np

from harness.model.graph import Tensor
from harness.quant.multiplier import quantize_multiplier
from harness.quant.ranges import ACT_RELU, ACT_RELU6, TYPE_RANGE, activation_range

f32 = np.float32

# Activation types each op handles, in the C kernels and in the NumPy ones alike
# (spec.py declares both from this; the emitter refuses anything else).
_I8 = frozenset({"int8"})
_I8_16 = frozenset({"int8", "int16"})
DTYPES: dict[str, frozenset[str]] = {
    "ADD": _I8_16, "SUB": _I8_16, "MUL": _I8, "RELU": _I8_16, "RELU6": _I8_16,
    "LEAKY_RELU": _I8_16, "PRELU": _I8, "HARD_SWISH": _I8, "LOGISTIC": _I8, "TANH": _I8,
    "MAXIMUM": _I8_16, "MINIMUM": _I8_16,
}


def act_range(code: int, out: Tensor) -> tuple[int, int]:
    """The fused activation clamp in the output's integer type."""
    return activation_range(code, out.scale, out.zero_point, *TYPE_RANGE[out.dtype])


def _round_half_away(x: float) -> int:
    """C's ``round``: to nearest, ties away from zero (exact for float32 values)."""
    r = math.floor(abs(x) + 0.5)
    return int(r) if x >= 0 else -int(r)


def _qm(real: float | np.floating) -> tuple[int, int]:
    return quantize_multiplier(float(real))


def _is_pot(scale: float) -> bool:
    m, _ = math.frexp(float(f32(scale)))
    return m == 0.5


def uses_int16_pot_path(op_options: dict, in1: Tensor, in2: Tensor, out: Tensor) -> bool:
    """True for an int16 ADD/SUB that LiteRT runs on its power-of-two-scale path
    (``pot_scale_int16`` set and every scale a power of two), which is not implemented."""
    return (out.dtype == "int16" and bool(op_options.get("potScaleInt16", True))
            and all(_is_pot(t.scale) for t in (in1, in2, out)))


def add_params(in1: Tensor, in2: Tensor, out: Tensor, act: int) -> dict[str, int]:
    """ADD / SUB: both inputs on a common scale with ``left_shift`` bits of headroom."""
    left_shift = 15 if out.dtype == "int16" else 20
    twice_max = 2.0 * float(max(f32(in1.scale), f32(in2.scale)))
    m1, s1 = _qm(float(f32(in1.scale)) / twice_max)
    m2, s2 = _qm(float(f32(in2.scale)) / twice_max)
    mo, so = _qm(twice_max / (float(1 << left_shift) * float(f32(out.scale))))
    lo, hi = act_range(act, out)
    return dict(input1_offset=-in1.zero_point, input2_offset=-in2.zero_point,
                output_offset=out.zero_point, left_shift=left_shift,
                input1_multiplier=m1, input1_shift=s1, input2_multiplier=m2, input2_shift=s2,
                output_multiplier=mo, output_shift=so, act_min=lo, act_max=hi)


def mul_params(in1: Tensor, in2: Tensor, out: Tensor, act: int) -> dict[str, int]:
    """MUL: ``in1 * in2 / out`` scale, evaluated in float32 as LiteRT does."""
    m, s = _qm(f32(f32(in1.scale) * f32(in2.scale)) / f32(out.scale))
    lo, hi = act_range(act, out)
    return dict(input1_offset=-in1.zero_point, input2_offset=-in2.zero_point,
                output_offset=out.zero_point, output_multiplier=m, output_shift=s,
                act_min=lo, act_max=hi)


def relu_params(op_name: str, inp: Tensor, out: Tensor) -> dict[str, int]:
    """RELU, RELU6 (``hx_rescale_params``): the float32 scale ratio and the activation
    clamp. (QUANTIZE fills the same struct: harness.ops.conversion.params.)"""
    m, s = _qm(f32(inp.scale) / f32(out.scale))
    code = ACT_RELU6 if op_name == "RELU6" else ACT_RELU
    lo, hi = act_range(code, out)
    return dict(input_offset=-inp.zero_point, output_offset=out.zero_point,
                multiplier=m, shift=s, act_min=lo, act_max=hi)


def leaky_relu_params(inp: Tensor, out: Tensor, alpha: float) -> dict[str, int]:
    """LEAKY_RELU: identity and alpha multipliers (float32 arithmetic)."""
    mi, si = _qm(f32(inp.scale) / f32(out.scale))
    real_alpha = f32(f32(inp.scale) * f32(alpha)) / f32(out.scale)
    ma, sa = _qm(abs(real_alpha))
    return dict(input_offset=-inp.zero_point, output_offset=out.zero_point,
                identity_multiplier=mi, identity_shift=si, alpha_multiplier=ma,
                alpha_shift=sa, alpha_negative=int(real_alpha < 0))


def prelu_params(inp: Tensor, alpha: Tensor, out: Tensor) -> dict[str, int]:
    """PRELU: multipliers for x >= 0 and for x * alpha (float32 arithmetic)."""
    m1, s1 = _qm(f32(inp.scale) / f32(out.scale))
    m2, s2 = _qm(f32(f32(inp.scale) * f32(alpha.scale)) / f32(out.scale))
    return dict(input_offset=-inp.zero_point, alpha_offset=-alpha.zero_point,
                output_offset=out.zero_point, multiplier_1=m1, shift_1=s1,
                multiplier_2=m2, shift_2=s2)


def _q15(real: np.floating) -> tuple[int, int]:
    """A Q0.31 multiplier rounded to Q0.15, and its exponent."""
    m, e = _qm(real)
    m16 = 32767 if m >= (1 << 31) - 1 - (1 << 15) else (m + (1 << 15)) >> 16
    return m16, e


def hard_swish_params(inp: Tensor, out: Tensor) -> dict[str, int]:
    """HARD_SWISH: output and "relu-ish" multipliers in Q0.15 (float32 arithmetic)."""
    hires = f32(f32(1.0 / 128.0) * f32(inp.scale))
    mo, eo = _q15(hires / f32(out.scale))
    mr, er = _q15(hires / f32(3.0 / 32768.0))
    if eo > 0:
        raise ValueError("HARD_SWISH output scale below input scale / 128 is not supported")
    return dict(input_zero_point=inp.zero_point, output_zero_point=out.zero_point,
                output_multiplier=mo, output_exponent=eo, reluish_multiplier=mr,
                reluish_exponent=er)


# ---- LOGISTIC / TANH tables ---------------------------------------------------------
# LiteRT fills its tables with the C library's expf/tanhf, which need not agree with
# NumPy's float32 functions to the last bit: the host's libm is bound here (NumPy is
# the fallback where no libm is found).


def _libm_float_fn(name: str) -> Callable[[float], float] | None:
    path = ctypes.util.find_library("m")
    if path is None:
        return None
    fn = getattr(ctypes.CDLL(path), name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


_EXPF = _libm_float_fn("expf")
_TANHF = _libm_float_fn("tanhf")


def _sigmoid(x: np.float32) -> np.float32:
    e = f32(_EXPF(float(-x))) if _EXPF else np.exp(-x)
    return f32(f32(1.0) / f32(f32(1.0) + e))


def _tanh(x: np.float32) -> np.float32:
    return f32(_TANHF(float(x))) if _TANHF else np.tanh(x)


def lut_table(op_name: str, inp: Tensor, out: Tensor) -> np.ndarray:
    """The 256-entry int8 table of LOGISTIC / TANH, indexed by input + 128.

    As LiteRT builds it: dequantize in float32, apply the C library's
    ``expf``/``tanhf``, multiply by the float32 inverse output scale, round
    half away from zero, add the zero point, clamp."""
    fn = _sigmoid if op_name == "LOGISTIC" else _tanh
    inv = f32(f32(1.0) / f32(out.scale))
    table = np.empty(256, np.int64)
    for k, val in enumerate(range(-128, 128)):
        y = fn(f32(f32(inp.scale) * f32(val - inp.zero_point)))
        table[k] = _round_half_away(float(f32(y * inv))) + out.zero_point
    return np.clip(table, -128, 127)
