"""Shared pieces of op lowering: the C arrays, params and call one op renders to.

Each lowering module (lower.py for the core ops, lower_elementwise.py,
lower_shape.py...) fills a :class:`LoweredOp` from a graph op.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import quant
from .errors import UnsupportedOp
from .model import Graph, Op, Tensor

ACT_NAMES = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
PAD_NAMES = {0: "SAME", 1: "VALID"}


@dataclass
class CArray:
    """A constant array placed in flash."""

    ctype: str
    name: str
    values: np.ndarray


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


def add_bias(lo: LoweredOp, p: str, graph: Graph, op: Op, k: int = 2) -> str:
    if len(op.inputs) > k and op.inputs[k] >= 0:
        b = graph.tensors[op.inputs[k]]
        if b.data is None:
            raise UnsupportedOp(f"op {op.index} ({op.name}) has a non-constant bias")
        lo.arrays.append(CArray("int32_t", f"{p}_bias", b.data.astype(np.int64).ravel()))
        return f"{p}_bias"
    return "NULL"


def fused_act_range(op: Op, out: Tensor) -> tuple[int, int]:
    return quant.activation_range(
        int(op.options.get("fusedActivationFunction", 0)), out.scale, out.zero_point
    )
