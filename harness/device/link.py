"""A session with one device: numbered requests, retries, LOG/FAULT handling, the handshake.

The wire format is harness.device.protocol; the data requests (tensor writes and
reads, INVOKE) are harness.device.client, which uses a Link.

``Link.open(url)`` accepts everything ``serial.serial_for_url`` does: ``/dev/ttyACM0``,
``socket://127.0.0.1:4321`` (QEMU ``-serial tcp::4321,server``), ``rfc2217://host:port``,
``loop://``. A Link is not thread-safe; use it from one thread.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from harness.device.deadline import Deadline
from harness.device.protocol import (
    ERROR,
    FAULT,
    HELLO,
    LOG,
    MAX_PAYLOAD,
    PROTO_VERSION,
    RESPONSE_BIT,
    STATS,
    Frame,
    FrameDecoder,
    decode_fault,
    encode_frame,
    format_fault,
    parse_kv,
    status_name,
    type_name,
)
from harness.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError

POLL_S = 0.02  # the port's read timeout: how long one blocking read may wait
TAIL_BYTES = 48  # received bytes quoted in a timeout message
MAX_LOGS = 10_000
_COUNTERS = (
    "frames_sent requests retries timeouts stale ignored logs bytes_sent bytes_received"
).split()


class SerialLike(Protocol):
    """What Link needs from a port; pyserial's classes fit."""

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


@dataclass
class Outgoing:
    """One request on its way: its seq, the bytes on the wire, how often they went out."""

    type: int
    seq: int
    wire: bytes
    sends: int = 0

    @property
    def expect(self) -> int:
        """The frame type of the answer."""
        return (self.type | RESPONSE_BIT) & 0xFF


