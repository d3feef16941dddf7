"""SOFTMAX over the last axis in NumPy: int8 two ways, and int16 with lookup tables.

``softmax_fixed_point`` is LiteRT's reference int8 softmax (what
``firmware/kernels/hx_softmax.c`` computes), all in integer fixed point:

    d       = x - max(row)                             int, <= 0
    d_q526  = d * beta * input_scale as Q5.26          input_multiplier, input_left_shift
    e       = exp(d_q526) as Q0.31                      Taylor polynomial + exp(-2^k) factors
    sum     = sum of (e >> 12, rounded) as Q12.19       wrapping int32
    recip   = 1 / sum as Q0.31 * 2^-bits_over_unit      Newton-Raphson
    out     = round(recip * e / 2^(bits_over_unit + 23)) - 128, clamped
    differences below diff_min give -128.

``softmax_float`` is what a float / lookup-table implementation produces:
``exp`` of the dequantized difference in float32, a float32 sum along the row
(sequential, like a C loop), probabilities scaled by ``1 / (sum * output_scale)``,
rounded half away from zero and offset by the output zero point.

Both fill ``trace`` (if given) with their intermediates.

``softmax_int16`` is LiteRT's reference int16 softmax (input and output scale
1/32768, zero point 0): ``exp`` and ``1 / (1 + x)`` from two 513-entry lookup
tables with linear interpolation.
"""

from __future__ import annotations

import functools

import numpy as np

from harness.ops.plan import OpPlan
from harness.ops.softmax.params import (
    SOFTMAX_DIFF_INTEGER_BITS,
    softmax_int16_params,
    softmax_luts,
    softmax_params,
)
from harness.quant.fixedpoint import (
    INT32_MAX,
    clz32,
    div_pot,
    i64,
    requant_double,
    rounding_half_sum,
    sat_mul_pot,
    srdhm,
    wrap32,
)
from harness.quant.lut import INT16_MAX, INT16_MIN, lut_lookup

ACCUM_INT_BITS = 12  # the sum of exponentials is Q12.19
DIFF_INT_BITS = SOFTMAX_DIFF_INTEGER_BITS  # Q5.26

# Q0.31 constants, round(value * 2**31).
_EXP_MINUS_1_8 = 1895147668
_ONE_THIRD = 715827883
# exp(-2**k) for k = -2 .. 4: the factor applied when bit (24 + k + 2) of the remainder is set.
_EXP_FACTORS = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)
# Q2.29 Newton-Raphson start 48/17 - 32/17 * d.
_Q229_48_17 = 1515870810
_Q229_NEG_32_17 = -1010580540


