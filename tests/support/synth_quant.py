"""Float/int8 twins without TensorFlow: one float network written twice, as a float32
.tflite and as its int8 post-training quantization, with the same weights.

The quantization follows TFLite's full-integer scheme: activations asymmetric int8 from
the min/max a calibration set reaches (the range always holds 0), weights symmetric int8
in [-127, 127] per output channel (or per tensor), biases int32 with scale input scale x
weight scale. The float forward pass used for calibration is written out here (float64,
NumPy), independent of the harness. A layer can be made deliberately bad: `range_scale`
< 1 narrows its output's calibrated range (values beyond it clip), `per_tensor` quantizes
its weights with one scale for all channels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from support.synth_builder import ModelBuilder

OPS, OPTS, TT = schema.BuiltinOperator, schema.BuiltinOptions, schema.TensorType


@dataclass
class Dense:
    """FULLY_CONNECTED: y = x @ weights.T + bias, ReLU when `relu`."""

    weights: np.ndarray  # [units, depth]
    bias: np.ndarray  # [units]
    relu: bool = True
    per_tensor: bool = False
    range_scale: float = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        y = x.reshape(len(x), -1) @ self.weights.T + self.bias
        return np.maximum(y, 0.0) if self.relu else y


@dataclass
class Conv:
    """CONV_2D, 3x3-style SAME padding, stride 1; weights [O, KH, KW, I]."""

    weights: np.ndarray
    bias: np.ndarray
    relu: bool = True
    per_tensor: bool = False
    range_scale: float = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        _, kh, kw, _ = self.weights.shape
        n, h, w, c = x.shape
        ph, pw = (kh - 1) // 2, (kw - 1) // 2
        padded = np.zeros((n, h + kh - 1, w + kw - 1, c))
        padded[:, ph:ph + h, pw:pw + w] = x
        y = np.zeros((n, h, w, len(self.weights)))
        for i in range(kh):
            for j in range(kw):
                y += np.einsum("nhwc,oc->nhwo", padded[:, i:i + h, j:j + w], self.weights[:, i, j])
        y += self.bias
        return np.maximum(y, 0.0) if self.relu else y


Layer = Dense | Conv


def _range(values: np.ndarray, narrow: float = 1.0) -> tuple[float, float]:
    lo, hi = min(float(values.min()), 0.0) * narrow, max(float(values.max()), 0.0) * narrow
    return lo, hi if hi > lo else lo + 1e-3


def _asymmetric(lo: float, hi: float) -> tuple[float, int]:
    scale = (hi - lo) / 255.0
    return scale, int(np.clip(round(-128 - lo / scale), -128, 127))


def calibrate(layers: Sequence[Layer], data: np.ndarray) -> list[tuple[float, float]]:
    """The (min, max) of the input and of every layer's output over `data`; a layer's
    `range_scale` narrows its own."""
    ranges = [_range(data)]
    x = data
    for layer in layers:
        x = layer.forward(x)
        ranges.append(_range(x, layer.range_scale))
    return ranges


def forward(layers: Sequence[Layer], x: np.ndarray) -> list[np.ndarray]:
    """Every layer's float output for a batch `x`."""
    outs = []
    for layer in layers:
        x = layer.forward(x)
        outs.append(x)
    return outs


def _weights(layer: Layer) -> tuple[np.ndarray, list[float]]:
    w = layer.weights
    top = (np.max(np.abs(w)) * np.ones(len(w)) if layer.per_tensor
           else np.max(np.abs(w.reshape(len(w), -1)), axis=1))
    scales = [float(np.float32(max(t, 1e-9) / 127.0)) for t in top]
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = np.clip(np.round(w / np.array(scales).reshape(shape)), -127, 127).astype(np.int8)
    return q, scales[:1] if layer.per_tensor else scales


def layer_op(b: ModelBuilder, layer: Layer, x: int, w: int, bias: int, y: int,
             int8: bool) -> None:
    """The layer's op from tensor x to y, with its weights and bias tensors."""
    act = 1 if layer.relu else 0
    if isinstance(layer, Dense):
        opt = schema.FullyConnectedOptionsT()
        opt.fusedActivationFunction = act
        b.add_op(OPS.FULLY_CONNECTED, [x, w, bias], [y], OPTS.FullyConnectedOptions, opt,
                 version=(13 if not layer.per_tensor else 4) if int8 else 1)
        return
    opt = schema.Conv2DOptionsT()
    opt.padding, opt.strideH, opt.strideW = 0, 1, 1  # SAME
    opt.dilationHFactor, opt.dilationWFactor = 1, 1
    opt.fusedActivationFunction = act
    b.add_op(OPS.CONV_2D, [x, w, bias], [y], OPTS.Conv2DOptions, opt, version=3 if int8 else 1)


