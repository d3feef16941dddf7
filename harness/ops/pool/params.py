"""Pooling geometry, worked out once per op and shared by the C emitter and the
numpy kernels."""

from __future__ import annotations

from dataclasses import dataclass

from harness.model.graph import Graph, Op
from harness.quant.geometry import conv_output_and_padding


@dataclass(frozen=True)
class PoolParams:
    """Where the windows of one pooling op fall."""

    stride: tuple[int, int]
    filter_hw: tuple[int, int]
    padding: int  # schema code: 0 SAME, 1 VALID
    pad_before: tuple[int, int]  # rows, columns of padding before the input


def pool_params(graph: Graph, op: Op) -> PoolParams:
    """Stride, window, padding code and the SAME padding before the input."""
    inp = graph.tensors[op.inputs[0]]
    (sh, sw), (fh, fw), pad = op.stride, op.filter_hw, op.padding
    _, pad_h = conv_output_and_padding(inp.shape[1], fh, sh, 1, pad)
    _, pad_w = conv_output_and_padding(inp.shape[2], fw, sw, 1, pad)
    return PoolParams((sh, sw), (fh, fw), pad, (pad_h, pad_w))
