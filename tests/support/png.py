"""Read the pixels of a PNG (8-bit RGB or RGBA, not interlaced: what Chromium's --screenshot
writes), following the PNG specification (W3C PNG 3rd ed., 11.2.2 IHDR, 7.3 filtering),
so screenshot tests can look at what a reader sees without an imaging library."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

MAGIC = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> samples per pixel (truecolour, with alpha)


def _chunks(data: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    pos = len(MAGIC)
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        out[kind] = out.get(kind, b"") + data[pos + 8:pos + 8 + n]  # IDATs concatenate
        pos += 12 + n
    return out


def size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk."""
    data = Path(path).read_bytes()
    assert data.startswith(MAGIC), "not a PNG"
    return struct.unpack(">II", data[16:24])


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind: int, row: bytearray, prev: bytes, bpp: int) -> bytearray:
    if kind == 1:  # Sub
        for i in range(bpp, len(row)):
            row[i] = (row[i] + row[i - bpp]) & 0xFF
    elif kind == 2:  # Up
        row[:] = ((np.frombuffer(bytes(row), np.uint8).astype(np.uint16)
                   + np.frombuffer(prev, np.uint8)) & 0xFF).astype(np.uint8).tobytes()
    elif kind == 3:  # Average
        for i in range(len(row)):
            left = row[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + (left + prev[i]) // 2) & 0xFF
    elif kind == 4:  # Paeth
        for i in range(len(row)):
            left, upleft = (row[i - bpp], prev[i - bpp]) if i >= bpp else (0, 0)
            row[i] = (row[i] + _paeth(left, prev[i], upleft)) & 0xFF
    elif kind != 0:
        raise ValueError(f"bad PNG filter type {kind}")
    return row


def read_rows(path: Path, rows: int | None = None) -> np.ndarray:
    """The first `rows` rows (all when None) as an (rows, width, 3) uint8 RGB array."""
    data = Path(path).read_bytes()
    assert data.startswith(MAGIC), "not a PNG"
    chunks = _chunks(data)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, "
                         f"interlace {interlace}")
    bpp = CHANNELS[colour]
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * bpp
    n = height if rows is None else min(rows, height)
    out, prev = np.empty((n, width, 3), np.uint8), bytes(stride)
    for y in range(n):
        start = y * (stride + 1)
        row = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), prev, bpp)
        out[y] = np.frombuffer(bytes(row), np.uint8).reshape(width, bpp)[:, :3]
        prev = bytes(row)
    return out
