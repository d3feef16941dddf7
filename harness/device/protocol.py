"""Host side of the harness wire protocol: framing, CRC, COBS, a streaming decoder.

Wire format (all integers little endian)::

    u8 version (=1) | u8 type | u16 seq | u16 payload_len | payload | u32 crc

``crc`` is CRC-32 (IEEE 802.3, as ``zlib.crc32``) over header + payload. The
frame is COBS-encoded and terminated by a single 0x00 byte, so a receiver that
sees garbage waits for the next 0x00 and carries on. Empty frames are ignored;
the host sends a 0x00 before each request so that a device which received
noise starts clean. At most ``MAX_PAYLOAD`` (1024) payload bytes per frame.

Requests (host -> device) and their responses, which carry the request's seq:

==== =========== ================================ ==== ======= ===============================
type request     payload                          type answer  payload
==== =========== ================================ ==== ======= ===============================
0x01 HELLO       (empty)                          0x81 INFO    UTF-8 ``key=value\\n`` lines
0x02 WRITE_INPUT u8 index, u32 offset, bytes      0x82 ACK     u8 status
0x03 INVOKE      u8 flags [, u16 op if STEP]      0x83 INVOKED u8 status, u32 count
0x04 READ_OUTPUT u8 index, u32 offset, u16 length 0x84 DATA    bytes
0x05 READ_TENSOR u16 index, u32 offset, u16 len   0x85 DATA    bytes
0x06 STATS       (empty)                          0x86 STATS   app-defined bytes
0x07 LOAD_INPUT  u8 index, u32 file offset        0x87 LOADED  (empty); emulators only
==== =========== ================================ ==== ======= ===============================

Device -> host only: 0x7D ERROR (answer to any request: u8 code, UTF-8
message), 0x7E LOG (unsolicited, seq 0: UTF-8 text), 0x7F FAULT (unsolicited,
seq 0: u32 CFSR, HFSR, PC, LR, MMFAR, BFAR). ``count`` in INVOKED is cycles or
instructions for the inference (INFO says which: ``counter=``), 0 if unknown.

The device answers a request with the same seq and type as the last one it
answered from a cached copy of that reply, so retries never run a request
twice. The host therefore retries with the *same* seq, and numbers requests
from a random start (skipping 0, which unsolicited frames use) so a new
session does not collide with the cache of the previous one.

This module is the wire format only, without I/O. The request/retry logic lives in
:mod:`harness.device.link` (``Link``), the data requests in :mod:`harness.device.client`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

PROTO_VERSION = 1
MAX_PAYLOAD = 1024
HEADER_LEN = 6
CRC_LEN = 4
MAX_FRAME = HEADER_LEN + MAX_PAYLOAD + CRC_LEN
MAX_ENCODED = MAX_FRAME + MAX_FRAME // 254 + 2  # COBS overhead + the 0x00

HELLO, WRITE_INPUT, INVOKE, READ_OUTPUT, READ_TENSOR, STATS = 0x01, 0x02, 0x03, 0x04, 0x05, 0x06
LOAD_INPUT, LOADED = 0x07, 0x87  # emulators: input from the semihosting file
INFO, ACK, INVOKED, OUTPUT_DATA, TENSOR_DATA, STATS_DATA = 0x81, 0x82, 0x83, 0x84, 0x85, 0x86
ERROR, LOG, FAULT = 0x7D, 0x7E, 0x7F
RESPONSE_BIT = 0x80
INVOKE_STEP = 0x01  # INVOKE flag: payload continues with u16 op index; run only that op
# INVOKE flag (semihosting firmware): payload continues with the u32 file offset of the
# vector's inputs; the device loads them, runs, and answers count + the single output.
INVOKE_VECTOR = 0x02

TYPE_NAMES = {
    HELLO: "HELLO",
    WRITE_INPUT: "WRITE_INPUT",
    INVOKE: "INVOKE",
    READ_OUTPUT: "READ_OUTPUT",
    READ_TENSOR: "READ_TENSOR",
    STATS: "STATS",
    LOAD_INPUT: "LOAD_INPUT",
    LOADED: "LOADED",
    INFO: "INFO",
    ACK: "ACK",
    INVOKED: "INVOKED",
    OUTPUT_DATA: "DATA",
    TENSOR_DATA: "DATA",
    STATS_DATA: "STATS",
    ERROR: "ERROR",
    LOG: "LOG",
    FAULT: "FAULT",
}

# Status (ACK / INVOKED) and ERROR codes, as in hx_proto.h.
STATUS_NAMES = {
    0: "OK",
    1: "UNKNOWN_TYPE",
    2: "BAD_REQUEST",
    3: "BAD_INDEX",
    4: "RANGE",
    5: "INVOKE",
    6: "TOO_BIG",
    7: "NOT_READY",
    8: "INTERNAL",
}

FAULT_REGS = ("CFSR", "HFSR", "PC", "LR", "MMFAR", "BFAR")
_CFSR_BITS = {
    0: "IACCVIOL",
    1: "DACCVIOL",
    3: "MUNSTKERR",
    4: "MSTKERR",
    5: "MLSPERR",
    7: "MMARVALID",
    8: "IBUSERR",
    9: "PRECISERR",
    10: "IMPRECISERR",
    11: "UNSTKERR",
    12: "STKERR",
    13: "LSPERR",
    15: "BFARVALID",
    16: "UNDEFINSTR",
    17: "INVSTATE",
    18: "INVPC",
    19: "NOCP",
    24: "UNALIGNED",
    25: "DIVBYZERO",
}
_HDR = struct.Struct("<BBHH")


def type_name(t: int) -> str:
    """Human name of a frame type, e.g. ``INVOKE`` or ``0x42``."""
    return TYPE_NAMES.get(t, f"0x{t:02X}")


def status_name(code: int) -> str:
    """Name of an ACK / INVOKED status or ERROR code, e.g. ``RANGE`` or ``code 42``."""
    return STATUS_NAMES.get(code, f"code {code}")


def crc32(data: bytes) -> int:
    """CRC-32 (IEEE 802.3), identical to ``zlib.crc32`` and the device's ``hx_crc32``."""
    return zlib.crc32(data) & 0xFFFFFFFF


