"""Float64 NumPy implementations of the graph's ops, for the `numpy-float` reference.

Weights and biases are dequantized, activations stay float64 between ops: what
an engineer's "NumPy version" of the network computes, free of quantization.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.model import Graph, Op, Tensor
from harness.quant import conv_output_and_padding

FloatOp = Callable[[Graph, Op, list[np.ndarray | None]], np.ndarray]


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


def _activation(x: np.ndarray, code: int) -> np.ndarray:
    if code == 1:
        return np.maximum(x, 0.0)
    if code == 2:
        return np.clip(x, -1.0, 1.0)
    if code == 3:
        return np.clip(x, 0.0, 6.0)
    return x


def _pad_geometry(op: Op, in_hw: tuple[int, int], k_hw: tuple[int, int],
                  dil: tuple[int, int] = (1, 1)) -> tuple[int, int, int, int]:
    o = op.options
    oh, ph = conv_output_and_padding(in_hw[0], k_hw[0], int(o.get("strideH", 1)), dil[0],
                                     int(o.get("padding", 0)))
    ow, pw = conv_output_and_padding(in_hw[1], k_hw[1], int(o.get("strideW", 1)), dil[1],
                                     int(o.get("padding", 0)))
    return oh, ow, ph, pw


def _windows(x: np.ndarray, op: Op, k_hw: tuple[int, int], dil: tuple[int, int],
             fill: float) -> tuple[np.ndarray, np.ndarray]:
    """Patches [N, OH, OW, KH, KW, C] of padded x, and a validity mask [OH, OW, KH, KW]."""
    n, h, w, c = x.shape
    oh, ow, ph, pw = _pad_geometry(op, (h, w), k_hw, dil)
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


def conv2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    dil = (int(op.options.get("dilationHFactor", 1)), int(op.options.get("dilationWFactor", 1)))
    patches, _ = _windows(x, op, w.shape[1:3], dil, 0.0)
    y = np.einsum("nhwijc,oijc->nhwo", patches, w)
    if b is not None:
        y = y + b
    return _activation(y, int(op.options.get("fusedActivationFunction", 0)))


def depthwise_conv2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    dm = int(op.options.get("depthMultiplier", 1))
    dil = (int(op.options.get("dilationHFactor", 1)), int(op.options.get("dilationWFactor", 1)))
    patches, _ = _windows(x, op, w.shape[1:3], dil, 0.0)
    patches = np.repeat(patches, dm, axis=-1)  # input channel c feeds outputs c*dm .. c*dm+dm-1
    y = np.einsum("nhwijc,ijc->nhwc", patches, w[0])
    if b is not None:
        y = y + b
    return _activation(y, int(op.options.get("fusedActivationFunction", 0)))


def fully_connected(graph: Graph, op: Op, ins: list) -> np.ndarray:
    x, w, b = ins[0], ins[1], ins[2] if len(ins) > 2 else None
    y = x.reshape(-1, w.shape[1]) @ w.T
    if b is not None:
        y = y + b
    out_shape = graph.tensors[op.outputs[0]].shape
    return _activation(y, int(op.options.get("fusedActivationFunction", 0))).reshape(out_shape)


def _pool(graph: Graph, op: Op, ins: list, kind: str) -> np.ndarray:
    k = (int(op.options.get("filterHeight", 1)), int(op.options.get("filterWidth", 1)))
    patches, valid = _windows(ins[0], op, k, (1, 1), -np.inf if kind == "max" else 0.0)
    if kind == "max":
        y = patches.max(axis=(3, 4))
    else:
        y = patches.sum(axis=(3, 4)) / valid.sum(axis=(2, 3))[None, :, :, None]
    return _activation(y, int(op.options.get("fusedActivationFunction", 0)))


def average_pool2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    return _pool(graph, op, ins, "avg")


def max_pool2d(graph: Graph, op: Op, ins: list) -> np.ndarray:
    return _pool(graph, op, ins, "max")


def reshape(graph: Graph, op: Op, ins: list) -> np.ndarray:
    return ins[0].reshape(graph.tensors[op.outputs[0]].shape)


def softmax(graph: Graph, op: Op, ins: list) -> np.ndarray:
    z = float(op.options.get("beta", 1.0)) * ins[0]
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


FLOAT_OPS: dict[str, FloatOp] = {
    "CONV_2D": conv2d,
    "DEPTHWISE_CONV_2D": depthwise_conv2d,
    "FULLY_CONNECTED": fully_connected,
    "AVERAGE_POOL_2D": average_pool2d,
    "MAX_POOL_2D": max_pool2d,
    "RESHAPE": reshape,
    "SOFTMAX": softmax,
}
