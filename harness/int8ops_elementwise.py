"""NumPy int8/int16 implementations of the elementwise ops (same arithmetic as
firmware/kernels/hx_elementwise.c and LiteRT's reference kernels).

The data-independent parameters (multipliers, shifts, clamps, lookup tables) are
worked out by the ``*_params`` functions here; :mod:`harness.lower_elementwise`
uses the same functions for the firmware, so host and device share one source.
Where LiteRT evaluates a real multiplier in float32 (MUL, LEAKY_RELU, PRELU,
RELU, HARD_SWISH) it is done in float32 here too; ADD, SUB and QUANTIZE use
float64.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from harness.model.graph import Tensor
from harness.quant.fixedpoint import div_pot, i64, requant_double, wrap32
from harness.quant.multiplier import quantize_multiplier
from harness.quant.ranges import ACT_RELU, ACT_RELU6, activation_range

if TYPE_CHECKING:
    from harness.ops.plan import OpPlan

f32 = np.float32
TYPE_RANGE = {"int8": (-128, 127), "int16": (-32768, 32767), "int32": (-(1 << 31), (1 << 31) - 1)}


def type_range(t: Tensor) -> tuple[int, int]:
    """Integer range of a quantized tensor's type."""
    return TYPE_RANGE[t.dtype]


def act_range(code: int, out: Tensor) -> tuple[int, int]:
    """The fused activation clamp in the output's integer type."""
    return activation_range(code, out.scale, out.zero_point, *type_range(out))


def _round_half_away(x: float) -> int:
    """C's ``round``: to nearest, ties away from zero (exact for float32 values)."""
    r = math.floor(abs(x) + 0.5)
    return int(r) if x >= 0 else -int(r)


def _qm(real: float | np.floating) -> tuple[int, int]:
    return quantize_multiplier(float(real))


# ---- parameters -----------------------------------------------------------------


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


def rescale_params(op_name: str, inp: Tensor, out: Tensor) -> dict[str, int]:
    """RELU, RELU6 (float32 scale ratio, activation clamp) and QUANTIZE
    (float64 ratio, the output type's range)."""
    if op_name == "QUANTIZE":
        m, s = _qm(float(f32(inp.scale)) / float(f32(out.scale)))
        lo, hi = type_range(out)
    else:
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


# ---- kernels ------------------------------------------------------------------------


def _act_code(plan: OpPlan) -> int:
    return int(plan.op.options.get("fusedActivationFunction", 0) or 0)


def _io(plan: OpPlan) -> tuple[list[Tensor], Tensor]:
    ins = [plan.tensor(i) for i in plan.op.inputs if i >= 0]
    return ins, plan.tensor(plan.op.outputs[0])


def _mbqm(x: np.ndarray, m: int, s: int) -> np.ndarray:
    return requant_double(x, m, s)


