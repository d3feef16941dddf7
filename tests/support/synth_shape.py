"""Synthetic models for the shape and data-movement ops (no TensorFlow needed).

:class:`ShapeModelBuilder` is :class:`support.synth_builder.ModelBuilder` with
activations of type ``act`` ("int8", or "int16" for the 16x8 scheme: zero
point 0, int8 weights, int64 bias) and one method per op: CONCATENATION,
PAD / PADV2, MEAN, STRIDED_SLICE, SQUEEZE, EXPAND_DIMS, TRANSPOSE,
TRANSPOSE_CONV, BATCH_MATMUL. Each takes tensor indices and returns the
output's index, so ops chain; output shapes are computed here the way
TFLite's shape inference does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from harness.ops.shape.strided_slice import slice_axis
from harness.quant.geometry import PADDING_SAME
from support.synth_builder import ModelBuilder, Pair, WeightScale, _pair, padding_code

_ACT = {"int8": schema.TensorType.INT8, "int16": schema.TensorType.INT16}
_OP = schema.BuiltinOperator
_OPT = schema.BuiltinOptions


class ShapeModelBuilder(ModelBuilder):
    """A :class:`ModelBuilder` with the shape ops, for int8 or int16 activations."""

    def __init__(self, seed: int = 0, act: str = "int8",
                 description: str = "support.synth_shape") -> None:
        if act not in _ACT:
            raise ValueError(f"act must be one of {sorted(_ACT)}, not {act!r}")
        super().__init__(seed, description)
        self.act = act

    def input(self, shape: Sequence[int], scale: float, zero_point: int = 0,
              name: str = "input") -> int:
        idx = self._activation_out(name, shape, scale, zero_point)
        self.inputs.append(idx)
        return idx

    def _activation_out(self, name: str, shape: Sequence[int], scale: float, zp: int) -> int:
        zp = 0 if self.act == "int16" else zp
        return self.add_tensor(name, shape, _ACT[self.act], scale=scale, zero_point=zp)

    def _i32(self, name: str, values: Sequence[int], shape: Sequence[int] | None = None) -> int:
        arr = np.asarray(values, np.int32)
        arr = arr.reshape(shape) if shape is not None else arr
        return self.add_tensor(name, arr.shape, schema.TensorType.INT32, data=arr)

    def _same_quant(self, x: int, name: str, shape: Sequence[int]) -> int:
        scale, zp = self.qparams(x)
        return self._activation_out(name, shape, scale, zp)

    # ---- data movement -------------------------------------------------------

    def concatenation(self, xs: Sequence[int], *, axis: int, name: str = "concat") -> int:
        """CONCATENATION along ``axis``; the output shares the first input's quantization."""
        shapes = [self.shape(x) for x in xs]
        rank = len(shapes[0])
        ax = axis % rank
        out = list(shapes[0])
        out[ax] = sum(s[ax] for s in shapes)
        y = self._same_quant(xs[0], name, out)
        opt = schema.ConcatenationOptionsT()
        opt.axis = axis
        self.add_op(_OP.CONCATENATION, list(xs), [y], _OPT.ConcatenationOptions, opt, version=2)
        return y

    def pad(self, x: int, paddings: Sequence[tuple[int, int]], *,
            constant: int | None = None, name: str = "pad") -> int:
        """PAD (or PADV2 when ``constant`` is given) with [rank, 2] ``paddings``."""
        out = [d + a + b for d, (a, b) in zip(self.shape(x), paddings, strict=True)]
        pads = self._i32(f"{name}/paddings", [v for p in paddings for v in p],
                         [len(paddings), 2])
        y = self._same_quant(x, name, out)
        version = 4 if self.act == "int16" else 3
        if constant is None:
            self.add_op(_OP.PAD, [x, pads], [y], _OPT.PadOptions, schema.PadOptionsT(),
                        version=version)
            return y
        scale, zp = self.qparams(x)
        dt = np.int16 if self.act == "int16" else np.int8
        c = self.add_tensor(f"{name}/constant", [1], _ACT[self.act],
                            data=np.array([constant], dt), scale=scale, zero_point=zp)
        self.add_op(_OP.PADV2, [x, pads, c], [y], _OPT.PadV2Options, schema.PadV2OptionsT(),
                    version=2)
        return y

    def strided_slice(self, x: int, begin: Sequence[int], end: Sequence[int],
                      strides: Sequence[int], *, begin_mask: int = 0, end_mask: int = 0,
                      shrink_axis_mask: int = 0, name: str = "slice") -> int:
        """STRIDED_SLICE; the output shape follows TFLite's rules (shrunk axes dropped)."""
        shape = self.shape(x)
        out = []
        for k, dim in enumerate(shape):
            masks = (bool(begin_mask >> k & 1), bool(end_mask >> k & 1),
                     bool(shrink_axis_mask >> k & 1))
            _, n = slice_axis(dim, begin[k], end[k], strides[k], masks)
            if not masks[2]:
                out.append(n)
        ins = [x, self._i32(f"{name}/begin", begin), self._i32(f"{name}/end", end),
               self._i32(f"{name}/strides", strides)]
        y = self._same_quant(x, name, out)
        opt = schema.StridedSliceOptionsT()
        opt.beginMask, opt.endMask, opt.shrinkAxisMask = begin_mask, end_mask, shrink_axis_mask
        self.add_op(_OP.STRIDED_SLICE, ins, [y], _OPT.StridedSliceOptions, opt,
                    version=4 if self.act == "int16" else 2)
        return y

    def squeeze(self, x: int, axes: Sequence[int], name: str = "squeeze") -> int:
        """SQUEEZE the given size-1 axes."""
        shape = self.shape(x)
        drop = {a % len(shape) for a in axes}
        y = self._same_quant(x, name, [d for k, d in enumerate(shape) if k not in drop])
        opt = schema.SqueezeOptionsT()
        opt.squeezeDims = list(axes)
        self.add_op(_OP.SQUEEZE, [x], [y], _OPT.SqueezeOptions, opt, version=1)
        return y

    def expand_dims(self, x: int, axis: int, name: str = "expand") -> int:
        """EXPAND_DIMS: a size-1 axis at ``axis``."""
        shape = self.shape(x)
        pos = axis if axis >= 0 else len(shape) + 1 + axis
        y = self._same_quant(x, name, shape[:pos] + [1] + shape[pos:])
        a = self._i32(f"{name}/axis", [axis])
        self.add_op(_OP.EXPAND_DIMS, [x, a], [y], _OPT.ExpandDimsOptions,
                    schema.ExpandDimsOptionsT(), version=1)
        return y

    def transpose(self, x: int, perm: Sequence[int], name: str = "transpose") -> int:
        """TRANSPOSE by ``perm``."""
        shape = self.shape(x)
        y = self._same_quant(x, name, [shape[p] for p in perm])
        p = self._i32(f"{name}/perm", perm)
        self.add_op(_OP.TRANSPOSE, [x, p], [y], _OPT.TransposeOptions,
                    schema.TransposeOptionsT(), version=2)
        return y

    # ---- arithmetic ----------------------------------------------------------

    def mean(self, x: int, axes: Sequence[int], *, keep_dims: bool = True,
             output_scale: float | None = None, output_zp: int | None = None,
             name: str = "mean") -> int:
        """MEAN over ``axes``; the output quantization may differ from the input's."""
        shape = self.shape(x)
        red = {a % len(shape) for a in axes}
        out = [1 if k in red else d for k, d in enumerate(shape)] if keep_dims else \
            [d for k, d in enumerate(shape) if k not in red]
        scale, zp = self.qparams(x)
        y = self._activation_out(name, out, scale if output_scale is None else output_scale,
                                 zp if output_zp is None else output_zp)
        a = self._i32(f"{name}/axis", axes)
        opt = schema.ReducerOptionsT()
        opt.keepDims = keep_dims
        self.add_op(_OP.MEAN, [x, a], [y], _OPT.ReducerOptions, opt, version=2)
        return y

    def transpose_conv(self, x: int, *, out_channels: int, kernel: Pair, stride: Pair = 1,
                       padding: int | str = "SAME", activation: int = 0,
                       weight_scale: WeightScale = 0.02, output_scale: float = 0.05,
                       output_zp: int = 0, bias: bool = True, bias_range: int = 2000,
                       name: str = "tconv") -> int:
        """TRANSPOSE_CONV; output H = in * stride (SAME) or (in - 1) * stride + k (VALID)."""
        n, h, w, c = self.shape(x)
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        pad = padding_code(padding)
        oh, ow = ((h * sh, w * sw) if pad == PADDING_SAME
                  else ((h - 1) * sh + kh, (w - 1) * sw + kw))
        in_scale, _ = self.qparams(x)
        wt, scales = self._weights(f"{name}/filter", [out_channels, kh, kw, c], weight_scale,
                                   out_channels, 0)
        shp = self._i32(f"{name}/output_shape", [n, oh, ow, out_channels])
        ins = [shp, wt, x]
        if bias:
            ins.append(self._bias_any(f"{name}/bias", out_channels, in_scale, scales,
                                      bias_range, np.ndim(weight_scale) != 0))
        y = self._activation_out(name, [n, oh, ow, out_channels], output_scale, output_zp)
        opt = schema.TransposeConvOptionsT()
        opt.padding, opt.strideH, opt.strideW = pad, sh, sw
        opt.fusedActivationFunction = activation
        self.add_op(_OP.TRANSPOSE_CONV, ins, [y], _OPT.TransposeConvOptions, opt,
                    version=4 if activation else 3)
        return y

    def _bias_any(self, name: str, channels: int, input_scale: float, scales: list[float],
                  bias_range: int, per_channel: bool) -> int:
        """int32 bias for int8, int64 bias for int16 activations."""
        if self.act == "int8":
            return self._bias(name, channels, input_scale, scales, bias_range, per_channel)
        data = self.rng.integers(-bias_range, bias_range + 1, size=channels, dtype=np.int64)
        bscales = [float(np.float32(input_scale) * np.float32(s)) for s in scales]
        return self.add_tensor(name, [channels], schema.TensorType.INT64, data=data,
                               scale=bscales if per_channel else bscales[0],
                               zero_point=[0] * len(bscales) if per_channel else 0)

    def batch_matmul(self, x: int, y: int | None = None, *, rhs_shape: Sequence[int] = (),
                     rhs_scale: float = 0.02, rhs_zp: int = 0, adj_x: bool = False,
                     adj_y: bool = False, output_scale: float = 0.05, output_zp: int = 0,
                     name: str = "bmm") -> int:
        """BATCH_MATMUL of ``x`` and ``y`` (or a random constant of ``rhs_shape``)."""
        if y is None:
            data = self.rng.integers(-128, 128, size=list(rhs_shape), dtype=np.int8)
            y = self.add_tensor(f"{name}/rhs", list(rhs_shape), _ACT["int8"], data=data,
                                scale=rhs_scale, zero_point=rhs_zp)
        a, b = self.shape(x), self.shape(y)
        rows = a[-1] if adj_x else a[-2]
        cols = b[-2] if adj_y else b[-1]
        rank = max(len(a), len(b))
        ab = [1] * (rank - len(a)) + a[:-2]
        bb = [1] * (rank - len(b)) + b[:-2]
        out = [max(p, q) for p, q in zip(ab, bb, strict=True)] + [rows, cols]
        z = self._activation_out(name, out, output_scale, output_zp)
        opt = schema.BatchMatMulOptionsT()
        opt.adjX, opt.adjY = adj_x, adj_y
        self.add_op(_OP.BATCH_MATMUL, [x, y], [z], _OPT.BatchMatMulOptions, opt, version=2)
        return z


