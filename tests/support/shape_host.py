"""Call the host-compiled shape kernels (hx_shape.c, hx_matmul.c) on one graph op.

:func:`run_c` takes a parsed one-op graph and its input arrays, resolves the
kernel parameters with the same host code the C emitters use (the op modules of
:mod:`harness.ops.shape`, :mod:`harness.ops.conv.transpose_conv` and
:mod:`harness.ops.fully_connected.batch_matmul`) and calls the C kernel through ctypes.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numpy as np
import pytest

from harness.model.graph import Graph, Op
from harness.ops.conv.transpose_conv import transpose_conv_params
from harness.ops.fully_connected.batch_matmul import batch_matmul_multiplier, matmul_geometry
from harness.ops.shape.common import dims4
from harness.ops.shape.concatenation import concat_geometry
from harness.ops.shape.mean import mean_geometry
from harness.ops.shape.pad import pad_geometry
from harness.ops.shape.strided_slice import slice_geometry
from harness.ops.shape.transpose import transpose_geometry
from support.kernels_host import HxConvParams, HxDims, HxRequant, build_host_library, have_host_gcc

_LIBS: list[ctypes.CDLL] = []


def host_library(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """firmware/kernels built for the host (once per session), or skip without gcc."""
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH")
    if not _LIBS:
        _LIBS.append(ctypes.CDLL(str(build_host_library(tmp_path_factory.mktemp("hx_shape")))))
    return _LIBS[0]



_C = {np.dtype(np.int8): ctypes.c_int8, np.dtype(np.int16): ctypes.c_int16,
      np.dtype(np.int32): ctypes.c_int32, np.dtype(np.int64): ctypes.c_int64}
_SUFFIX = {"int8": "s8", "int16": "s16"}


class HxSliceParams(ctypes.Structure):
    _fields_ = [("start", HxDims), ("step", HxDims)]


class HxMeanParams(ctypes.Structure):
    _fields_ = [("kept_dims", HxDims), ("reduced_dims", HxDims)] + [
        (n, ctypes.c_int32) for n in ("input_zero_point", "count", "multiplier", "shift",
                                      "output_zero_point")]


class HxBatchMatmulParams(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in (
        "batches", "rows", "cols", "depth", "lhs_row_stride", "lhs_depth_stride",
        "rhs_depth_stride", "rhs_col_stride", "lhs_offset", "rhs_offset", "output_offset",
        "multiplier", "shift", "act_min", "act_max")]


def _d(shape: Sequence[int]) -> HxDims:
    return HxDims(*dims4(tuple(shape)))


def _p(arr: np.ndarray) -> ctypes._Pointer:
    return arr.ctypes.data_as(ctypes.POINTER(_C[arr.dtype]))


def _arr(values: Sequence[int] | np.ndarray, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values), dtype=dtype)


def run_c(lib: ctypes.CDLL, graph: Graph, op: Op, arrays: Sequence[np.ndarray | None]
          ) -> np.ndarray:
    """Run ``op`` with the C kernel; ``arrays`` in op input order (None = constant)."""
    ins = [np.ascontiguousarray(a if a is not None else graph.tensors[i].data)
           if i >= 0 else None for i, a in zip(op.inputs, arrays, strict=True)]
    out_t = graph.tensors[op.outputs[0]]
    out = np.zeros(out_t.shape, np.dtype(out_t.dtype))
    sfx = _SUFFIX.get(out_t.dtype, "s8")
    name = op.name
    if name == "CONCATENATION":
        outer, inner = concat_geometry(graph, op)
        ptrs = (ctypes.POINTER(ctypes.c_int8) * len(ins))(*[_p(a) for a in ins])
        inner_a = _arr(inner, np.int32)
        lib.hx_concat_s8(len(ins), ptrs, _p(inner_a), outer, _p(out))
    elif name in ("PAD", "PADV2"):
        in_dims, before, out_dims, value = pad_geometry(graph, op)
        getattr(lib, f"hx_pad_{sfx}")(HxDims(*in_dims), _p(ins[0]), HxDims(*before),
                                      HxDims(*out_dims), value, _p(out))
    elif name == "STRIDED_SLICE":
        g = slice_geometry(graph, op)
        prm = HxSliceParams(HxDims(*g.start), HxDims(*g.step))
        getattr(lib, f"hx_strided_slice_{sfx}")(ctypes.byref(prm), _d(ins[0].shape),
                                                _p(ins[0]), HxDims(*g.count), _p(out))
    elif name == "TRANSPOSE":
        perm, in_dims = transpose_geometry(graph, op)
        perm_a = _arr(perm, np.int32)
        lib.hx_transpose_s8(_p(perm_a), HxDims(*in_dims), _p(ins[0]), _p(out))
    elif name == "MEAN":
        g = mean_geometry(graph, op)
        inp = graph.tensors[op.inputs[0]]
        prm = HxMeanParams(HxDims(*g.kept), HxDims(*g.reduced), inp.zero_point, g.count,
                           g.multiplier, g.shift, out_t.zero_point)
        lib.hx_mean_s8(ctypes.byref(prm), HxDims(*g.input_dims), _p(ins[0]), _p(out))
    elif name == "TRANSPOSE_CONV":
        _transpose_conv(lib, graph, op, ins, out, sfx)
    elif name == "BATCH_MATMUL":
        _batch_matmul(lib, graph, op, ins, out)
    else:
        raise NotImplementedError(name)
    return out


def _transpose_conv(lib: ctypes.CDLL, graph: Graph, op: Op, ins: list, out: np.ndarray,
                    sfx: str) -> None:
    inp, out_t = graph.tensors[op.inputs[2]], graph.tensors[op.outputs[0]]
    tc = transpose_conv_params(graph, op)
    (sh, sw), (pad_h, pad_w), (lo, hi) = tc.stride, tc.pad, tc.act
    m, s = _arr(tc.multipliers, np.int32), _arr(tc.shifts, np.int32)
    rq = HxRequant(_p(m), _p(s), int(len(tc.multipliers) > 1))
    prm = HxConvParams(-inp.zero_point, out_t.zero_point, lo, hi, sh, sw, 1, 1, pad_h, pad_w, 1)
    bias = None
    if len(ins) > 3 and ins[3] is not None:
        bias = _arr(ins[3], np.int64 if sfx == "s16" else np.int32)
    getattr(lib, f"hx_transpose_conv_{sfx}")(
        ctypes.byref(prm), ctypes.byref(rq), _d(ins[2].shape), _p(ins[2]), _d(ins[1].shape),
        _p(ins[1]), None if bias is None else _p(bias), _d(out.shape), _p(out))


def _batch_matmul(lib: ctypes.CDLL, graph: Graph, op: Op, ins: list, out: np.ndarray) -> None:
    lhs, rhs = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    out_t = graph.tensors[op.outputs[0]]
    g = matmul_geometry(graph, op)
    mult, shift = batch_matmul_multiplier(lhs, rhs, out_t)
    prm = HxBatchMatmulParams(len(g.lhs_batch), g.rows, g.cols, g.depth, *g.lhs_strides,
                              *g.rhs_strides, -lhs.zero_point, -rhs.zero_point,
                              out_t.zero_point, mult, shift, -128, 127)
    a_off, b_off = _arr(g.lhs_batch, np.int32), _arr(g.rhs_batch, np.int32)
    lib.hx_batch_matmul_s8(ctypes.byref(prm), _p(a_off), _p(ins[0]), _p(b_off), _p(ins[1]),
                           _p(out))
