"""The C an op renders to in the builtin runtime: arrays in flash, a params struct, a call.

Each family's emit.py fills a :class:`LoweredOp` from a graph op; the builtin
runtime (harness/runtimes/builtin/lower.py) renders the list into model.c.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.errors import UnsupportedOp, UnsupportedType
from harness.model.graph import Graph, Op, Tensor
from harness.quant.ranges import INT_RANGES, activation_range

# The C types of tensors in the generated code (HX_T<index> pointers, const arrays).
C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "float32": "float",
           "uint8": "uint8_t", "int64": "int64_t", "bool": "uint8_t"}
ACT_NAMES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PAD_NAMES = {0: "SAME", 1: "VALID"}


FLT_MAX = float(np.finfo(np.float32).max)


def c_float(v: float) -> str:
    """An exact C float literal (hexadecimal), e.g. ``0x1.8p+1f``."""
    v = float(np.float32(v))
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"no C literal for {v}")
    return f"{v.hex()}f"


@dataclass
class CArray:
    """A constant array placed in flash."""

    ctype: str
    name: str
    values: np.ndarray

    def c_lines(self, per_line: int = 16) -> str:
        """The initialiser lines: integers, or exact hex literals for a float array."""
        fmt = c_float if self.ctype == "float" else (lambda v: str(int(v)))
        flat = [fmt(v) for v in np.asarray(self.values).ravel()]
        if self.ctype == "float":
            per_line = 6
        lines = [", ".join(flat[i:i + per_line]) for i in range(0, len(flat), per_line)]
        return ",\n".join("    " + line for line in lines)


@dataclass
class LoweredOp:
    index: int
    name: str
    comment: list[str]
    arrays: list[CArray] = field(default_factory=list)
    params: list[tuple[str, str, str]] = field(default_factory=list)  # (ctype, name, initializer)
    call: str = ""


def dims(shape: tuple[int, ...]) -> str:
    s = (1,) * (4 - len(shape)) + tuple(shape)
    n, h, w, c = s[-4:]
    return f"{{{n}, {h}, {w}, {c}}}"


def qdesc(t: Tensor) -> str:
    if t.per_channel:
        return f"per-channel x{len(t.scales)} (axis {t.quantized_dimension})"
    return f"scale {t.scale:.6g}, zp {t.zero_point}"


def tdesc(t: Tensor) -> str:
    return f"{t.dtype}{list(t.shape)} {qdesc(t)}"


def ptr(t: Tensor, const_name: str | None = None) -> str:
    if t.is_const:
        return const_name or "NULL"
    return f"HX_T{t.index}"


def add_requant(lo: LoweredOp, p: str, mults: list[int], shifts: list[int]) -> None:
    lo.arrays.append(CArray("int32_t", f"{p}_multiplier", np.asarray(mults, np.int64)))
    lo.arrays.append(CArray("int32_t", f"{p}_shift", np.asarray(shifts, np.int64)))
    per = 1 if len(mults) > 1 else 0
    lo.params.append(("hx_requant", f"{p}_rq", f"{{{p}_multiplier, {p}_shift, {per}}}"))


def add_bias(lo: LoweredOp, p: str, graph: Graph, op: Op, k: int = 2,
             ctype: str = "int32_t") -> str:
    """The op's constant bias (input ``k``) as a ``ctype`` array, or "NULL" without one."""
    if len(op.inputs) > k and op.inputs[k] >= 0:
        b = graph.tensors[op.inputs[k]]
        if b.data is None:
            raise UnsupportedOp(f"op {op.index} ({op.name}) has a non-constant bias")
        data = b.data.astype(np.float32 if ctype == "float" else np.int64).ravel()
        lo.arrays.append(CArray(ctype, f"{p}_bias", data))
        return f"{p}_bias"
    return "NULL"


def fused_act_range(op: Op, out: Tensor) -> tuple[int, int]:
    """The fused activation's clamp in the output's integer domain (int8 or int16)."""
    qmin, qmax = INT_RANGES.get(out.dtype, INT_RANGES["int8"])
    return activation_range(
        int(op.options.get("fusedActivationFunction", 0)), out.scale, out.zero_point,
        qmin, qmax)


def fused_act_range_f32(op: Op) -> tuple[str, str]:
    """The fused activation's clamp for a float output, as C literals."""
    code = int(op.options.get("fusedActivationFunction", 0))
    ranges = {0: (-FLT_MAX, FLT_MAX), 1: (0.0, FLT_MAX), 2: (-1.0, 1.0), 3: (0.0, 6.0)}
    if code not in ranges:
        raise UnsupportedOp(f"op {op.index} ({op.name}): fused activation {code} on float "
                            "output is not supported")
    lo, hi = ranges[code]
    return c_float(lo), c_float(hi)


def operand_ptr(lo: LoweredOp, name: str, t: Tensor) -> str:
    """Pointer to an activation, or to a flash copy (array ``name``) of a constant operand."""
    if t.is_const:
        assert t.data is not None
        lo.arrays.append(CArray(C_TYPES[t.dtype], name, t.data.astype(np.int64).ravel()))
        return ptr(t, name)
    return ptr(t)


def single_dtype(graph: Graph, op: Op, tensors: list[Tensor], handled: frozenset[str]) -> str:
    """The op's activation dtype (its output's), refused unless every one of ``tensors``
    has it and ``handled`` lists it (mixed types, or a constant operand of another type,
    get past the registry's dtype check)."""
    kinds = {t.dtype for t in tensors}
    dtype = graph.tensors[op.outputs[0]].dtype
    if len(kinds) > 1 or dtype not in handled:
        raise UnsupportedType(f"op {op.index} ({op.name}) with {'/'.join(sorted(kinds))} "
                              "activations is not supported by the builtin runtime")
    return dtype


def refuse(op: Op, what: str) -> UnsupportedType:
    """The one-line refusal of an activation type combination the builtin C lacks."""
    return UnsupportedType(f"op {op.index} ({op.name}): {what} is not supported by the "
                           "builtin runtime")


def check_16x8(op: Op, weights: Tensor, *activations: Tensor) -> None:
    """int16 activations with zero point 0 and int8 weights (the 16x8 scheme)."""
    if weights.dtype != "int8":
        raise refuse(op, f"int16 activations with {weights.dtype} weights")
    for t in activations:
        if t.dtype != "int16" or t.zero_point != 0:
            raise refuse(op, f"{t.dtype} tensor {t.index} with zero point {t.zero_point} "
                         "in a 16x8 op")