class Link:
    """A session with one device: numbered requests, retries, LOG/FAULT handling, counters.

    ``timeout`` is how long to wait for an answer before resending (same seq);
    a request fails after ``timeout * (retries + 1)`` seconds in total.
    A corrupt frame received while waiting triggers an early resend.
    ``backend_log`` is the log of whatever runs the device (qemu.log, renode.log):
    a timeout names it.
    """

    def __init__(
        self,
        port: SerialLike,
        *,
        timeout: float = 1.0,
        retries: int = 4,
        on_log: Callable[[str], None] | None = None,
        seq: int | None = None,
        name: str | None = None,
        backend_log: Path | None = None,
    ) -> None:
        self.port = port
        if port.timeout is None or port.timeout > 0.1:
            port.timeout = POLL_S  # reads must return so that deadlines are honoured
        self.timeout = timeout
        self.retries = retries
        self.on_log = on_log
        self.name = name or str(getattr(port, "name", None) or "device")
        self.backend_log = backend_log
        self.decoder = FrameDecoder()
        self.max_payload = MAX_PAYLOAD  # lowered by the handshake for small targets
        self.logs: list[str] = []
        self.fault: dict[str, int] | None = None
        self._next = (seq if seq is not None else random.randrange(1, 0x10000)) & 0xFFFF or 1
        self._pending: deque[Frame] = deque()
        self._tail = b""
        # socket:// reports in_waiting as 0 or 1 only; drain it with a non-blocking read.
        self._drain_nonblocking = type(port).__module__.endswith("protocol_socket")
        self._n = dict.fromkeys(_COUNTERS, 0)

    @classmethod
    def open(cls, url: str, *, baudrate: int = 115200, **kwargs: Any) -> Link:
        """Open ``url`` with ``serial.serial_for_url``; kwargs go to :class:`Link`."""
        import serial

        try:
            port = serial.serial_for_url(url, baudrate=baudrate, timeout=POLL_S)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise DeviceError(f"cannot open {url}: {exc}") from exc
        kwargs.setdefault("name", url)
        return cls(port, **kwargs)

    def close(self) -> None:
        """Close the port."""
        self.port.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counters(self) -> dict[str, int]:
        """Frames sent, retries, bad frames and the like, for the report."""
        d = self.decoder.counters()
        return {**self._n, "frames_received": d.pop("frames"), "bad_frames": d.pop("dropped"),
                **d}

    # ---- requests ---------------------------------------------------------------

    def request(
        self,
        type_: int,
        payload: bytes = b"",
        *,
        timeout: float | None = None,
        retries: int | None = None,
        total: float | None = None,
    ) -> Frame:
        """Send a request and return its response frame (type ``type_ | 0x80``).

        Resends with the same seq after ``timeout`` s or on a corrupt frame, at most
        ``retries`` times, and gives up after ``total`` s (default
        ``timeout * (retries + 1)``): DeviceTimeout. An ERROR answer raises
        ProtocolError, a FAULT frame DeviceFault.
        """
        req = self.new_request(type_, payload)
        return self.complete(req, timeout=timeout, retries=retries, total=total)

    def new_request(self, type_: int, payload: bytes) -> Outgoing:
        """Number and encode a request (not sent yet); see :meth:`send`, :meth:`complete`."""
        seq = self._next
        self._next = self._next % 0xFFFF + 1  # 1..65535; 0 is for unsolicited frames
        self._n["requests"] += 1
        return Outgoing(type_, seq, b"\x00" + encode_frame(type_, seq, payload))

    def send(self, req: Outgoing) -> None:
        """Put ``req`` on the wire (again: then it counts as a retry)."""
        self._n["retries"] += req.sends > 0
        self._write(req.wire)
        req.sends += 1

    def complete(
        self,
        req: Outgoing,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        total: float | None = None,
        count_timeout: bool = True,
        stash: dict[int, Frame | None] | None = None,
    ) -> Frame:
        """Wait for the answer to ``req``, resending it (same seq) as :meth:`request` does.

        A ``req`` already sent once is resent right away, unless ``stash`` holds
        its answer already; answers to the other seqs in ``stash`` that arrive
        meanwhile are kept there.
        """
        if stash is not None and (frame := stash.pop(req.seq, None)) is not None:
            return self._checked(req.type, frame)
        per = self.timeout if timeout is None else timeout
        tries = self.retries if retries is None else retries
        bound = Deadline(per * (tries + 1) if total is None else total)
        dropped_before = self.decoder.dropped
        while True:
            if req.sends <= tries:
                self.send(req)
            more = req.sends <= tries
            wait = Deadline(min(per, bound.remaining())) if more else bound
            frame = self._await(req.seq, req.expect, wait, stop_on_bad=more, stash=stash)
            if frame is not None:
                return self._checked(req.type, frame)
            if bound.expired():
                self._n["timeouts"] += count_timeout
                dropped = self.decoder.dropped - dropped_before
                raise DeviceTimeout(
                    f"no answer from {self.name} to {type_name(req.type)} (seq {req.seq}) "
                    f"within {bound.elapsed():.1f} s and {req.sends} sends; {dropped} corrupt "
                    f"frames dropped meanwhile; {self._rx_summary()}",
                    hint="is the firmware running, and the port and baud rate right?",
                )

    def try_answer(self, req: Outgoing, stash: dict[int, Frame | None]) -> Frame | None:
        """The answer to ``req`` (sent, one of the keys of ``stash``), waiting at most
        ``timeout`` s; None at the first sign of trouble: no answer yet, a corrupt
        frame, or the answer to another seq of ``stash`` first."""
        frame = stash.pop(req.seq, None)
        if frame is None:
            frame = self._await(req.seq, req.expect, Deadline(self.timeout), stop_on_bad=True,
                                stash=stash, stop_on_later=True)
        if frame is None:
            stash[req.seq] = None
            return None
        return self._checked(req.type, frame)

    def _checked(self, type_: int, frame: Frame) -> Frame:
        """``frame`` answers a ``type_`` request; an ERROR answer raises ProtocolError."""
        if frame.type == ERROR:
            code = frame.payload[0] if frame.payload else -1
            msg = frame.payload[1:].decode("utf-8", errors="replace")
            raise ProtocolError(
                f"{self.name} rejected {type_name(type_)}: {status_name(code)}"
                + (f": {msg}" if msg else "")
            )
        return frame

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except OSError as exc:  # pyserial's SerialException is an OSError
            raise DeviceError(f"cannot write to {self.name}: {exc}") from exc
        self._n["frames_sent"] += 1
        self._n["bytes_sent"] += len(data)

    def _read_some(self) -> None:
        """Wait up to the port timeout for bytes, then take all that are waiting."""
        try:
            data = bytearray(self.port.read(1))
            if data and self._drain_nonblocking:
                wait, self.port.timeout = self.port.timeout, 0
                try:
                    data += self.port.read(1 << 16)
                finally:
                    self.port.timeout = wait
            while data and len(data) < 1 << 16:
                n = self.port.in_waiting
                if not n:
                    break
                data += self.port.read(n)
        except OSError as exc:
            raise DeviceError(f"cannot read from {self.name}: {exc}") from exc
        if data:
            self._n["bytes_received"] += len(data)
            self._tail = (self._tail + data)[-TAIL_BYTES:]
            self._pending.extend(self.decoder.feed(bytes(data)))

    def _await(
        self,
        seq: int,
        expect: int,
        wait: Deadline,
        *,
        stop_on_bad: bool,
        stash: dict[int, Frame | None] | None = None,
        stop_on_later: bool = False,
    ) -> Frame | None:
        """Handle incoming frames until the answer to ``seq`` arrives or ``wait`` ends.

        Returns None on timeout, or early when a corrupt frame arrived and
        ``stop_on_bad`` (so that the caller resends right away). Answers to the
        other seqs that are keys of ``stash`` (same type) are stored there (and, with
        ``stop_on_later``, end the wait: the device answers in order, so ``seq``
        or its answer was lost).
        """
        dropped = self.decoder.dropped
        while True:
            while self._pending:
                frame = self._pending.popleft()
                if self._unsolicited(frame):
                    continue
                if frame.seq == seq and frame.type in (expect, ERROR):
                    return frame
                if frame.seq == seq:
                    raise ProtocolError(
                        f"{self.name} answered request seq {seq} with a "
                        f"{type_name(frame.type)} frame, expected {type_name(expect)}"
                    )
                if (stash is not None and frame.type in (expect, ERROR)
                        and stash.get(frame.seq, frame) is None):
                    stash[frame.seq] = frame  # checked by whoever waits for that seq
                    if stop_on_later:
                        return None
                else:
                    self._n["stale"] += 1
            if stop_on_bad and self.decoder.dropped != dropped:
                return None
            if wait.expired():
                return None
            self._read_some()

    def _unsolicited(self, frame: Frame) -> bool:
        """Consume LOG / FAULT and echoed request frames; True if ``frame`` was one."""
        if frame.type == LOG:
            text = frame.payload.decode("utf-8", errors="replace")
            self._n["logs"] += 1
            self.logs.append(text)
            del self.logs[:-MAX_LOGS]
            if self.on_log is not None:
                self.on_log(text)
            return True
        if frame.type == FAULT:
            self.fault = decode_fault(frame.payload)
            exc = DeviceFault(f"{self.name} faulted: {format_fault(self.fault)}")
            exc.registers = self.fault  # type: ignore[attr-defined]
            raise exc
        if frame.type < RESPONSE_BIT and frame.type != ERROR:
            self._n["ignored"] += 1  # a request (e.g. our own, echoed by loop://)
            return True
        return False

    def _rx_summary(self) -> str:
        """What came in so far, for a timeout message, and where the backend logs."""
        d = self.decoder
        log = f"; backend log: {self.backend_log}" if self.backend_log else ""
        if not self._n["bytes_received"]:
            return "nothing received since the link opened" + log
        return (
            f"{d.frames} good / {d.dropped} bad frames since the link opened; "
            f"last bytes received: {self._tail.hex(' ')}{log}"
        )

    def poll(self, duration: float = 0.0) -> list[str]:
        """Process incoming frames (LOG, FAULT) for ``duration`` s; returns new log lines."""
        before = self._n["logs"]
        wait = Deadline(duration)
        while True:
            self._read_some()
            while self._pending:
                if not self._unsolicited(self._pending.popleft()):
                    self._n["stale"] += 1
            if wait.expired():
                new = self._n["logs"] - before
                return self.logs[-new:] if new else []

    # ---- high level ---------------------------------------------------------------

    def hello(self, *, timeout: float | None = None, retries: int | None = None) -> dict[str, str]:
        """HELLO -> the device's INFO as a dict (``proto``, ``build_id``, ``target``...)."""
        return self._hello(timeout, retries, count_timeout=True)

    def _hello(
        self, timeout: float | None, retries: int | None, *, count_timeout: bool
    ) -> dict[str, str]:
        frame = self.complete(self.new_request(HELLO, b""), timeout=timeout, retries=retries,
                              count_timeout=count_timeout)
        info = parse_kv(frame.payload)
        if info.get("max_payload", "").isdigit():  # small targets build smaller frames
            self.max_payload = min(MAX_PAYLOAD, int(info["max_payload"]))
        if info.get("proto", str(PROTO_VERSION)) != str(PROTO_VERSION):
            raise ProtocolError(
                f"{self.name} speaks protocol {info['proto']}; this harness speaks {PROTO_VERSION}",
                hint="rebuild the firmware with this harness version",
            )
        return info

    def wait_for_device(self, timeout: float = 10.0, *, interval: float = 0.25) -> dict[str, str]:
        """Send HELLO every ``interval`` s until the device answers; returns its INFO.

        Bytes sent before a device's UART is up are lost, hence the repetition.
        """
        deadline = Deadline(timeout)
        while True:
            try:
                wait = max(0.01, min(interval, deadline.remaining()))
                return self._hello(wait, 0, count_timeout=False)
            except DeviceTimeout:
                if deadline.expired():
                    self._n["timeouts"] += 1
                    raise DeviceTimeout(
                        f"{self.name} did not answer HELLO within {timeout:.1f} s; "
                        f"{self._rx_summary()}",
                        hint="did the firmware boot? is the port and baud rate right?",
                    ) from None

    def stats(self) -> bytes:
        """The app-defined STATS payload (``parse_kv`` it if the app writes key=value)."""
        return self.request(STATS).payload
