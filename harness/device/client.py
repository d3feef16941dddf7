"""The data requests of a device session: tensor writes with a send window, chunked
reads, and INVOKE (whole model, one op, or a whole vector for emulators).

:class:`DeviceClient` sends them over a :class:`~harness.device.link.Link`, which
numbers, resends and checks the frames.

Writes go out as WRITE_INPUT requests of at most ``max_payload - 5`` bytes. A
stop-and-wait link leaves the line idle while each answer comes back (the
device's reply, the host's turnaround); with up to ``window`` requests in
flight, each with its own seq, the next chunk is already on the line while the
device answers the previous one. The device handles requests in the order they
arrive and answers each, so the host waits for the answers in order.

Any trouble - no answer within the link's timeout, a corrupt frame, or the
answer to a later request before the oldest one's (the oldest, or its answer,
was lost) - and every request still in flight is completed one at a time with
the link's usual resend-the-same-seq retries; then the window opens again. A
resent WRITE_INPUT may reach the device after later ones (its reply cache keeps
only the last answer, so it is then executed again): writing the same bytes at
the same offset twice is harmless, which is why only writes are windowed. No
copy can outlive the call: the line is first-in first-out, so any copy still
on it reaches the device before the next request the host sends.
"""

from __future__ import annotations

import struct
from collections import deque

from harness.device.link import Link, Outgoing
from harness.device.protocol import (
    INVOKE,
    INVOKE_STEP,
    INVOKE_VECTOR,
    LOAD_INPUT,
    MAX_PAYLOAD,
    READ_OUTPUT,
    READ_TENSOR,
    WRITE_INPUT,
    Frame,
    status_name,
    type_name,
)
from harness.errors import DeviceError, ProtocolError

WINDOW = 3  # WRITE_INPUT requests in flight at once
WRITE_HEAD = 5  # WRITE_INPUT payload: u8 index, u32 offset, then the data
WRITE_CHUNK = MAX_PAYLOAD - WRITE_HEAD


