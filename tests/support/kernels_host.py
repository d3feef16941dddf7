"""Build firmware/kernels/*.c for the host and call the kernels through ctypes.

``build_host_library(out_dir)`` compiles every kernel source into one shared
object with the host ``gcc`` (``-O2 -shared -fPIC``); :class:`HostKernels`
loads it and wraps each ``hx_*`` entry point so it takes and returns numpy
arrays. Used by tests only.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
KERNEL_DIR = REPO / "firmware" / "kernels"

ARM_FLAGS = [
    "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
    "-O2", "-Wall", "-Wextra", "-Werror",
]


def kernel_sources() -> list[Path]:
    """All C sources of the kernels, sorted."""
    return sorted(KERNEL_DIR.glob("*.c"))


_BUILT: dict[tuple[str, tuple[str, ...]], Path] = {}


def build_host_library(out_dir: Path, defines: Sequence[str] = (),
                       gcc: str = "gcc") -> Path:
    """Compile the kernels into ``out_dir/libhx_kernels.so`` and return its path.

    Each set of defines is compiled once per test session; later calls copy that build
    (the sources do not change during a session, and the unit tier stays fast).
    Raises ``RuntimeError`` with the compiler's output if the build fails.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = "".join(f"_{d.split('=')[0].lower()}" for d in defines)
    lib = out_dir / f"libhx_kernels{tag}.so"
    key = (gcc, tuple(defines))
    if key in _BUILT:
        shutil.copyfile(_BUILT[key], lib)
        return lib
    cmd = [gcc, "-std=c99", "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror",
           f"-I{KERNEL_DIR}", *(f"-D{d}" for d in defines),
           *map(str, kernel_sources()), "-o", str(lib)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"host kernel build failed: {' '.join(cmd)}\n{res.stderr}")
    _BUILT[key] = lib
    return lib


def have_host_gcc() -> bool:
    """True if a host ``gcc`` is on PATH."""
    return shutil.which("gcc") is not None


class HxDims(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32),
                ("w", ctypes.c_int32), ("c", ctypes.c_int32)]


class HxRequant(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.POINTER(ctypes.c_int32)),
                ("shift", ctypes.POINTER(ctypes.c_int32)),
                ("per_channel", ctypes.c_int32)]


class HxConvParams(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in (
        "input_offset", "output_offset", "act_min", "act_max", "stride_h", "stride_w",
        "dilation_h", "dilation_w", "pad_h", "pad_w", "depth_multiplier")]


class HxFcParams(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in (
        "input_offset", "filter_offset", "output_offset", "act_min", "act_max")]


class HxPoolParams(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in (
        "stride_h", "stride_w", "filter_h", "filter_w", "pad_h", "pad_w",
        "act_min", "act_max")]


class HxSoftmaxParams(ctypes.Structure):
    _fields_ = [(n, ctypes.c_int32) for n in (
        "input_multiplier", "input_left_shift", "diff_min")]


def _dims(shape: Sequence[int]) -> HxDims:
    s = [1] * (4 - len(shape)) + [int(d) for d in shape]
    return HxDims(*s)


def _ptr(arr: np.ndarray, ctype: type) -> ctypes._Pointer:
    return arr.ctypes.data_as(ctypes.POINTER(ctype))


def _i8(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int8)


class _Requant:
    """Keeps the arrays behind an ``hx_requant`` alive."""

    def __init__(self, multipliers: Sequence[int], shifts: Sequence[int],
                 per_channel: bool | None = None) -> None:
        self.m = np.ascontiguousarray(multipliers, dtype=np.int32)
        self.s = np.ascontiguousarray(shifts, dtype=np.int32)
        pc = len(self.m) > 1 if per_channel is None else per_channel
        self.c = HxRequant(_ptr(self.m, ctypes.c_int32), _ptr(self.s, ctypes.c_int32),
                           int(pc))