def exp_on_interval_m1_4_to_0(a: np.ndarray) -> np.ndarray:
    """exp(a) for Q0.31 ``a`` in [-1/4, 0): 4th-order Taylor series around -1/8."""
    x = wrap32(i64(a) + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    inner = wrap32(srdhm(wrap32(div_pot(x4, 2) + x3), _ONE_THIRD) + x2)
    poly = div_pot(inner, 1)
    return wrap32(_EXP_MINUS_1_8 + srdhm(_EXP_MINUS_1_8, wrap32(x + poly)))


def exp_on_negative_values(a: np.ndarray) -> np.ndarray:
    """exp(a) for Q5.26 ``a <= 0``, as Q0.31."""
    a = i64(a)
    quarter = 1 << 24
    mod_q = wrap32((a & (quarter - 1)) - quarter)
    result = exp_on_interval_m1_4_to_0(sat_mul_pot(mod_q, DIFF_INT_BITS))
    remainder = wrap32(mod_q - a)
    for k, factor in enumerate(_EXP_FACTORS):
        hit = (remainder & (1 << (24 + k))) != 0
        result = np.where(hit, srdhm(result, factor), result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x(x: np.ndarray) -> np.ndarray:
    """1 / (1 + x) for Q0.31 ``x`` in [0, 1), as Q0.31 (three Newton-Raphson steps)."""
    half_den = rounding_half_sum(x, INT32_MAX)
    est = wrap32(_Q229_48_17 + srdhm(half_den, _Q229_NEG_32_17))
    for _ in range(3):
        one_minus = wrap32((1 << 29) - srdhm(half_den, est))
        est = wrap32(est + sat_mul_pot(srdhm(est, one_minus), 2))
    return sat_mul_pot(est, 1)


def reciprocal(x: np.ndarray, integer_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """``(s, b)`` with ``1 / x = s * 2**-b``, ``s`` Q0.31, for positive Qm.(31-m) ``x``."""
    headroom = clz32(x)
    bits_over_unit = integer_bits - headroom
    shifted = wrap32(((i64(x) & 0xFFFFFFFF) << headroom) - (1 << 31))
    return one_over_one_plus_x(shifted), bits_over_unit


@functools.lru_cache(maxsize=64)
def _exp_table(mult: int, left_shift: int) -> tuple[np.ndarray, np.ndarray]:
    """The scaled difference and its exp for every int8 difference -255..0, computed
    with the same fixed-point stages as the direct path (so lookups are bit-exact)."""
    diff = np.arange(-255, 1, dtype=np.int64)
    scaled = srdhm(wrap32(diff << left_shift), mult)
    return scaled, exp_on_negative_values(scaled)


def softmax_fixed_point(x: np.ndarray, beta: float, input_scale: float,
                        trace: dict | None = None, out_dtype: str = "int8") -> np.ndarray:
    """LiteRT's reference int8 softmax of ``x`` along the last axis: int8 output
    of scale 1/256 and zero point -128, or (``out_dtype="int16"``) int16 output of
    scale 1/65536 and zero point -32768."""
    mult, left_shift, diff_min = softmax_params(beta, input_scale)
    v = i64(x)
    row_max = v.max(axis=-1, keepdims=True)
    diff = v - row_max
    valid = diff >= diff_min
    if x.dtype == np.int8:  # diff is one of 256 values: look the stages up
        scaled_t, exp_t = _exp_table(mult, left_shift)
        scaled, exp = scaled_t[diff + 255], exp_t[diff + 255]
    else:
        scaled = srdhm(wrap32(diff << left_shift), mult)  # Q5.26
        exp = exp_on_negative_values(scaled)  # Q0.31
    sum_q1219 = wrap32(np.where(valid, div_pot(exp, ACCUM_INT_BITS), 0).sum(axis=-1,
                                                                            keepdims=True))
    recip, bits_over_unit = reciprocal(sum_q1219, ACCUM_INT_BITS)
    prob = srdhm(recip, exp)
    info = np.iinfo(out_dtype)
    bits = info.bits
    out = np.where(valid, div_pot(prob, bits_over_unit + 31 - bits) + info.min, info.min)
    if trace is not None:
        trace.update(input_multiplier=mult, input_left_shift=left_shift, diff_min=diff_min,
                     max=row_max, diff=diff, scaled_diff=scaled, exp=exp, sum=sum_q1219,
                     reciprocal=recip, bits_over_unit=bits_over_unit, prob=prob)
    return np.clip(out, info.min, info.max).astype(out_dtype)


def softmax_float(x: np.ndarray, beta: float, input_scale: float, output_scale: float,
                  output_zero_point: int, trace: dict | None = None) -> np.ndarray:
    """Float softmax of int8 ``x`` along the last axis, quantized to the output.

    ``exp(-beta * input_scale * (max - x))`` with the coefficient in float32 and
    the exponential correctly rounded to float32 (what ``expf`` gives), summed in
    float32 left to right; ``p = e * (1 / (sum * output_scale))`` in float32,
    rounded half away from zero.
    """
    v = i64(x)
    row_max = v.max(axis=-1, keepdims=True)
    coef = np.float32(-np.float32(input_scale) * np.float32(beta))
    arg = coef * (row_max - v).astype(np.float32)
    exp = np.exp(arg.astype(np.float64)).astype(np.float32)
    total = np.cumsum(exp, axis=-1, dtype=np.float32)[..., -1:]  # sequential sum
    inv = np.float32(1.0) / (total * np.float32(output_scale))
    prob = exp * inv
    whole = np.trunc(prob)
    rounded = whole + np.sign(prob) * (np.abs(prob - whole) >= 0.5)  # C's round()
    out = rounded.astype(np.int64) + int(output_zero_point)
    if trace is not None:
        trace.update(max=row_max, diff=v - row_max, exp=exp, sum=total, prob=prob)
    return np.clip(out, -128, 127).astype(np.int8)


def softmax(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """The numpy-int8 SOFTMAX kernel: int16 in/out, int8 in with int8 or int16
    out (fixed point), or int8 out the float way when ``plan.requant == "float"``."""
    inp, out = plan.tensor(plan.op.inputs[0]), plan.tensor(plan.op.outputs[0])
    beta = float(plan.op.options.get("beta", 1.0))
    if inp.dtype == "int16":
        return softmax_int16(ins[0], beta, inp.scale, trace)
    if out.dtype == "int16" and abs(out.scale * 65536 - 1) < 1e-3 and out.zero_point == -32768:
        return softmax_fixed_point(ins[0], beta, inp.scale, trace, out_dtype="int16")
    if plan.requant == "float":
        return softmax_float(ins[0], beta, inp.scale, out.scale, out.zero_point, trace)
    if abs(out.scale - 1 / 256) > 1e-9 or out.zero_point != -128:
        raise ValueError(f"op {plan.op.index} (SOFTMAX): the reference int8 softmax needs "
                         f"output scale 1/256 and zero point -128, not "
                         f"{out.scale:g}/{out.zero_point}")
    return softmax_fixed_point(ins[0], beta, inp.scale, trace)


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
