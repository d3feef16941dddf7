"""The device side of the wire protocol on the host, for the Link and client tests.

firmware/proto/hx_proto.c is compiled for the host together with tests/support/hx_testdev.c
into a program that uses stdin/stdout as its UART (the `testdev` fixture in
tests/conftest.py builds it). :class:`Rig` connects a :class:`~harness.device.link.Link` to
it over a real pty pair or a TCP socket, through a :class:`Relay` thread that can flip bits,
drop, truncate and duplicate frames and insert garbage.
"""

from __future__ import annotations

import os
import random
import select
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.protocol import MAX_PAYLOAD, parse_kv
from support.paths import ROOT

PROTO_DIR = ROOT / "firmware" / "proto"
T_ECHO, T_FAULT, T_LOGS, T_CRC, T_BIG = 0x40, 0x41, 0x42, 0x43, 0x44


def special_payloads() -> list[bytes]:
    out = [b"", b"\x00", b"\xff", bytes(MAX_PAYLOAD), b"\xff" * MAX_PAYLOAD]
    for n in (1, 253, 254, 255, 256, 507, 508, 509, 1018, 1019, 1023, 1024):
        runs = (b"\x01" * 253 + b"\x00") * (n // 254) + b"\x02" * (n % 254)
        out += [b"\xff" * n, b"\x00" * n, runs]
    return [p[:MAX_PAYLOAD] for p in out]


def random_payloads(rng: random.Random, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        n = rng.randrange(MAX_PAYLOAD + 1)
        kind = rng.randrange(3)
        if kind == 0:
            out.append(rng.randbytes(n))
        elif kind == 1:  # sparse: mostly zeros
            out.append(bytes(rng.choice((0, 0, 0, rng.randrange(256))) for _ in range(n)))
        else:  # long non-zero runs
            out.append(bytes(rng.randrange(1, 256) if rng.random() > 2e-3 else 0 for _ in range(n)))
    return out


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Relay:
    """Copies frames between the host end and the device, injecting faults per frame."""

    def __init__(
        self,
        host_fd: int,
        dev_in: int,
        dev_out: int,
        *,
        seed: int = 0,
        faults: float = 0.0,
        deaf_for: float = 0.0,
    ) -> None:
        self.faults = faults
        self.deaf_until = time.monotonic() + deaf_for  # host->device bytes lost until then
        self.stats = {"h2d": Counter[str](), "d2h": Counter[str]()}
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._pump, args=(host_fd, dev_in, "h2d", seed), daemon=True),
            threading.Thread(
                target=self._pump, args=(dev_out, host_fd, "d2h", seed + 1), daemon=True
            ),
        ]
        for t in self.threads:
            t.start()

    def _pump(self, src: int, dst: int, way: str, seed: int) -> None:
        rng = random.Random(seed)
        buf = bytearray()
        while not self.stop.is_set():
            if not select.select([src], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(src, 4096)
                if not data:
                    return
                buf += data
                while (end := buf.find(0)) >= 0:
                    frame = bytes(buf[: end + 1])
                    del buf[: end + 1]
                    self._forward(frame, dst, way, rng)
            except OSError:
                return

    def _forward(self, frame: bytes, dst: int, way: str, rng: random.Random) -> None:
        st = self.stats[way]
        if way == "h2d" and time.monotonic() < self.deaf_until:
            st["deaf"] += 1
            return
        st["frames"] += frame != b"\x00"
        copies = 1
        if frame != b"\x00" and rng.random() < self.faults:
            kind = rng.choice(("flip", "flip", "drop", "dup", "truncate", "garbage"))
            st[kind] += 1
            if kind == "flip":
                bad = bytearray(frame)
                bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
                frame = bytes(bad)
            elif kind == "drop":
                return
            elif kind == "dup":
                copies = 2
            elif kind == "truncate":
                frame = frame[: rng.randrange(len(frame))]
            else:
                frame = rng.randbytes(rng.randrange(1, 40)) + frame
        write_all(dst, frame * copies)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(2)


class Rig:
    """hx_testdev <-> Relay <-> (pty | TCP socket) <-> Link."""

    def __init__(self, exe: Path, transport: str, relay_cls: type[Relay] | None = None,
                 **relay_kwargs: object) -> None:
        self.proc = subprocess.Popen([str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._closers: list[Callable[[], None]] = []
        if transport == "pty":
            master, slave = os.openpty()
            url = os.ttyname(slave)
            self._closers += [lambda: os.close(master), lambda: os.close(slave)]
            host_fd = master
        else:
            server = socket.create_server(("127.0.0.1", 0))
            url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        self.link = Link.open(url, timeout=0.5, retries=4, seq=1)
        self.client = DeviceClient(self.link)
        if transport != "pty":
            conn, _ = server.accept()
            server.close()
            self._closers.append(conn.close)
            host_fd = conn.fileno()
        self.relay = (relay_cls or Relay)(
            host_fd, self.proc.stdin.fileno(), self.proc.stdout.fileno(), **relay_kwargs
        )  # type: ignore[arg-type]

    def device_stats(self) -> dict[str, int]:
        return {k: int(v) for k, v in parse_kv(self.link.stats()).items()}

    def close(self) -> None:
        self.link.close()
        self.relay.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(5)
        for close in self._closers:
            close()
