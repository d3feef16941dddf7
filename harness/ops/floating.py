"""Helpers of the numpy-float kernels: real values of quantized tensors, fused
activations and window gathering in float64."""

from __future__ import annotations

import numpy as np

from harness.model.graph import Graph, Op, Tensor
from harness.quant.geometry import conv_output_and_padding


def dequantize(t: Tensor, q: np.ndarray) -> np.ndarray:
    """Real values of a quantized array (per-tensor or per-channel)."""
    q = np.asarray(q, np.float64)
    if not t.quantized:
        return q
    if t.per_channel:
        axis = t.quantized_dimension
        if not 0 <= axis < q.ndim or q.shape[axis] != len(t.scales):
            # Some converters store an out-of-range axis (TFLM tolerates it): use the
            # axis whose length matches the number of scales.
            axis = next(i for i, n in enumerate(q.shape) if n == len(t.scales))
        shape = [1] * q.ndim
        shape[axis] = -1
        scales = t.scales.astype(np.float64).reshape(shape)
        zps = t.zero_points.astype(np.float64).reshape(shape)
        return (q - zps) * scales
    return (q - t.zero_point) * float(t.scale)


def const_value(graph: Graph, index: int) -> np.ndarray | None:
    """A constant tensor's real value; biases use their own (per-channel) scales."""
    if index < 0:
        return None
    t = graph.tensors[index]
    return None if t.data is None else dequantize(t, t.data)


def activation(x: np.ndarray, code: int) -> np.ndarray:
    if code == 1:
        return np.maximum(x, 0.0)
    if code == 2:
        return np.clip(x, -1.0, 1.0)
    if code == 3:
        return np.clip(x, 0.0, 6.0)
    return x


def pad_geometry(op: Op, in_hw: tuple[int, int], k_hw: tuple[int, int],
                  dil: tuple[int, int] = (1, 1)) -> tuple[int, int, int, int]:
    o = op.options
    oh, ph = conv_output_and_padding(in_hw[0], k_hw[0], int(o.get("strideH", 1)), dil[0],
                                     int(o.get("padding", 0)))
    ow, pw = conv_output_and_padding(in_hw[1], k_hw[1], int(o.get("strideW", 1)), dil[1],
                                     int(o.get("padding", 0)))
    return oh, ow, ph, pw


def windows(x: np.ndarray, op: Op, k_hw: tuple[int, int], dil: tuple[int, int],
             fill: float) -> tuple[np.ndarray, np.ndarray]:
    """Patches [N, OH, OW, KH, KW, C] of padded x, and a validity mask [OH, OW, KH, KW]."""
    n, h, w, c = x.shape
    oh, ow, ph, pw = pad_geometry(op, (h, w), k_hw, dil)
    sh, sw = int(op.options.get("strideH", 1)), int(op.options.get("strideW", 1))
    kh, kw = k_hw
    rows = (np.arange(oh) * sh - ph)[:, None] + np.arange(kh) * dil[0]  # [OH, KH]
    cols = (np.arange(ow) * sw - pw)[:, None] + np.arange(kw) * dil[1]  # [OW, KW]
    valid = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[None, :,
                                                                                        None, :]
    padded = np.full((n, h + 1, w + 1, c), fill)  # index -1 and h/w land on the fill row
    padded[:, :h, :w] = x
    r = np.where((rows >= 0) & (rows < h), rows, h)
    q = np.where((cols >= 0) & (cols < w), cols, w)
    patches = padded[:, r[:, None, :, None], q[None, :, None, :], :]  # [N, OH, OW, KH, KW, C]
    return patches, valid