def one_op(act: str, input_shapes: Sequence[Sequence[int]], method: str,
           scales: Sequence[float] = (0.05,), zero_points: Sequence[int] = (0,),
           seed: int = 0, **kwargs: object) -> bytes:
    """A model of one op applied to fresh inputs (several inputs go to ``method`` as a list
    for CONCATENATION, or as ``x, y`` for BATCH_MATMUL)."""
    b = ShapeModelBuilder(seed, act)
    xs = [b.input(s, scales[k % len(scales)], zero_points[k % len(zero_points)], f"input{k}")
          for k, s in enumerate(input_shapes)]
    fn = getattr(b, method)
    if method == "concatenation":
        out = fn(xs, **kwargs)
    else:
        out = fn(*xs, **kwargs)
    return b.build(out)


def shape_chain(seed: int = 0) -> bytes:
    """One int8 model holding every shape op at least once (PAD, PADV2,
    STRIDED_SLICE, TRANSPOSE_CONV, CONCATENATION, TRANSPOSE, SQUEEZE,
    BATCH_MATMUL, EXPAND_DIMS, MEAN), for end-to-end runs."""
    b = ShapeModelBuilder(seed)
    x = b.input([1, 6, 6, 4], 0.05, -3)
    x = b.pad(x, [(0, 0), (1, 1), (1, 0), (0, 0)])                       # [1, 8, 7, 4]
    x = b.pad(x, [(0, 0), (0, 0), (0, 1), (0, 0)], constant=-7)          # [1, 8, 8, 4]
    x = b.strided_slice(x, [0, 0, 0, 0], [1, 8, 8, 4], [1, 2, 2, 1])     # [1, 4, 4, 4]
    x = b.transpose_conv(x, out_channels=3, kernel=3, stride=2, output_scale=0.5,
                         output_zp=4, weight_scale=[0.02, 0.015, 0.025])  # [1, 8, 8, 3]
    x = b.concatenation([x, x], axis=3)                                   # [1, 8, 8, 6]
    x = b.transpose(x, [0, 3, 1, 2])                                      # [1, 6, 8, 8]
    x = b.squeeze(x, [0])                                                 # [6, 8, 8]
    x = b.batch_matmul(x, rhs_shape=(8, 5), rhs_scale=0.02, output_scale=4.0,
                       output_zp=-2)                                      # [6, 8, 5]
    x = b.expand_dims(x, 0)                                               # [1, 6, 8, 5]
    x = b.mean(x, [1], keep_dims=False, output_scale=2.0, output_zp=1)    # [1, 8, 5]
    return b.build(x)