class HostKernels:
    """The host-built kernels, called with numpy arrays."""

    def __init__(self, lib_path: Path) -> None:
        self.lib = ctypes.CDLL(str(lib_path))
        for name in ("hx_conv2d_s8", "hx_depthwise_conv2d_s8", "hx_fully_connected_s8",
                     "hx_avg_pool_s8", "hx_max_pool_s8", "hx_softmax_s8"):
            getattr(self.lib, name).restype = None

    def _conv(self, fn: str, p: HxConvParams, multipliers: Sequence[int],
              shifts: Sequence[int], x: np.ndarray, filt: np.ndarray,
              bias: np.ndarray | None, out_shape: Sequence[int]) -> np.ndarray:
        x, filt = _i8(x), _i8(filt)
        rq = _Requant(multipliers, shifts)
        b = None if bias is None else np.ascontiguousarray(bias, dtype=np.int32)
        out = np.zeros(out_shape, dtype=np.int8)
        getattr(self.lib, fn)(
            ctypes.byref(p), ctypes.byref(rq.c), _dims(x.shape), _ptr(x, ctypes.c_int8),
            _dims(filt.shape), _ptr(filt, ctypes.c_int8),
            None if b is None else _ptr(b, ctypes.c_int32), _dims(out_shape),
            _ptr(out, ctypes.c_int8))
        return out

    def conv2d(self, p: HxConvParams, multipliers: Sequence[int], shifts: Sequence[int],
               x: np.ndarray, filt: np.ndarray, bias: np.ndarray | None,
               out_shape: Sequence[int]) -> np.ndarray:
        """``hx_conv2d_s8``: x NHWC, filt OHWI."""
        return self._conv("hx_conv2d_s8", p, multipliers, shifts, x, filt, bias, out_shape)

    def depthwise_conv2d(self, p: HxConvParams, multipliers: Sequence[int],
                         shifts: Sequence[int], x: np.ndarray, filt: np.ndarray,
                         bias: np.ndarray | None, out_shape: Sequence[int]) -> np.ndarray:
        """``hx_depthwise_conv2d_s8``: x NHWC, filt [1, H, W, C*m]."""
        return self._conv("hx_depthwise_conv2d_s8", p, multipliers, shifts, x, filt, bias,
                          out_shape)

    def fully_connected(self, p: HxFcParams, multipliers: Sequence[int],
                        shifts: Sequence[int], x: np.ndarray, weights: np.ndarray,
                        bias: np.ndarray | None, per_channel: bool | None = None
                        ) -> np.ndarray:
        """``hx_fully_connected_s8``: x [batches, depth], weights [units, depth].

        ``per_channel`` defaults to "more than one multiplier"."""
        weights = _i8(weights)
        units, depth = weights.shape
        x = _i8(x).reshape(-1, depth)
        rq = _Requant(multipliers, shifts, per_channel)
        b = None if bias is None else np.ascontiguousarray(bias, dtype=np.int32)
        out = np.zeros((x.shape[0], units), dtype=np.int8)
        self.lib.hx_fully_connected_s8(
            ctypes.byref(p), ctypes.byref(rq.c), ctypes.c_int32(x.shape[0]),
            ctypes.c_int32(depth), ctypes.c_int32(units), _ptr(x, ctypes.c_int8),
            _ptr(weights, ctypes.c_int8), None if b is None else _ptr(b, ctypes.c_int32),
            _ptr(out, ctypes.c_int8))
        return out

    def _pool(self, fn: str, p: HxPoolParams, x: np.ndarray,
              out_shape: Sequence[int]) -> np.ndarray:
        x = _i8(x)
        out = np.zeros(out_shape, dtype=np.int8)
        getattr(self.lib, fn)(ctypes.byref(p), _dims(x.shape), _ptr(x, ctypes.c_int8),
                              _dims(out_shape), _ptr(out, ctypes.c_int8))
        return out

    def avg_pool(self, p: HxPoolParams, x: np.ndarray, out_shape: Sequence[int]) -> np.ndarray:
        """``hx_avg_pool_s8``."""
        return self._pool("hx_avg_pool_s8", p, x, out_shape)

    def max_pool(self, p: HxPoolParams, x: np.ndarray, out_shape: Sequence[int]) -> np.ndarray:
        """``hx_max_pool_s8``."""
        return self._pool("hx_max_pool_s8", p, x, out_shape)

    def softmax(self, p: HxSoftmaxParams, x: np.ndarray) -> np.ndarray:
        """``hx_softmax_s8`` over the last axis of ``x``."""
        x = _i8(x)
        depth = x.shape[-1]
        out = np.zeros_like(x)
        self.lib.hx_softmax_s8(ctypes.byref(p), ctypes.c_int32(x.size // depth),
                               ctypes.c_int32(depth), _ptr(x, ctypes.c_int8),
                               _ptr(out, ctypes.c_int8))
        return out
