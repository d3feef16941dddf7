"""The core of support.synth: build small int8 .tflite models without TensorFlow.

Models are assembled with the flatbuffers object API of the TFLite schema
shipped in ``ai_edge_litert.schema_py_generated`` (schema version 3, file
identifier ``TFL3``). :class:`ModelBuilder` is the generic core (buffers,
tensors, operators) plus one method per supported op; each method takes the
index of its input tensor and returns the index of its output tensor, so ops
chain into one model. The module-level functions build one-op models.

Weights are random int8 in ``[-127, 127]`` (symmetric, zero point 0) and
biases random int32 in ``[-bias_range, bias_range]`` (or ``bias_values``) with
scale ``input_scale * weight_scale`` (float32 product), drawn from a
``numpy.random.Generator`` seeded by ``seed``. A ``weight_scale`` given as a
sequence makes the weights per-channel (one scale per output channel); a
single float makes them per-tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.quant.geometry import PADDING_SAME, PADDING_VALID, conv_output_and_padding

SCHEMA_VERSION = 3
FILE_IDENTIFIER = b"TFL3"

_DTYPES: dict[int, np.dtype] = {
    schema.TensorType.FLOAT32: np.dtype(np.float32),
    schema.TensorType.INT32: np.dtype(np.int32),
    schema.TensorType.INT8: np.dtype(np.int8),
    schema.TensorType.UINT8: np.dtype(np.uint8),
    schema.TensorType.INT16: np.dtype(np.int16),
    schema.TensorType.INT64: np.dtype(np.int64),
}

Pair = int | tuple[int, int]
WeightScale = float | Sequence[float]


def _pair(v: Pair) -> tuple[int, int]:
    """``v`` as (height, width); an int applies to both."""
    if isinstance(v, int):
        return v, v
    h, w = v
    return int(h), int(w)


def padding_code(padding: int | str) -> int:
    """Schema Padding code from 0/1 or "SAME"/"VALID"."""
    if isinstance(padding, str):
        codes = {"SAME": PADDING_SAME, "VALID": PADDING_VALID}
        try:
            return codes[padding.upper()]
        except KeyError:
            raise ValueError(f"unknown padding {padding!r}") from None
    if padding not in (PADDING_SAME, PADDING_VALID):
        raise ValueError(f"unknown padding code {padding}")
    return int(padding)


@dataclass
class TensorInfo:
    """A tensor of a built (or loaded) model, with its constant data if any."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    scales: list[float] = field(default_factory=list)
    zero_points: list[int] = field(default_factory=list)
    quantized_dimension: int = 0
    data: np.ndarray | None = None


