"""Compare stage: per output and per pair, how far two answers are apart.

A `Comparison` is truthy when it is within its tolerance and prints as a
readable one-line diff, so tests can `assert cmp, cmp`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .model import Tensor


@dataclass
class Comparison:
    a: str  # e.g. "device"
    b: str  # e.g. "litert-ref"
    output: str
    vectors: int
    elements: int
    exact_rate: float  # fraction of elements equal
    max_abs_lsb: int
    mismatches: int
    tolerance_lsb: int | None  # None: reported, not enforced
    first_mismatch: dict | None = None  # vector, flat index, a, b

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
                f"{self.max_abs_lsb} LSB (tolerance {self.tolerance_lsb}); first at vector "
                f"{fm.get('vector')} index {fm.get('index')}: {fm.get('a')} vs {fm.get('b')}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(enforced=self.enforced, passed=self.passed)
        return d


def compare_output(a_name: str, b_name: str, tensor: Tensor, a: np.ndarray, b: np.ndarray,
                   tolerance_lsb: int | None) -> Comparison:
    """Compare stacked outputs (vectors first) of one output tensor."""
    n = min(len(a), len(b))
    a64 = np.asarray(a[:n]).reshape(n, -1).astype(np.int64)
    b64 = np.asarray(b[:n]).reshape(n, -1).astype(np.int64)
    delta = np.abs(a64 - b64)
    bad = np.argwhere(delta != 0)
    first = None
    if len(bad):
        v, i = (int(x) for x in bad[0])
        first = {"vector": v, "index": i, "a": int(a64[v, i]), "b": int(b64[v, i])}
    return Comparison(
        a=a_name, b=b_name, output=tensor.name, vectors=n, elements=int(delta.size),
        exact_rate=float((delta == 0).mean()) if delta.size else 1.0,
        max_abs_lsb=int(delta.max()) if delta.size else 0, mismatches=len(bad),
        tolerance_lsb=tolerance_lsb, first_mismatch=first,
    )
