"""Build small int8 .tflite models without TensorFlow: one-op and chained models, and
reading them back. The builder itself is in :mod:`support.synth_builder`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from support.synth_builder import (  # noqa: F401 - re-exported
    _DTYPES,
    FILE_IDENTIFIER,
    SCHEMA_VERSION,
    ModelBuilder,
    Pair,
    TensorInfo,
    WeightScale,
    padding_code,
)

# ---- one-op models ---------------------------------------------------------


def conv2d(input_shape: Sequence[int], out_channels: int, kernel: Pair, *,
           input_scale: float = 0.05, input_zp: int = 0, seed: int = 0,
           **kwargs: object) -> bytes:
    """One CONV_2D; ``kwargs`` are those of :meth:`ModelBuilder.conv2d`."""
    b = ModelBuilder(seed)
    x = b.input(input_shape, input_scale, input_zp)
    return b.build(b.conv2d(x, out_channels=out_channels, kernel=kernel, **kwargs))


def depthwise_conv2d(input_shape: Sequence[int], kernel: Pair, *, depth_multiplier: int = 1,
                     input_scale: float = 0.05, input_zp: int = 0, seed: int = 0,
                     **kwargs: object) -> bytes:
    """One DEPTHWISE_CONV_2D; see :meth:`ModelBuilder.depthwise_conv2d`."""
    b = ModelBuilder(seed)
    x = b.input(input_shape, input_scale, input_zp)
    return b.build(b.depthwise_conv2d(x, kernel=kernel, depth_multiplier=depth_multiplier,
                                      **kwargs))


def fully_connected(input_shape: Sequence[int], units: int, *, input_scale: float = 0.05,
                    input_zp: int = 0, seed: int = 0, **kwargs: object) -> bytes:
    """One FULLY_CONNECTED; see :meth:`ModelBuilder.fully_connected`."""
    b = ModelBuilder(seed)
    x = b.input(input_shape, input_scale, input_zp)
    return b.build(b.fully_connected(x, units=units, **kwargs))


def avg_pool2d(input_shape: Sequence[int], kernel: Pair, *, scale: float = 0.05,
               zero_point: int = 0, **kwargs: object) -> bytes:
    """One AVERAGE_POOL_2D; see :meth:`ModelBuilder.avg_pool2d`."""
    b = ModelBuilder()
    x = b.input(input_shape, scale, zero_point)
    return b.build(b.avg_pool2d(x, kernel=kernel, **kwargs))


def max_pool2d(input_shape: Sequence[int], kernel: Pair, *, scale: float = 0.05,
               zero_point: int = 0, **kwargs: object) -> bytes:
    """One MAX_POOL_2D; see :meth:`ModelBuilder.max_pool2d`."""
    b = ModelBuilder()
    x = b.input(input_shape, scale, zero_point)
    return b.build(b.max_pool2d(x, kernel=kernel, **kwargs))


def softmax(input_shape: Sequence[int], *, beta: float = 1.0, input_scale: float = 0.1,
            input_zp: int = 0) -> bytes:
    """One SOFTMAX over the last axis."""
    b = ModelBuilder()
    x = b.input(input_shape, input_scale, input_zp)
    return b.build(b.softmax(x, beta=beta))


def reshape(input_shape: Sequence[int], new_shape: Sequence[int], *, scale: float = 0.05,
            zero_point: int = 0) -> bytes:
    """One RESHAPE."""
    b = ModelBuilder()
    x = b.input(input_shape, scale, zero_point)
    return b.build(b.reshape(x, new_shape))


def chain(input_shape: Sequence[int], layers: Sequence[tuple[str, dict[str, object]]], *,
          input_scale: float = 0.05, input_zp: int = 0, seed: int = 0) -> bytes:
    """Several ops in sequence, e.g.
    ``chain([1, 8, 8, 3], [("conv2d", {"out_channels": 4, "kernel": 3}),
    ("max_pool2d", {"kernel": 2, "stride": 2}), ("reshape", {"new_shape": [1, 64]}),
    ("fully_connected", {"units": 10}), ("softmax", {})])``.
    Each name is a :class:`ModelBuilder` op method; tensor names get a layer index.
    """
    b = ModelBuilder(seed)
    t = b.input(input_shape, input_scale, input_zp)
    for i, (op, kwargs) in enumerate(layers):
        method = getattr(b, op, None)
        if op.startswith("_") or op in {"input", "build", "shape", "qparams"} or not callable(
                method):
            raise ValueError(f"unknown op {op!r}")
        kw = dict(kwargs)
        kw.setdefault("name", f"{i}_{op}")
        t = method(t, **kw)
    return b.build(t)


# ---- reading models back ---------------------------------------------------


def tensors(model: bytes) -> list[TensorInfo]:
    """Every tensor of subgraph 0 of ``model``, with constant data decoded."""
    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    out: list[TensorInfo] = []
    for i, t in enumerate(m.subgraphs[0].tensors):
        dtype = _DTYPES.get(t.type, np.dtype(np.uint8))
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        info = TensorInfo(i, t.name.decode() if isinstance(t.name, bytes) else str(t.name),
                          shape, dtype)
        q = t.quantization
        if q is not None and q.scale is not None:
            info.scales = [float(s) for s in q.scale]
            info.zero_points = [int(z) for z in q.zeroPoint]
            info.quantized_dimension = int(q.quantizedDimension)
        buf = m.buffers[t.buffer] if t.buffer < len(m.buffers) else None
        if buf is not None and buf.data is not None and len(buf.data) > 0:
            raw = np.asarray(buf.data, dtype=np.uint8).tobytes()
            info.data = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(
                dtype).reshape(shape)
        out.append(info)
    return out


def tensor_by_name(model: bytes, name: str) -> TensorInfo:
    """The tensor of ``model`` called ``name``."""
    for t in tensors(model):
        if t.name == name:
            return t
    raise KeyError(name)
