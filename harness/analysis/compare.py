"""Compare stage: per output and per pair, how far two answers are apart.

A `Comparison` is truthy when it is within its tolerance and prints as a
readable one-line diff, so tests can `assert cmp, cmp`. Integer metrics are
in LSB of the output tensor; MAE, RMSE, cosine and SNR are in real units.
Real-valued references (numpy-float, float-model) are quantized with the
output's scale and zero point for the LSB metrics.

Float32 outputs are compared in ULPs instead (``unit`` "ULP"): each float is
mapped to its position on the ordered float32 line (adjacent floats are one
apart, +0 and -0 coincide), so a difference of 3 means two floats with two
others between them. The ``*_lsb`` fields then hold ULPs. Near zero, where
float spacing is tiny, a small absolute error can be many ULPs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from harness.model.graph import Tensor
from harness.ops.floating import dequantize

SCATTER_POINTS = 2000
#: Default tolerance of the enforced reference for float32 outputs, in ULPs
#: (integer outputs must be bit-exact: 0 LSB).
FLOAT_TOLERANCE_ULP = 4


def unit_of(tensor: Tensor) -> str:
    """"ULP" for float32 tensors, else "LSB"."""
    return "ULP" if tensor.dtype == "float32" else "LSB"


def default_tolerance(tensor: Tensor) -> int:
    """The enforced reference's default tolerance for this output: 0 LSB, or
    :data:`FLOAT_TOLERANCE_ULP` for float32."""
    return FLOAT_TOLERANCE_ULP if tensor.dtype == "float32" else 0


def float_ulp_keys(values: np.ndarray) -> np.ndarray:
    """float32 values as int64 positions on the ordered float line (ULP steps)."""
    bits = np.ascontiguousarray(np.asarray(values, np.float32)).view(np.int32).astype(np.int64)
    return np.where(bits < 0, -(bits & 0x7FFFFFFF), bits)


@dataclass
class Comparison:
    a: str  # e.g. "device"
    b: str  # e.g. "litert-ref"
    output: str
    vectors: int
    elements: int
    exact_rate: float  # fraction of elements equal (in LSB)
    max_abs_lsb: int
    mismatches: int
    tolerance_lsb: int | None  # None: reported, not enforced
    unit: str = "LSB"  # "ULP" for float32 outputs: every *_lsb field is then in ULPs
    first_mismatch: dict | None = None  # vector, flat index, a, b
    histogram: dict[str, int] = field(default_factory=dict)  # delta a-b in LSB -> count
    mae: float = 0.0
    rmse: float = 0.0
    cosine: float | None = None
    snr_db: float | None = None  # None when the two are identical (infinite SNR)
    top1_agreement: float | None = None  # classifier outputs only
    scatter: dict[str, list[float]] = field(default_factory=dict)

    @property
    def enforced(self) -> bool:
        return self.tolerance_lsb is not None

    @property
    def passed(self) -> bool:
        return not self.enforced or self.max_abs_lsb <= self.tolerance_lsb

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"{self.a} vs {self.b} [{self.output}]"
        if self.mismatches == 0:
            return f"{head}: bit-exact over {self.vectors} vectors"
        fm = self.first_mismatch or {}
        return (f"{head}: {self.mismatches}/{self.elements} elements differ, max |d| "
                f"{self.max_abs_lsb} {self.unit} (tolerance {self.tolerance_lsb}); first at vector "
                f"{fm.get('vector')} index {fm.get('index')}: {fm.get('a')} vs {fm.get('b')}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(enforced=self.enforced, passed=self.passed)
        return d


def to_lsb(tensor: Tensor, values: np.ndarray, real_valued: bool) -> np.ndarray:
    """Values in the tensor's integer domain (int64); real values are quantized.
    Float32 tensors give ULP positions (:func:`float_ulp_keys`)."""
    if tensor.dtype == "float32":
        return float_ulp_keys(values)
    if not real_valued:
        return np.asarray(values).astype(np.int64)
    if not tensor.quantized:
        return np.asarray(values).astype(np.int64)
    info = np.iinfo(np.dtype(tensor.dtype))
    q = np.round(np.asarray(values, np.float64) / tensor.scale) + tensor.zero_point
    return np.clip(q, info.min, info.max).astype(np.int64)


def to_real(tensor: Tensor, values: np.ndarray, real_valued: bool) -> np.ndarray:
    return np.asarray(values, np.float64) if real_valued else dequantize(tensor, values)


def _snr_db(signal: np.ndarray, noise: np.ndarray) -> float | None:
    p_noise = float(np.sum(noise * noise))
    if p_noise == 0.0:
        return None
    p_signal = float(np.sum(signal * signal))
    return 10.0 * math.log10(p_signal / p_noise) if p_signal > 0 else -math.inf


def _cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 1.0 if na == nb else None
    return float(np.dot(a, b) / (na * nb))


def compare_output(a_name: str, b_name: str, tensor: Tensor, a: np.ndarray, b: np.ndarray,
                   tolerance_lsb: int | None, *, a_real: bool = False, b_real: bool = False,
                   scatter: bool = False) -> Comparison:
    """Compare stacked outputs (vectors first) of one output tensor; b is the reference."""
    n = min(len(a), len(b))
    aq = to_lsb(tensor, np.asarray(a[:n]), a_real).reshape(n, -1)
    bq = to_lsb(tensor, np.asarray(b[:n]), b_real).reshape(n, -1)
    ar = to_real(tensor, np.asarray(a[:n]), a_real).reshape(n, -1)
    br = to_real(tensor, np.asarray(b[:n]), b_real).reshape(n, -1)
    delta = aq - bq
    bad = np.argwhere(delta != 0)
    first = None
    if len(bad):
        v, i = (int(x) for x in bad[0])
        if tensor.dtype == "float32":  # the values themselves, not their ULP positions
            first = {"vector": v, "index": i, "a": float(ar[v, i]), "b": float(br[v, i])}
        else:
            first = {"vector": v, "index": i, "a": int(aq[v, i]), "b": int(bq[v, i])}
    values, counts = np.unique(delta, return_counts=True)
    err = ar - br
    top1 = None
    if aq.shape[1] > 1:
        top1 = float(np.mean(np.argmax(ar, axis=1) == np.argmax(br, axis=1)))
    pts = {}
    if scatter and ar.size:
        pick = np.random.default_rng(0).permutation(ar.size)[:SCATTER_POINTS]
        pts = {"a": ar.ravel()[pick].round(6).tolist(), "b": br.ravel()[pick].round(6).tolist()}
    return Comparison(
        a=a_name, b=b_name, output=tensor.name, vectors=n, elements=int(delta.size),
        exact_rate=float((delta == 0).mean()) if delta.size else 1.0,
        max_abs_lsb=int(np.abs(delta).max()) if delta.size else 0, mismatches=len(bad),
        tolerance_lsb=tolerance_lsb, unit=unit_of(tensor), first_mismatch=first,
        histogram={str(int(v)): int(c) for v, c in zip(values, counts, strict=True)},
        mae=float(np.abs(err).mean()) if err.size else 0.0,
        rmse=float(np.sqrt((err * err).mean())) if err.size else 0.0,
        cosine=_cosine(ar.ravel(), br.ravel()), snr_db=_snr_db(br, err),
        top1_agreement=top1, scatter=pts,
    )