def add_sub(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """ADD / SUB with broadcasting."""
    (t1, t2), out = _io(plan)
    if uses_int16_pot_path(plan.op.options, t1, t2, out):
        raise NotImplementedError(f"op {plan.op.index} ({plan.op.name}): int16 with "
                                  "power-of-two scales (pot_scale_int16)")
    p = add_params(t1, t2, out, _act_code(plan))
    a, b = np.broadcast_arrays(i64(ins[0]), i64(ins[1]))
    sa = _mbqm((a + p["input1_offset"]) << p["left_shift"], p["input1_multiplier"],
               p["input1_shift"])
    sb = _mbqm((b + p["input2_offset"]) << p["left_shift"], p["input2_multiplier"],
               p["input2_shift"])
    raw = wrap32(sa - sb if plan.op.name == "SUB" else sa + sb)
    scaled = _mbqm(raw, p["output_multiplier"], p["output_shift"])
    res = np.clip(scaled + p["output_offset"], p["act_min"], p["act_max"])
    if trace is not None:
        trace.update(params=p, scaled1=sa, scaled2=sb, raw=raw, scaled=scaled)
    return res.astype(out.dtype)


def mul(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """MUL with broadcasting: (a - zp1) * (b - zp2), requantized once."""
    (t1, t2), out = _io(plan)
    p = mul_params(t1, t2, out, _act_code(plan))
    a, b = np.broadcast_arrays(i64(ins[0]), i64(ins[1]))
    prod = (a + p["input1_offset"]) * (b + p["input2_offset"])
    scaled = _mbqm(prod, p["output_multiplier"], p["output_shift"])
    if trace is not None:
        trace.update(params=p, product=prod, scaled=scaled)
    return np.clip(scaled + p["output_offset"], p["act_min"], p["act_max"]).astype(out.dtype)


def rescale(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """RELU, RELU6 and the integer-to-integer QUANTIZE."""
    (inp,), out = _io(plan)
    if inp.dtype == "float32":
        return quantize_float(plan, ins, trace)
    p = rescale_params(plan.op.name, inp, out)
    scaled = _mbqm(i64(ins[0]) + p["input_offset"], p["multiplier"], p["shift"])
    if trace is not None:
        trace.update(params=p, scaled=scaled)
    return np.clip(scaled + p["output_offset"], p["act_min"], p["act_max"]).astype(out.dtype)


def quantize_float(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """QUANTIZE float32 -> int: round(x / scale) (float32 division, ties away) + zp."""
    _, out = _io(plan)
    q = (np.asarray(ins[0], f32) / f32(out.scale)).astype(np.float64)
    rounded = np.sign(q) * np.floor(np.abs(q) + 0.5)  # exact in float64
    return np.clip(rounded.astype(np.int64) + out.zero_point, *type_range(out)).astype(out.dtype)


def dequantize(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """DEQUANTIZE int -> float32: float32(float64(scale) * (q - zp))."""
    (inp,), _ = _io(plan)
    return (float(f32(inp.scale)) * (i64(ins[0]) - inp.zero_point)).astype(f32)


def leaky_relu(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """LEAKY_RELU: identity rescale for x >= zp, alpha rescale below."""
    (inp,), out = _io(plan)
    p = leaky_relu_params(inp, out, float(plan.op.options.get("alpha", 0.0)))
    v = i64(ins[0]) + p["input_offset"]
    pos = _mbqm(v, p["identity_multiplier"], p["identity_shift"])
    neg = _mbqm(v, p["alpha_multiplier"], p["alpha_shift"])
    neg = -neg if p["alpha_negative"] else neg
    res = np.where(v >= 0, pos, neg) + p["output_offset"]
    return np.clip(res, *type_range(out)).astype(out.dtype)


def prelu(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """PRELU with the alpha tensor broadcast against the input."""
    (inp, alpha), out = _io(plan)
    p = prelu_params(inp, alpha, out)
    x, a = np.broadcast_arrays(i64(ins[0]), i64(ins[1]))
    v = x + p["input_offset"]
    pos = _mbqm(v, p["multiplier_1"], p["shift_1"])
    neg = _mbqm(v * (a + p["alpha_offset"]), p["multiplier_2"], p["shift_2"])
    res = np.where(v >= 0, pos, neg) + p["output_offset"]
    return np.clip(res, *type_range(out)).astype(out.dtype)


def _srdhm16(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """int16 rounding doubling high multiply (ties away from zero, -1*-1 saturates)."""
    prod = i64(a) * i64(b)
    num = prod + np.where(prod >= 0, 1 << 14, 1 - (1 << 14))
    out = np.sign(num) * (np.abs(num) >> 15)
    return np.where((i64(a) == -32768) & (i64(b) == -32768), 32767, out)


def _sdhm16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int16 doubling high multiply truncated toward zero (-1*-1 saturates)."""
    prod = i64(a) * i64(b)
    out = np.sign(prod) * (np.abs(prod) >> 15)
    return np.where((i64(a) == -32768) & (i64(b) == -32768), 32767, out)


def hard_swish(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """HARD_SWISH, x * relu6(x + 3) / 6, in TFLite's 16-bit fixed point."""
    (inp,), out = _io(plan)
    p = hard_swish_params(inp, out)
    hires = (i64(ins[0]) - p["input_zero_point"]) * 128
    preshift = _srdhm16(hires, p["output_multiplier"])
    e = p["reluish_exponent"]
    reluish = hires
    if e > 0:
        reluish = np.clip(reluish << min(e - 1, 40), -32768, 32767)
    reluish = _srdhm16(reluish, p["reluish_multiplier"])
    if e > 0:
        reluish = np.clip(reluish * 2, -32768, 32767)
    if e < 0:
        reluish = div_pot(reluish, -e)
    reluish = (reluish + (1 << 15)) >> 1
    res = div_pot(_sdhm16(reluish, preshift), -p["output_exponent"]) + p["output_zero_point"]
    if trace is not None:
        trace.update(params=p, reluish=reluish, preshift=preshift)
    return np.clip(res, *type_range(out)).astype(out.dtype)


def lookup(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """LOGISTIC / TANH through the 256-entry table LiteRT builds."""
    (inp,), out = _io(plan)
    key = ("lut", inp.scale, inp.zero_point, out.scale, out.zero_point)
    if key not in plan.cache:
        plan.cache[key] = lut_table(plan.op.name, inp, out)
    table = plan.cache[key]
    if trace is not None:
        trace.update(table=table)
    return table[i64(ins[0]) + 128].astype(np.int8)


KERNELS: dict[str, Callable[..., np.ndarray]] = {
    "ADD": add_sub,
    "SUB": add_sub,
    "MUL": mul,
    "RELU": rescale,
    "RELU6": rescale,
    "QUANTIZE": rescale,
    "DEQUANTIZE": dequantize,
    "LEAKY_RELU": leaky_relu,
    "PRELU": prelu,
    "HARD_SWISH": hard_swish,
    "LOGISTIC": lookup,
    "TANH": lookup,
}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this.
_I8 = frozenset({"int8"})
DTYPES: dict[str, frozenset[str]] = {
    "ADD": frozenset({"int8", "int16"}),
    "SUB": frozenset({"int8", "int16"}),
    "MUL": _I8,
    "RELU": frozenset({"int8", "int16"}),
    "RELU6": frozenset({"int8", "int16"}),
    "QUANTIZE": frozenset({"int8", "int16", "float32"}),
    "DEQUANTIZE": frozenset({"int8", "int16", "float32"}),
    "LEAKY_RELU": frozenset({"int8", "int16"}),
    "PRELU": _I8,
    "HARD_SWISH": _I8,
    "LOGISTIC": _I8,
    "TANH": _I8,
}