class ModelBuilder:
    """Assemble a one-subgraph TFLite model tensor by tensor, op by op."""

    def __init__(self, seed: int = 0, description: str = "support.synth") -> None:
        self.rng = np.random.default_rng(seed)
        self.description = description
        self.buffers: list[schema.BufferT] = [schema.BufferT()]  # 0: the empty sentinel
        self.tensors: list[schema.TensorT] = []
        self.operators: list[schema.OperatorT] = []
        self.opcodes: list[schema.OperatorCodeT] = []
        self._opcode_index: dict[tuple[int, int], int] = {}
        self.inputs: list[int] = []

    # ---- generic core ------------------------------------------------------

    def add_buffer(self, data: np.ndarray | bytes | None = None) -> int:
        """Add a buffer (little-endian bytes of ``data``) and return its index."""
        buf = schema.BufferT()
        if isinstance(data, np.ndarray):
            raw = data.astype(data.dtype.newbyteorder("<")).tobytes()
            buf.data = np.frombuffer(raw, dtype=np.uint8)
        elif data is not None:
            buf.data = np.frombuffer(bytes(data), dtype=np.uint8)
        self.buffers.append(buf)
        return len(self.buffers) - 1

    def add_tensor(
        self,
        name: str,
        shape: Sequence[int],
        tensor_type: int,
        *,
        data: np.ndarray | None = None,
        scale: float | Sequence[float] | None = None,
        zero_point: int | Sequence[int] | None = None,
        quantized_dimension: int = 0,
    ) -> int:
        """Add a tensor; constant if ``data`` is given. Returns its index.

        ``scale``/``zero_point`` given as sequences make a per-axis
        quantization along ``quantized_dimension``.
        """
        t = schema.TensorT()
        t.name = name
        t.shape = [int(d) for d in shape]
        t.type = tensor_type
        if data is not None:
            want = _DTYPES[tensor_type]
            arr = np.asarray(data)
            if arr.dtype != want or tuple(arr.shape) != tuple(t.shape):
                raise ValueError(f"{name}: data {arr.dtype}{arr.shape} != {want}{tuple(t.shape)}")
            t.buffer = self.add_buffer(arr)
        else:
            t.buffer = self.add_buffer()
        if scale is not None:
            q = schema.QuantizationParametersT()
            scales = [scale] if np.ndim(scale) == 0 else list(scale)
            if zero_point is None:
                zps = [0] * len(scales)
            elif isinstance(zero_point, int | np.integer):
                zps = [int(zero_point)] * len(scales)
            else:
                zps = [int(z) for z in zero_point]
            q.scale = [float(np.float32(s)) for s in scales]
            q.zeroPoint = zps
            q.quantizedDimension = quantized_dimension
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def add_op(
        self,
        builtin_code: int,
        inputs: Sequence[int],
        outputs: Sequence[int],
        options_type: int = 0,
        options: object | None = None,
        version: int = 1,
    ) -> int:
        """Add an operator (``-1`` in ``inputs`` marks an absent optional input)."""
        key = (builtin_code, version)
        if key not in self._opcode_index:
            code = schema.OperatorCodeT()
            code.builtinCode = builtin_code
            code.deprecatedBuiltinCode = min(builtin_code, 127)
            code.version = version
            self._opcode_index[key] = len(self.opcodes)
            self.opcodes.append(code)
        op = schema.OperatorT()
        op.opcodeIndex = self._opcode_index[key]
        op.inputs = [int(i) for i in inputs]
        op.outputs = [int(o) for o in outputs]
        op.builtinOptionsType = options_type
        op.builtinOptions = options
        self.operators.append(op)
        return len(self.operators) - 1

    def input(self, shape: Sequence[int], scale: float, zero_point: int,
              name: str = "input") -> int:
        """Add a model input (int8 activation tensor)."""
        idx = self.add_tensor(name, shape, schema.TensorType.INT8, scale=scale,
                              zero_point=zero_point)
        self.inputs.append(idx)
        return idx

    def build(self, outputs: Sequence[int] | int) -> bytes:
        """Serialize the model with ``outputs`` as the subgraph outputs."""
        outs = [outputs] if isinstance(outputs, int) else list(outputs)
        sub = schema.SubGraphT()
        sub.tensors = self.tensors
        sub.inputs = list(self.inputs)
        sub.outputs = outs
        sub.operators = self.operators
        sub.name = "main"
        model = schema.ModelT()
        model.version = SCHEMA_VERSION
        model.operatorCodes = self.opcodes
        model.subgraphs = [sub]
        model.description = self.description
        model.buffers = self.buffers
        fbb = flatbuffers.Builder(1024)
        fbb.Finish(model.Pack(fbb), file_identifier=FILE_IDENTIFIER)
        return bytes(fbb.Output())

    # ---- helpers -----------------------------------------------------------

    def shape(self, t: int) -> list[int]:
        """Shape of tensor ``t``."""
        return list(self.tensors[t].shape)

    def qparams(self, t: int) -> tuple[float, int]:
        """Per-tensor (scale, zero point) of tensor ``t``."""
        q = self.tensors[t].quantization
        return float(q.scale[0]), int(q.zeroPoint[0])

    def _activation_out(self, name: str, shape: Sequence[int], scale: float, zp: int) -> int:
        return self.add_tensor(name, shape, schema.TensorType.INT8, scale=scale, zero_point=zp)

    def _weights(self, name: str, shape: Sequence[int], weight_scale: WeightScale,
                 channels: int, qdim: int) -> tuple[int, list[float]]:
        per_channel = np.ndim(weight_scale) != 0
        scales = list(weight_scale) if per_channel else [float(weight_scale)]
        if per_channel and len(scales) != channels:
            raise ValueError(f"{name}: {len(scales)} weight scales for {channels} channels")
        w = self.rng.integers(-127, 128, size=shape, dtype=np.int8)
        idx = self.add_tensor(name, shape, schema.TensorType.INT8, data=w,
                              scale=scales if per_channel else scales[0],
                              zero_point=[0] * len(scales) if per_channel else 0,
                              quantized_dimension=qdim)
        return idx, scales

    def _bias(self, name: str, channels: int, input_scale: float, scales: list[float],
              bias_range: int, per_channel: bool,
              values: Sequence[int] | np.ndarray | None = None) -> int:
        if values is not None:
            data = np.asarray(values, dtype=np.int64).astype(np.int32).reshape(channels)
        elif bias_range <= 0:
            data = np.zeros(channels, dtype=np.int32)
        else:
            data = self.rng.integers(-bias_range, bias_range + 1, size=channels,
                                     dtype=np.int64).astype(np.int32)
        bscales = [float(np.float32(input_scale) * np.float32(s)) for s in scales]
        return self.add_tensor(name, [channels], schema.TensorType.INT32, data=data,
                               scale=bscales if per_channel else bscales[0],
                               zero_point=[0] * len(bscales) if per_channel else 0)

    # ---- ops ---------------------------------------------------------------

    def conv2d(self, x: int, *, out_channels: int, kernel: Pair, stride: Pair = 1,
               dilation: Pair = 1, padding: int | str = "SAME", activation: int = 0,
               weight_scale: WeightScale = 0.02, output_scale: float = 0.05,
               output_zp: int = 0, bias: bool = True, bias_range: int = 2000,
               bias_values: Sequence[int] | None = None, name: str = "conv") -> int:
        """CONV_2D on NHWC ``x``; filter OHWI, per-channel along dim 0.

        ``bias=False`` gives a two-input op, which LiteRT's int8 CONV_2D rejects
        (it needs a bias); DEPTHWISE_CONV_2D and FULLY_CONNECTED accept it."""
        n, h, w, c = self.shape(x)
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        dh, dw = _pair(dilation)
        pad = padding_code(padding)
        oh, _ = conv_output_and_padding(h, kh, sh, dh, pad)
        ow, _ = conv_output_and_padding(w, kw, sw, dw, pad)
        in_scale, _ = self.qparams(x)
        wt, scales = self._weights(f"{name}/filter", [out_channels, kh, kw, c], weight_scale,
                                   out_channels, 0)
        per_channel = np.ndim(weight_scale) != 0
        b = (self._bias(f"{name}/bias", out_channels, in_scale, scales, bias_range, per_channel,
                        bias_values)
             if bias else -1)
        y = self._activation_out(name, [n, oh, ow, out_channels], output_scale, output_zp)
        opt = schema.Conv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = pad, sh, sw
        opt.dilationHFactor, opt.dilationWFactor = dh, dw
        opt.fusedActivationFunction = activation
        # Without a bias the conv ops take two inputs (LiteRT rejects a -1 bias).
        self.add_op(schema.BuiltinOperator.CONV_2D, [x, wt] + ([b] if bias else []), [y],
                    schema.BuiltinOptions.Conv2DOptions, opt, version=3)
        return y

    def depthwise_conv2d(self, x: int, *, kernel: Pair, depth_multiplier: int = 1,
                         stride: Pair = 1, dilation: Pair = 1, padding: int | str = "SAME",
                         activation: int = 0, weight_scale: WeightScale = 0.02,
                         output_scale: float = 0.05, output_zp: int = 0, bias: bool = True,
                         bias_range: int = 2000, bias_values: Sequence[int] | None = None,
                         name: str = "dwconv") -> int:
        """DEPTHWISE_CONV_2D on NHWC ``x``; filter [1, H, W, C*m], per-channel along dim 3."""
        n, h, w, c = self.shape(x)
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        dh, dw = _pair(dilation)
        pad = padding_code(padding)
        oc = c * depth_multiplier
        oh, _ = conv_output_and_padding(h, kh, sh, dh, pad)
        ow, _ = conv_output_and_padding(w, kw, sw, dw, pad)
        in_scale, _ = self.qparams(x)
        wt, scales = self._weights(f"{name}/filter", [1, kh, kw, oc], weight_scale, oc, 3)
        per_channel = np.ndim(weight_scale) != 0
        b = (self._bias(f"{name}/bias", oc, in_scale, scales, bias_range, per_channel,
                        bias_values)
             if bias else -1)
        y = self._activation_out(name, [n, oh, ow, oc], output_scale, output_zp)
        opt = schema.DepthwiseConv2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = pad, sh, sw
        opt.dilationHFactor, opt.dilationWFactor = dh, dw
        opt.depthMultiplier = depth_multiplier
        opt.fusedActivationFunction = activation
        self.add_op(schema.BuiltinOperator.DEPTHWISE_CONV_2D, [x, wt] + ([b] if bias else []),
                    [y],
                    schema.BuiltinOptions.DepthwiseConv2DOptions, opt, version=3)
        return y

    def fully_connected(self, x: int, *, units: int, activation: int = 0,
                        weight_scale: WeightScale = 0.02, output_scale: float = 0.05,
                        output_zp: int = 0, bias: bool = True, bias_range: int = 2000,
                        bias_values: Sequence[int] | None = None, name: str = "fc") -> int:
        """FULLY_CONNECTED: ``x`` [batches, depth] (or any shape whose last
        dimension is the depth) times weights [units, depth]."""
        shape = self.shape(x)
        depth = shape[-1]
        batches = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        in_scale, _ = self.qparams(x)
        wt, scales = self._weights(f"{name}/weights", [units, depth], weight_scale, units, 0)
        per_channel = np.ndim(weight_scale) != 0
        b = (self._bias(f"{name}/bias", units, in_scale, scales, bias_range, per_channel,
                        bias_values)
             if bias else -1)
        y = self._activation_out(name, [batches, units], output_scale, output_zp)
        opt = schema.FullyConnectedOptionsT()
        opt.fusedActivationFunction = activation
        self.add_op(schema.BuiltinOperator.FULLY_CONNECTED, [x, wt, b], [y],
                    schema.BuiltinOptions.FullyConnectedOptions, opt,
                    version=13 if per_channel else 4)
        return y

    def _pool(self, op: int, x: int, kernel: Pair, stride: Pair, padding: int | str,
              activation: int, name: str) -> int:
        n, h, w, c = self.shape(x)
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        pad = padding_code(padding)
        oh, _ = conv_output_and_padding(h, kh, sh, 1, pad)
        ow, _ = conv_output_and_padding(w, kw, sw, 1, pad)
        scale, zp = self.qparams(x)
        y = self._activation_out(name, [n, oh, ow, c], scale, zp)
        opt = schema.Pool2DOptionsT()
        opt.padding, opt.strideH, opt.strideW = pad, sh, sw
        opt.filterHeight, opt.filterWidth = kh, kw
        opt.fusedActivationFunction = activation
        self.add_op(op, [x], [y], schema.BuiltinOptions.Pool2DOptions, opt, version=2)
        return y

    def avg_pool2d(self, x: int, *, kernel: Pair, stride: Pair = 1,
                   padding: int | str = "VALID", activation: int = 0,
                   name: str = "avgpool") -> int:
        """AVERAGE_POOL_2D; the output shares the input's quantization."""
        return self._pool(schema.BuiltinOperator.AVERAGE_POOL_2D, x, kernel, stride, padding,
                          activation, name)

    def max_pool2d(self, x: int, *, kernel: Pair, stride: Pair = 1,
                   padding: int | str = "VALID", activation: int = 0,
                   name: str = "maxpool") -> int:
        """MAX_POOL_2D; the output shares the input's quantization."""
        return self._pool(schema.BuiltinOperator.MAX_POOL_2D, x, kernel, stride, padding,
                          activation, name)

    def softmax(self, x: int, *, beta: float = 1.0, name: str = "softmax") -> int:
        """SOFTMAX over the last axis; output scale 1/256, zero point -128."""
        y = self._activation_out(name, self.shape(x), 1.0 / 256.0, -128)
        opt = schema.SoftmaxOptionsT()
        opt.beta = float(beta)
        self.add_op(schema.BuiltinOperator.SOFTMAX, [x], [y],
                    schema.BuiltinOptions.SoftmaxOptions, opt, version=2)
        return y

    def reshape(self, x: int, new_shape: Sequence[int], name: str = "reshape") -> int:
        """RESHAPE to ``new_shape`` (no -1 allowed); quantization is kept."""
        new = [int(d) for d in new_shape]
        if int(np.prod(new)) != int(np.prod(self.shape(x))):
            raise ValueError(f"cannot reshape {self.shape(x)} to {new}")
        scale, zp = self.qparams(x)
        shp = self.add_tensor(f"{name}/shape", [len(new)], schema.TensorType.INT32,
                              data=np.array(new, dtype=np.int32))
        y = self._activation_out(name, new, scale, zp)
        opt = schema.ReshapeOptionsT()
        opt.newShape = new
        self.add_op(schema.BuiltinOperator.RESHAPE, [x, shp], [y],
                    schema.BuiltinOptions.ReshapeOptions, opt, version=1)
        return y