def _shapes(layers: Sequence[Layer], input_shape: Sequence[int]) -> list[list[int]]:
    shapes, shape = [], list(input_shape)
    for layer in layers:
        shape = ([shape[0], len(layer.weights)] if isinstance(layer, Dense)
                 else shape[:3] + [len(layer.weights)])
        shapes.append(shape)
    return shapes


def float_model(layers: Sequence[Layer], input_shape: Sequence[int], prefix: str = "l") -> bytes:
    """The float32 .tflite; another `prefix` names its tensors unlike the int8 twin's."""
    b = ModelBuilder(description="support.synth_quant float")
    x = b.add_tensor("input", input_shape, TT.FLOAT32)
    b.inputs.append(x)
    for k, (layer, shape) in enumerate(zip(layers, _shapes(layers, input_shape), strict=True)):
        w = b.add_tensor(f"{prefix}{k}/weights", layer.weights.shape, TT.FLOAT32,
                         data=layer.weights.astype(np.float32))
        bias = b.add_tensor(f"{prefix}{k}/bias", layer.bias.shape, TT.FLOAT32,
                            data=layer.bias.astype(np.float32))
        y = b.add_tensor(f"{prefix}{k}/out", shape, TT.FLOAT32)
        layer_op(b, layer, x, w, bias, y, int8=False)
        x = y
    return b.build(x)


def int8_model(layers: Sequence[Layer], input_shape: Sequence[int],
               calibration: np.ndarray) -> bytes:
    """The int8 .tflite, calibrated on `calibration` (a batch of float inputs)."""
    ranges = calibrate(layers, calibration)
    b = ModelBuilder(description="support.synth_quant int8")
    s_in, zp = _asymmetric(*ranges[0])
    x = b.input(input_shape, s_in, zp)
    for k, (layer, shape) in enumerate(zip(layers, _shapes(layers, input_shape), strict=True)):
        q, w_scales = _weights(layer)
        axis = dict(quantized_dimension=0)
        w = b.add_tensor(f"l{k}/weights", q.shape, TT.INT8, data=q, scale=w_scales,
                         zero_point=[0] * len(w_scales), **axis)
        b_scales = [float(np.float32(s_in) * np.float32(s)) for s in w_scales]
        per = np.array(b_scales * (len(layer.bias) if len(b_scales) == 1 else 1))
        qb = np.round(layer.bias / per).astype(np.int32)
        bias = b.add_tensor(f"l{k}/bias", qb.shape, TT.INT32, data=qb, scale=b_scales,
                            zero_point=[0] * len(b_scales))
        s_out, zp_out = _asymmetric(*ranges[k + 1])
        y = b.add_tensor(f"l{k}/out", shape, TT.INT8, scale=s_out, zero_point=zp_out)
        layer_op(b, layer, x, w, bias, y, int8=True)
        x, s_in = y, s_out
    return b.build(x)


def dense_stack(sizes: Sequence[int], seed: int = 0,
                overrides: dict[int, dict] | None = None) -> list[Dense]:
    """Dense layers of the given widths (sizes[0] is the input depth), He-scaled random
    weights, ReLU between them; `overrides` maps a layer index to Dense field values."""
    rng = np.random.default_rng(seed)
    layers = []
    for k, (depth, units) in enumerate(zip(sizes, sizes[1:], strict=False)):
        fields = dict(weights=rng.normal(0, np.sqrt(2 / depth), (units, depth)),
                      bias=rng.normal(0, 0.1, units), relu=k < len(sizes) - 2)
        fields.update((overrides or {}).get(k, {}))
        layers.append(Dense(**fields))
    return layers


def sparse_samples(count: int, depth: int = 32, active: int = 3, seed: int = 0) -> np.ndarray:
    """Inputs like spectrogram frames: `active` of `depth` features in [0, 1], the rest 0.
    Calibrated on these, a model sees random full-range vectors far outside its ranges."""
    rng = np.random.default_rng(seed)
    x = np.zeros((count, depth))
    for row in x:
        row[rng.choice(depth, active, replace=False)] = rng.uniform(0, 1, active)
    return x


def write_twin(folder: Path, layers: Sequence[Layer], input_shape: Sequence[int],
               calibration: np.ndarray, name: str = "twin") -> tuple[Path, Path]:
    """Write `name`_int8.tflite and `name`_float.tflite into `folder`; return both paths."""
    q, f = folder / f"{name}_int8.tflite", folder / f"{name}_float.tflite"
    q.write_bytes(int8_model(layers, input_shape, calibration))
    f.write_bytes(float_model(layers, input_shape))
    return q, f
