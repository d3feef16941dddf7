"""The elementwise ops in NumPy integer arithmetic (bit-exact with LiteRT BUILTIN_REF
and firmware/kernels/hx_elementwise.c), on the parameters of params.py.

``rescale`` (one requantization and a clamp per element) is shared with QUANTIZE
(harness.ops.conversion), as the C kernels are.
"""

from __future__ import annotations

import numpy as np

from harness.model.graph import Tensor
from harness.ops.elementwise.params import (
    add_params,
    hard_swish_params,
    leaky_relu_params,
    lut_table,
    mul_params,
    prelu_params,
    relu_params,
    uses_int16_pot_path,
)
from harness.ops.plan import OpPlan
from harness.quant.fixedpoint import div_pot, i64, requant_double, wrap32
from harness.quant.ranges import TYPE_RANGE


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


def minmax(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """MAXIMUM / MINIMUM with broadcasting, on the stored integers (as LiteRT)."""
    pick = np.maximum if plan.op.name == "MAXIMUM" else np.minimum
    out = plan.tensor(plan.op.outputs[0])
    return pick(i64(ins[0]), i64(ins[1])).astype(out.dtype)


def rescale(x: np.ndarray, p: dict[str, int], out: Tensor, trace: dict | None) -> np.ndarray:
    """One requantization and a clamp per element, on ``hx_rescale_params`` fields."""
    scaled = _mbqm(i64(x) + p["input_offset"], p["multiplier"], p["shift"])
    if trace is not None:
        trace.update(params=p, scaled=scaled)
    return np.clip(scaled + p["output_offset"], p["act_min"], p["act_max"]).astype(out.dtype)


def relu(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """RELU, RELU6: a rescale clamped to the activation's range."""
    (inp,), out = _io(plan)
    return rescale(ins[0], relu_params(plan.op.name, inp, out), out, trace)


def leaky_relu(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """LEAKY_RELU: identity rescale for x >= zp, alpha rescale below."""
    (inp,), out = _io(plan)
    p = leaky_relu_params(inp, out, float(plan.op.options.get("alpha", 0.0)))
    v = i64(ins[0]) + p["input_offset"]
    pos = _mbqm(v, p["identity_multiplier"], p["identity_shift"])
    neg = _mbqm(v, p["alpha_multiplier"], p["alpha_shift"])
    neg = -neg if p["alpha_negative"] else neg
    res = np.where(v >= 0, pos, neg) + p["output_offset"]
    return np.clip(res, *TYPE_RANGE[out.dtype]).astype(out.dtype)


def prelu(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """PRELU with the alpha tensor broadcast against the input."""
    (inp, alpha), out = _io(plan)
    p = prelu_params(inp, alpha, out)
    x, a = np.broadcast_arrays(i64(ins[0]), i64(ins[1]))
    v = x + p["input_offset"]
    pos = _mbqm(v, p["multiplier_1"], p["shift_1"])
    neg = _mbqm(v * (a + p["alpha_offset"]), p["multiplier_2"], p["shift_2"])
    res = np.where(v >= 0, pos, neg) + p["output_offset"]
    return np.clip(res, *TYPE_RANGE[out.dtype]).astype(out.dtype)


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
    return np.clip(res, *TYPE_RANGE[out.dtype]).astype(out.dtype)


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
