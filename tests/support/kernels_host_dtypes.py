"""ctypes wrappers of the int16 (16x8) and float32 kernels in firmware/kernels.

The library is the one ``kernels_host.build_host_library`` builds (every
kernel source, host gcc); this module only adds the entry points of the
``_s16`` and ``_f32`` kernels. Used by tests only.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from support.kernels_host import HxConvParams, HxDims, HxFcParams, HxRequant

I16P = ctypes.POINTER(ctypes.c_int16)
I8P = ctypes.POINTER(ctypes.c_int8)
I64P = ctypes.POINTER(ctypes.c_int64)
F32P = ctypes.POINTER(ctypes.c_float)


class HxSoftmaxS16Params(ctypes.Structure):
    _fields_ = [("input_multiplier", ctypes.c_int32), ("input_shift", ctypes.c_int32),
                ("exp_lut", I16P), ("one_over_one_plus_x_lut", I16P)]


class HxFcF32Params(ctypes.Structure):
    _fields_ = [("act_min", ctypes.c_float), ("act_max", ctypes.c_float)]


def dims(shape: Sequence[int]) -> HxDims:
    s = [1] * (4 - len(shape)) + [int(d) for d in shape]
    return HxDims(*s)


def ptr(arr: np.ndarray | None, ctype: type) -> ctypes._Pointer | None:
    return None if arr is None else arr.ctypes.data_as(ctypes.POINTER(ctype))


class Requant:
    """An ``hx_requant`` and the arrays behind it."""

    def __init__(self, multipliers: Sequence[int], shifts: Sequence[int]) -> None:
        self.m = np.ascontiguousarray(multipliers, dtype=np.int32)
        self.s = np.ascontiguousarray(shifts, dtype=np.int32)
        self.c = HxRequant(ptr(self.m, ctypes.c_int32), ptr(self.s, ctypes.c_int32),
                           int(len(self.m) > 1))


class DtypeKernels:
    """The host-built ``_s16`` and ``_f32`` kernels, called with numpy arrays."""

    def __init__(self, lib_path: Path) -> None:
        self.lib = ctypes.CDLL(str(lib_path))
        for name in ("hx_conv2d_s16", "hx_depthwise_conv2d_s16", "hx_fully_connected_s16",
                     "hx_softmax_s16", "hx_fully_connected_f32"):
            getattr(self.lib, name).restype = None

    def conv(self, depthwise: bool, p: HxConvParams, rq: Requant, x: np.ndarray,
             filt: np.ndarray, bias: np.ndarray | None, out_shape: Sequence[int]) -> np.ndarray:
        """``hx_conv2d_s16`` (filter OHWI) or ``hx_depthwise_conv2d_s16`` (filter [1,H,W,C*m])."""
        x = np.ascontiguousarray(x, np.int16)
        filt = np.ascontiguousarray(filt, np.int8)
        b = None if bias is None else np.ascontiguousarray(bias, np.int64)
        out = np.zeros(out_shape, np.int16)
        fn = self.lib.hx_depthwise_conv2d_s16 if depthwise else self.lib.hx_conv2d_s16
        fn(ctypes.byref(p), ctypes.byref(rq.c), dims(x.shape), ptr(x, ctypes.c_int16),
           dims(filt.shape), ptr(filt, ctypes.c_int8), ptr(b, ctypes.c_int64),
           dims(out_shape), ptr(out, ctypes.c_int16))
        return out

    def fully_connected(self, p: HxFcParams, rq: Requant, x: np.ndarray, weights: np.ndarray,
                        bias: np.ndarray | None) -> np.ndarray:
        """``hx_fully_connected_s16``: x [batches, depth], weights [units, depth]."""
        weights = np.ascontiguousarray(weights, np.int8)
        units, depth = weights.shape
        x = np.ascontiguousarray(x, np.int16).reshape(-1, depth)
        b = None if bias is None else np.ascontiguousarray(bias, np.int64)
        out = np.zeros((x.shape[0], units), np.int16)
        self.lib.hx_fully_connected_s16(
            ctypes.byref(p), ctypes.byref(rq.c), ctypes.c_int32(x.shape[0]),
            ctypes.c_int32(depth), ctypes.c_int32(units), ptr(x, ctypes.c_int16),
            ptr(weights, ctypes.c_int8), ptr(b, ctypes.c_int64), ptr(out, ctypes.c_int16))
        return out

    def fully_connected_f32(self, act: tuple[float, float], x: np.ndarray,
                            weights: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
        """``hx_fully_connected_f32``."""
        weights = np.ascontiguousarray(weights, np.float32)
        units, depth = weights.shape
        x = np.ascontiguousarray(x, np.float32).reshape(-1, depth)
        b = None if bias is None else np.ascontiguousarray(bias, np.float32)
        out = np.zeros((x.shape[0], units), np.float32)
        p = HxFcF32Params(*act)
        self.lib.hx_fully_connected_f32(
            ctypes.byref(p), ctypes.c_int32(x.shape[0]), ctypes.c_int32(depth),
            ctypes.c_int32(units), ptr(x, ctypes.c_float), ptr(weights, ctypes.c_float),
            ptr(b, ctypes.c_float), ptr(out, ctypes.c_float))
        return out

    def softmax(self, multiplier: int, shift: int, exp_lut: np.ndarray, recip_lut: np.ndarray,
                x: np.ndarray) -> np.ndarray:
        """``hx_softmax_s16`` over the last axis."""
        exp_lut = np.ascontiguousarray(exp_lut, np.int16)
        recip_lut = np.ascontiguousarray(recip_lut, np.int16)
        x = np.ascontiguousarray(x, np.int16)
        depth = x.shape[-1]
        out = np.zeros_like(x)
        p = HxSoftmaxS16Params(multiplier, shift, ptr(exp_lut, ctypes.c_int16),
                               ptr(recip_lut, ctypes.c_int16))
        self.lib.hx_softmax_s16(ctypes.byref(p), ctypes.c_int32(x.size // depth),
                                ctypes.c_int32(depth), ptr(x, ctypes.c_int16),
                                ptr(out, ctypes.c_int16))
        return out
