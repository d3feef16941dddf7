"""numpy-int8 against LiteRT: run a model in LiteRT keeping every tensor, and compare
outputs and intermediates with the op and the first differing element named.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter, OpResolverType

from harness.model.graph import Graph

# ---- helpers -----------------------------------------------------------------


def litert(model: bytes | Path, inputs: list[np.ndarray], *, all_tensors: bool = False,
           resolver: OpResolverType = OpResolverType.BUILTIN_REF
           ) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """LiteRT's outputs (and, with ``all_tensors``, every tensor it keeps)."""
    src = {"model_path": str(model)} if isinstance(model, Path) else {"model_content": model}
    it = Interpreter(**src, experimental_op_resolver_type=resolver,
                     experimental_preserve_all_tensors=all_tensors)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs, strict=True):
        it.set_tensor(d["index"], x)
    it.invoke()
    outs = [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]
    tensors = {}
    if all_tensors:
        for d in it.get_tensor_details():
            try:
                tensors[d["index"]] = it.get_tensor(d["index"]).copy()
            except ValueError:
                continue
    return outs, tensors


def assert_same(got: np.ndarray, want: np.ndarray, what: object) -> None:
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{what}: {got.dtype}{got.shape} != LiteRT {want.dtype}{want.shape}")
    if not np.array_equal(got, want):
        delta = np.abs(got.astype(np.int64) - want.astype(np.int64))
        first = tuple(int(i) for i in np.argwhere(delta)[0])
        pytest.fail(f"{what}: {np.count_nonzero(delta)} of {delta.size} differ, max "
                    f"|delta| {delta.max()}, first at {first} (numpy {got[first]}, "
                    f"LiteRT {want[first]})")


def assert_all_tensors(graph: Graph, got: dict[int, np.ndarray], want: dict[int, np.ndarray],
                       what: str) -> None:
    """Every activation tensor (not constants) equals LiteRT's."""
    activations = {t.index for t in graph.tensors if not t.is_const}
    assert set(got) == activations, f"{what}: tensors {sorted(got)} != {sorted(activations)}"
    for i in sorted(activations):
        assert i in want, f"{what}: LiteRT kept no tensor {i}"
        assert_same(got[i], want[i], f"{what} tensor {i} ({graph.tensors[i].name})")


def random_int8(rng: np.random.Generator, shape: list[int] | tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, size=shape, dtype=np.int8)