class DeviceClient:
    """Tensor transfers and INVOKE over ``link``.

    An INVOKE may take up to ``invoke_timeout`` s (the inference runs on the device
    meanwhile); the other requests get the link's own timeout and retries.
    """

    def __init__(self, link: Link, *, invoke_timeout: float = 60.0) -> None:
        self.link = link
        self.invoke_timeout = invoke_timeout

    def write_input(self, index: int, data: bytes, *, chunk: int | None = None,
                    window: int = WINDOW) -> None:
        """Write ``data`` into input tensor ``index``: ``chunk`` bytes per request, at most
        ``window`` requests in flight (1: stop and wait)."""
        link = self.link
        chunk = chunk or link.max_payload - WRITE_HEAD
        if not 1 <= chunk <= WRITE_CHUNK:
            raise ValueError(f"chunk must be 1..{WRITE_CHUNK}")
        if window < 1:
            raise ValueError("window must be at least 1")
        view = memoryview(bytes(data))
        todo = deque((off, struct.pack("<BI", index, off) + view[off : off + chunk].tobytes())
                     for off in range(0, len(view), chunk))
        flight: deque[tuple[int, Outgoing]] = deque()
        stash: dict[int, Frame | None] = {}  # seq in flight -> its answer, once seen
        while todo or flight:
            while todo and len(flight) < window:
                off, payload = todo.popleft()
                req = link.new_request(WRITE_INPUT, payload)
                link.send(req)
                flight.append((off, req))
                stash[req.seq] = None
            off, head = flight[0]
            frame = link.try_answer(head, stash)
            if frame is not None:
                flight.popleft()
                _check_ack(link, index, off, frame)
                continue
            while flight:  # trouble: one at a time, with the usual retries
                off, req = flight.popleft()
                _check_ack(link, index, off, link.complete(req, stash=stash))
            stash.clear()

    def invoke(self, flags: int = 0, *, op: int | None = None,
               timeout: float | None = None) -> int:
        """Run one inference; returns the device's count (cycles/instructions, 0 if unknown).

        With ``op``, run only that op (flag INVOKE_STEP): stepping through the ops
        in order lets the host read each op's output right after it is made.
        Waits up to ``timeout`` (default ``invoke_timeout``) s, resending every
        ``link.timeout`` s; the device runs the inference once whatever arrives.
        """
        payload = bytes([flags & 0xFF])
        if op is not None:
            payload = struct.pack("<BH", (flags | INVOKE_STEP) & 0xFF, op)
        return self._invoke(payload, timeout)[0]

    def invoke_vector(self, offset: int, out_bytes: int, *, timeout: float | None = None
                      ) -> tuple[int, bytes]:
        """Load a vector's inputs from the semihosting file at ``offset``, run, and get
        the count and the (single) output back: one request per vector."""
        count, out = self._invoke(struct.pack("<BI", INVOKE_VECTOR, offset), timeout)
        if len(out) != out_bytes:
            raise DeviceError(f"{self.link.name} answered {len(out)} output bytes, not {out_bytes}")
        return count, out

    def _invoke(self, payload: bytes, timeout: float | None) -> tuple[int, bytes]:
        """One INVOKE request: the count, and the bytes after it in the answer."""
        total = self.invoke_timeout if timeout is None else timeout
        frame = self.link.request(INVOKE, payload, total=total)
        status = reply_status(self.link.name, frame, 5)
        if status:
            raise DeviceError(f"inference failed on {self.link.name}: {status_name(status)}")
        return int(struct.unpack_from("<I", frame.payload, 1)[0]), bytes(frame.payload[5:])

    def load_input(self, index: int, offset: int) -> None:
        """Have the device read input ``index`` from its semihosting file at ``offset``."""
        self.link.request(LOAD_INPUT, struct.pack("<BI", index, offset))

    def read_output(self, index: int, nbytes: int, *, chunk: int | None = None) -> bytes:
        """Read ``nbytes`` of output tensor ``index``."""
        return _read(self.link, READ_OUTPUT, "<BIH", index, nbytes, chunk)

    def read_tensor(self, index: int, nbytes: int, *, chunk: int | None = None) -> bytes:
        """Read ``nbytes`` of tensor ``index`` (the model's tensor numbering)."""
        return _read(self.link, READ_TENSOR, "<HIH", index, nbytes, chunk)


def _check_ack(link: Link, index: int, off: int, frame: Frame) -> None:
    status = reply_status(link.name, frame, 1)
    if status:
        raise DeviceError(f"{link.name} refused input {index} bytes {off}..: {status_name(status)}")


def _read(link: Link, type_: int, fmt: str, index: int, nbytes: int, chunk: int | None) -> bytes:
    """READ_OUTPUT / READ_TENSOR requests (``fmt`` packs index, offset, length) one at
    a time: each answer is a full frame of data, so the line stays busy anyway."""
    chunk = chunk or link.max_payload
    if not 1 <= chunk <= MAX_PAYLOAD:
        raise ValueError(f"chunk must be 1..{MAX_PAYLOAD}")
    out = bytearray()
    for off in range(0, nbytes, chunk):
        n = min(chunk, nbytes - off)
        frame = link.request(type_, struct.pack(fmt, index, off, n))
        if len(frame.payload) != n:
            raise ProtocolError(
                f"{link.name} sent {len(frame.payload)} bytes for {type_name(type_)} "
                f"{index} at offset {off}, asked for {n}"
            )
        out += frame.payload
    return bytes(out)


def reply_status(name: str, frame: Frame, size: int) -> int:
    """The status byte that starts an ACK / INVOKED answer of at least ``size`` bytes."""
    if len(frame.payload) < size:
        raise ProtocolError(
            f"{name} sent a {len(frame.payload)}-byte {type_name(frame.type)}, "
            f"expected {size} bytes"
        )
    return frame.payload[0]
