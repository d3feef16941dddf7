"""int16 (16x8) and float32 variants of the synthetic model builder.

:class:`DtypeModelBuilder` is :class:`support.synth_builder.ModelBuilder` with
another activation type:

* ``"int16"`` - the 16x8 scheme: int16 activations, symmetric (zero point 0),
  int8 weights, int64 biases for CONV_2D / DEPTHWISE_CONV_2D /
  FULLY_CONNECTED, SOFTMAX output scale 1/32768.
* ``"float32"`` - no quantization at all: float32 activations, weights and biases.

The op methods of the base class (conv2d, depthwise_conv2d, fully_connected,
softmax, reshape...) work unchanged; output zero points passed to them are
ignored for int16 and every quantization argument is ignored for float32.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from support.synth_builder import ModelBuilder, WeightScale

ACT_TYPES = {"int8": schema.TensorType.INT8, "int16": schema.TensorType.INT16,
             "float32": schema.TensorType.FLOAT32}


class DtypeModelBuilder(ModelBuilder):
    """A :class:`ModelBuilder` whose activations are ``act`` ("int8", "int16" or "float32")."""

    def __init__(self, act: str = "int16", seed: int = 0,
                 description: str = "support.synth_dtypes") -> None:
        if act not in ACT_TYPES:
            raise ValueError(f"activation type must be one of {sorted(ACT_TYPES)}, not {act!r}")
        super().__init__(seed, description)
        self.act = act

    @property
    def is_float(self) -> bool:
        return self.act == "float32"

    def input(self, shape: Sequence[int], scale: float = 1.0, zero_point: int = 0,
              name: str = "input") -> int:
        """Add a model input of the builder's activation type."""
        idx = self._activation_out(name, shape, scale, zero_point)
        self.inputs.append(idx)
        return idx

    def qparams(self, t: int) -> tuple[float, int]:
        if self.tensors[t].quantization is None:
            return 1.0, 0
        return super().qparams(t)

    def _activation_out(self, name: str, shape: Sequence[int], scale: float, zp: int) -> int:
        if self.is_float:
            return self.add_tensor(name, shape, schema.TensorType.FLOAT32)
        if self.act == "int16":
            if abs(scale - 1 / 256) < 1e-12 and zp == -128:  # the base class's softmax output
                scale = 1 / 32768
            zp = 0
        return self.add_tensor(name, shape, ACT_TYPES[self.act], scale=scale, zero_point=zp)

    def _weights(self, name: str, shape: Sequence[int], weight_scale: WeightScale,
                 channels: int, qdim: int) -> tuple[int, list[float]]:
        if not self.is_float:
            return super()._weights(name, shape, weight_scale, channels, qdim)
        w = self.rng.normal(0.0, 0.5, size=shape).astype(np.float32)
        return self.add_tensor(name, shape, schema.TensorType.FLOAT32, data=w), [1.0]

    def _bias(self, name: str, channels: int, input_scale: float, scales: list[float],
              bias_range: int, per_channel: bool,
              values: Sequence[int] | np.ndarray | None = None) -> int:
        if self.act == "int8":
            return super()._bias(name, channels, input_scale, scales, bias_range, per_channel,
                                 values)
        if self.is_float:
            data = (np.asarray(values, np.float32) if values is not None
                    else self.rng.normal(0.0, 0.5, size=channels).astype(np.float32))
            return self.add_tensor(name, [channels], schema.TensorType.FLOAT32,
                                   data=data.reshape(channels))
        if values is not None:
            data = np.asarray(values, dtype=np.int64).reshape(channels)
        else:
            data = self.rng.integers(-bias_range, bias_range + 1, size=channels, dtype=np.int64)
        bscales = [float(np.float32(input_scale) * np.float32(s)) for s in scales]
        return self.add_tensor(name, [channels], schema.TensorType.INT64, data=data,
                               scale=bscales if per_channel else bscales[0],
                               zero_point=[0] * len(bscales) if per_channel else 0)


def one_op(act: str, op: str, input_shape: Sequence[int], *, input_scale: float = 0.05,
           seed: int = 0, **kwargs: object) -> bytes:
    """A one-op model: ``op`` is a :class:`ModelBuilder` method name (e.g. "conv2d")."""
    b = DtypeModelBuilder(act, seed)
    x = b.input(input_shape, input_scale, 0)
    return b.build(getattr(b, op)(x, **kwargs))


def chain(act: str, input_shape: Sequence[int], layers: Sequence[tuple[str, dict]], *,
          input_scale: float = 0.05, seed: int = 0) -> bytes:
    """Several ops in sequence (like :func:`harness.synth.chain`) with ``act`` activations."""
    b = DtypeModelBuilder(act, seed)
    t = b.input(input_shape, input_scale, 0)
    for i, (op, kwargs) in enumerate(layers):
        kw = dict(kwargs)
        kw.setdefault("name", f"{i}_{op}")
        t = getattr(b, op)(t, **kw)
    return b.build(t)