class CobsError(ValueError):
    """Malformed COBS data."""


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (the result contains no 0x00; the caller appends the delimiter)."""
    out = bytearray()
    for part in bytes(data).split(b"\x00"):
        while len(part) >= 254:
            out.append(0xFF)
            out += part[:254]
            part = part[254:]
        out.append(len(part) + 1)
        out += part
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Invert :func:`cobs_encode` (without the trailing 0x00); raises :class:`CobsError`."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        end = i + code
        if code == 0 or end > n:
            raise CobsError("zero byte" if code == 0 else "truncated block")
        block = data[i + 1 : end]
        if 0 in block:
            raise CobsError("zero byte")
        out += block
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    """One decoded, CRC-checked frame."""

    type: int
    seq: int
    payload: bytes = b""

    def __repr__(self) -> str:
        return f"Frame({type_name(self.type)}, seq={self.seq}, {len(self.payload)} bytes)"


def pack_frame(type_: int, seq: int, payload: bytes = b"") -> bytes:
    """The unencoded frame: header + payload + CRC."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = _HDR.pack(PROTO_VERSION, type_ & 0xFF, seq & 0xFFFF, len(payload)) + bytes(payload)
    return body + struct.pack("<I", crc32(body))


def encode_frame(type_: int, seq: int, payload: bytes = b"") -> bytes:
    """The bytes on the wire: COBS(header + payload + CRC) + 0x00."""
    return cobs_encode(pack_frame(type_, seq, payload)) + b"\x00"


class FrameDecoder:
    """Streaming decoder: ``feed(bytes) -> list[Frame]``; counts what it drops."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._skipping = False  # overflowed: discard up to the next 0x00
        self.frames = 0
        self.bad_cobs = 0
        self.bad_len = 0
        self.bad_crc = 0
        self.bad_version = 0
        self.overflow = 0

    @property
    def dropped(self) -> int:
        """Frames thrown away for any reason."""
        return self.bad_cobs + self.bad_len + self.bad_crc + self.bad_version + self.overflow

    def counters(self) -> dict[str, int]:
        """Good frames and the dropped ones by reason."""
        return {
            "frames": self.frames,
            "dropped": self.dropped,
            "bad_cobs": self.bad_cobs,
            "bad_len": self.bad_len,
            "bad_crc": self.bad_crc,
            "bad_version": self.bad_version,
            "overflow": self.overflow,
        }

    def feed(self, data: bytes) -> list[Frame]:
        """Take received bytes; return the frames they complete (the rest is kept)."""
        out: list[Frame] = []
        start = 0
        while True:
            end = data.find(b"\x00", start)
            if end < 0:
                self._append(data[start:])
                return out
            self._append(data[start:end])
            if self._skipping:
                self._skipping = False
            elif self._buf:
                frame = self._decode(bytes(self._buf))
                if frame is not None:
                    out.append(frame)
            self._buf.clear()
            start = end + 1

    def _append(self, chunk: bytes) -> None:
        if self._skipping or not chunk:
            return
        self._buf += chunk
        if len(self._buf) > MAX_ENCODED:
            self.overflow += 1
            self._skipping = True
            self._buf.clear()

    def _decode(self, encoded: bytes) -> Frame | None:
        try:
            raw = cobs_decode(encoded)
        except CobsError:
            self.bad_cobs += 1
            return None
        if len(raw) < HEADER_LEN + CRC_LEN:
            self.bad_len += 1
            return None
        version, type_, seq, plen = _HDR.unpack_from(raw)
        if HEADER_LEN + plen + CRC_LEN != len(raw):
            self.bad_len += 1
            return None
        (crc,) = struct.unpack_from("<I", raw, HEADER_LEN + plen)
        if crc != crc32(raw[: HEADER_LEN + plen]):
            self.bad_crc += 1
            return None
        if version != PROTO_VERSION:
            self.bad_version += 1
            return None
        self.frames += 1
        return Frame(type_, seq, raw[HEADER_LEN : HEADER_LEN + plen])


def parse_kv(payload: bytes) -> dict[str, str]:
    """Parse ``key=value`` lines (INFO, and STATS when the app uses the same form)."""
    out: dict[str, str] = {}
    for line in payload.decode("utf-8", errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def decode_fault(payload: bytes) -> dict[str, int]:
    """FAULT payload -> ``{"CFSR": ..., "HFSR": ..., "PC": ..., ...}`` (missing ones are 0)."""
    padded = bytes(payload[:24]).ljust(24, b"\x00")
    return dict(zip(FAULT_REGS, struct.unpack("<6I", padded), strict=True))


def format_fault(regs: dict[str, int]) -> str:
    """One line: registers in hex plus the names of the CFSR bits that are set."""
    text = " ".join(f"{name}=0x{regs.get(name, 0):08X}" for name in FAULT_REGS)
    cfsr = regs.get("CFSR", 0)
    bits = [name for bit, name in _CFSR_BITS.items() if (cfsr >> bit) & 1]
    hfsr = regs.get("HFSR", 0)
    if hfsr & (1 << 30):
        bits.append("FORCED")
    if hfsr & (1 << 1):
        bits.append("VECTTBL")
    return text + (f" [{' '.join(bits)}]" if bits else "")
