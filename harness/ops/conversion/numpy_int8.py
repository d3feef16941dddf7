"""QUANTIZE / DEQUANTIZE in NumPy (bit-exact with LiteRT BUILTIN_REF and the C kernels):
float conversions with LiteRT's rounding, integer QUANTIZE as the elementwise rescale."""

from __future__ import annotations

import numpy as np

from harness.ops.conversion.params import dequantize_params, quantize_params, requantize_params
from harness.ops.elementwise.numpy_int8 import rescale
from harness.ops.plan import OpPlan
from harness.quant.fixedpoint import i64

f32 = np.float32


def quantize(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """QUANTIZE: from float32, or between integer types (one rescale per element)."""
    inp, out = plan.tensor(plan.op.inputs[0]), plan.tensor(plan.op.outputs[0])
    if inp.dtype == "float32":
        return quantize_float(plan, ins, trace)
    return rescale(ins[0], requantize_params(inp, out), out, trace)


def quantize_float(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """QUANTIZE float32 -> int: round(x / scale) (float32 division, ties away) + zp."""
    out = plan.tensor(plan.op.outputs[0])
    prm = quantize_params(out)
    q = (np.asarray(ins[0], f32) / f32(prm.scale)).astype(np.float64)
    rounded = np.sign(q) * np.floor(np.abs(q) + 0.5)  # exact in float64
    return np.clip(rounded.astype(np.int64) + prm.zero_point, prm.act_min,
                   prm.act_max).astype(out.dtype)


def dequantize(plan: OpPlan, ins: list, trace: dict | None) -> np.ndarray:
    """DEQUANTIZE int -> float32: float32(float64(scale) * (q - zp))."""
    prm = dequantize_params(plan.tensor(plan.op.inputs[0]))
    return (prm.scale * (i64(ins[0]) - prm.zero_point)).astype(f32)
