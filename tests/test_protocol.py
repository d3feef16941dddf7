"""Wire protocol tests: codec, decoder recovery, and Link against the real device C code.

The device side (firmware/proto/hx_proto.c) is compiled for the host together
with tests/support/hx_testdev.c into a program that uses stdin/stdout as its UART. The
Link talks to it over a real pty pair or a TCP socket, through a relay thread
that can flip bits, drop, truncate and duplicate frames and insert garbage.
"""

from __future__ import annotations

import os
import random
import select
import shutil
import socket
import struct
import subprocess
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import serial

from harness.device.client import DeviceClient
from harness.device.deadline import Deadline
from harness.device.link import Link
from harness.device.protocol import (
    ACK,
    FAULT,
    INVOKED,
    LOG,
    MAX_ENCODED,
    MAX_PAYLOAD,
    WRITE_INPUT,
    CobsError,
    Frame,
    FrameDecoder,
    cobs_decode,
    cobs_encode,
    crc32,
    decode_fault,
    encode_frame,
    pack_frame,
    parse_kv,
)
from harness.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError

ROOT = Path(__file__).resolve().parent.parent
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


# ---- codec -------------------------------------------------------------------------------


def test_crc32_matches_zlib() -> None:
    rng = random.Random(1)
    assert crc32(b"123456789") == 0xCBF43926
    for _ in range(200):
        data = rng.randbytes(rng.randrange(2000))
        assert crc32(data) == zlib.crc32(data)


def test_cobs_round_trip() -> None:
    rng = random.Random(2)
    for data in special_payloads() + random_payloads(rng, 300):
        enc = cobs_encode(data)
        assert 0 not in enc
        assert len(enc) <= len(data) + len(data) // 254 + 1
        assert cobs_decode(enc) == data
    for bad in (b"\x05\x01", b"\x03\x01\x00", b"\x00"):
        with pytest.raises(CobsError):
            cobs_decode(bad)


def test_frame_round_trip() -> None:
    rng = random.Random(3)
    frames = [
        Frame(rng.randrange(256), rng.randrange(0x10000), p)
        for p in special_payloads() + random_payloads(rng, 200)
    ]
    wire = b"".join(encode_frame(f.type, f.seq, f.payload) for f in frames)
    assert max(len(encode_frame(0, 0, p)) for p in special_payloads()) <= MAX_ENCODED
    dec = FrameDecoder()
    assert dec.feed(wire) == frames
    assert dec.frames == len(frames) and dec.dropped == 0
    # The same stream in random small pieces, with empty frames in between.
    dec = FrameDecoder()
    wire = b"\x00".join(encode_frame(f.type, f.seq, f.payload) for f in frames)
    got, pos = [], 0
    while pos < len(wire):
        step = rng.randrange(1, 700)
        got += dec.feed(wire[pos : pos + step])
        pos += step
    assert got == frames and dec.dropped == 0
    with pytest.raises(ValueError):
        encode_frame(1, 1, bytes(MAX_PAYLOAD + 1))


def test_single_bit_flips_are_rejected_and_the_next_frame_recovered() -> None:
    rng = random.Random(4)
    a = Frame(0x84, 7, rng.randbytes(40))
    b_frame = Frame(0x84, 8, rng.randbytes(60) + bytes(20) + b"\xff" * 300)
    c = Frame(0x84, 9, b"after")
    wa, wb, wc = (encode_frame(f.type, f.seq, f.payload) for f in (a, b_frame, c))
    body = wb[:-1]  # flips in the delimiter are covered below
    for bit in range(len(body) * 8):
        bad = bytearray(body)
        bad[bit // 8] ^= 1 << (bit % 8)
        dec = FrameDecoder()
        assert dec.feed(wa + bytes(bad) + b"\x00" + wc) == [a, c], f"bit {bit}"
        assert dec.dropped >= 1 and dec.frames == 2
    # A flipped delimiter merges B with C: both lost, the sender's next frame is fine.
    dec = FrameDecoder()
    assert dec.feed(wa + body + b"\x01" + wc + wa) == [a, a]
    assert dec.dropped == 1


def test_truncated_garbage_and_overflow_are_dropped() -> None:
    rng = random.Random(5)
    good = Frame(0x81, 42, b"key=value\n")
    wg = encode_frame(good.type, good.seq, good.payload)
    wb = encode_frame(0x84, 43, rng.randbytes(500))
    for cut in range(1, len(wb) - 1):
        dec = FrameDecoder()
        assert dec.feed(wb[:cut] + b"\x00" + wg) == [good], cut
        assert dec.dropped == 1
    # Garbage with and without zeros, then the frame (with a leading 0x00, as the host sends).
    for _ in range(200):
        dec = FrameDecoder()
        assert dec.feed(rng.randbytes(rng.randrange(1, 3000)) + b"\x00" + wg) == [good]
    # Far too long: one overflow, then recovery.
    dec = FrameDecoder()
    assert dec.feed(b"\x07" * 5000 + b"\x00" + wg) == [good]
    assert dec.overflow == 1 and dec.dropped == 1
    # A valid CRC but the wrong version or length field.
    raw = bytearray(pack_frame(0x81, 1, b"x"))
    raw[0] = 2
    raw[-4:] = struct.pack("<I", crc32(bytes(raw[:-4])))
    dec = FrameDecoder()
    assert dec.feed(cobs_encode(bytes(raw)) + b"\x00" + wg) == [good]
    assert dec.bad_version == 1
    dec = FrameDecoder()
    assert dec.feed(cobs_encode(pack_frame(0x81, 1, b"x")[:-5]) + b"\x00" + wg) == [good]
    assert dec.bad_len == 1
    assert dec.counters()["dropped"] == 1


def test_parse_kv_and_fault_decoding() -> None:
    assert parse_kv(b"proto=1\nbuild_id=abc\n\njunk\n model_hash = 12 \n") == {
        "proto": "1",
        "build_id": "abc",
        "model_hash": "12",
    }
    regs = decode_fault(struct.pack("<6I", 0x10000, 1 << 30, 0x800, 0xFFFFFFF9, 0, 0))
    assert regs["CFSR"] == 0x10000 and regs["PC"] == 0x800


# ---- Link over loop:// --------------------------------------------------------------------


def loop_link(**kwargs: object) -> tuple[serial.SerialBase, Link]:
    port = serial.serial_for_url("loop://", timeout=0.02)
    return port, Link(port, **kwargs)  # type: ignore[arg-type]


def test_silent_device_times_out_within_the_bound() -> None:
    # loop:// echoes our own requests: the Link must ignore them and give up in time.
    link = Link.open("loop://", timeout=0.2, retries=2, seq=500)
    start = time.monotonic()
    with pytest.raises(DeviceTimeout) as err:
        link.hello()
    elapsed = time.monotonic() - start
    assert 0.55 <= elapsed <= 0.6 + 0.5
    msg = str(err.value)
    assert "HELLO (seq 500)" in msg and "3 sends" in msg and "last bytes received" in msg
    c = link.counters()
    assert c["frames_sent"] == 3 and c["retries"] == 2 and c["timeouts"] == 1
    assert c["ignored"] == 3 and c["bad_frames"] == 0
    start = time.monotonic()
    with pytest.raises(DeviceTimeout, match="did not answer HELLO within 0.5 s"):
        link.wait_for_device(0.5, interval=0.1)
    assert time.monotonic() - start <= 0.5 + 0.5


def test_timeouts_name_the_backend_log(tmp_path: Path) -> None:
    log = tmp_path / "qemu.log"
    link = Link.open("loop://", timeout=0.05, retries=1, backend_log=log)
    with pytest.raises(DeviceTimeout) as err:
        link.hello()
    assert "last bytes received" in str(err.value) and f"backend log: {log}" in str(err.value)
    with pytest.raises(DeviceTimeout, match="did not answer HELLO") as err:
        link.wait_for_device(0.2, interval=0.05)
    assert f"backend log: {log}" in str(err.value)
    assert "backend log" not in Link.open("loop://")._rx_summary()


def test_link_handles_logs_stale_frames_errors_and_faults() -> None:
    seen: list[str] = []
    port, link = loop_link(seq=100, timeout=0.3, retries=1, on_log=seen.append)
    client = DeviceClient(link)
    port.write(
        encode_frame(LOG, 0, b"booted")
        + encode_frame(INVOKED, 99, b"\x00" + struct.pack("<I", 1))  # stale
        + b"garbage\x00"
        + encode_frame(INVOKED, 100, b"\x00" + struct.pack("<I", 1234))
    )
    assert client.invoke() == 1234
    assert seen == ["booted"] and link.logs == ["booted"]
    c = link.counters()
    assert c["stale"] == 1 and c["bad_frames"] == 1 and c["logs"] == 1

    port.write(encode_frame(0x7D, 101, b"\x04beyond the end"))
    with pytest.raises(ProtocolError, match="READ_OUTPUT: RANGE: beyond the end"):
        client.read_output(0, 10)

    port.write(encode_frame(ACK, 102, b"\x03"))
    with pytest.raises(DeviceError, match="BAD_INDEX"):
        client.write_input(5, b"abc")

    regs = struct.pack("<6I", 0x02000000, 0x40000000, 0x08000ABC, 0xFFFFFFF9, 0, 0)
    port.write(encode_frame(FAULT, 0, regs))
    with pytest.raises(DeviceFault, match=r"PC=0x08000ABC.*DIVBYZERO.*FORCED") as err:
        client.invoke()
    assert err.value.registers["PC"] == 0x08000ABC  # type: ignore[attr-defined]
    assert link.fault is not None and link.fault["CFSR"] == 0x02000000

    # A wrong-type answer to our seq is a protocol error, not something to wait out.
    port.write(encode_frame(0x86, 104, b""))
    with pytest.raises(ProtocolError, match="expected INFO"):
        link.hello()


def test_corrupt_frame_triggers_an_early_resend() -> None:
    port, link = loop_link(seq=7, timeout=5.0, retries=1)
    bad = bytearray(encode_frame(INVOKED, 7, b"\x00\x00\x00\x00\x00"))
    bad[3] ^= 0x10
    port.write(bytes(bad))
    start = time.monotonic()
    with pytest.raises(DeviceTimeout, match="1 corrupt frames dropped"):
        link.request(0x03, b"\x00", total=0.5)
    assert time.monotonic() - start <= 0.5 + 0.5
    c = link.counters()
    assert c["frames_sent"] == 2 and c["retries"] == 1 and c["bad_crc"] == 1


def test_deadline() -> None:
    d = Deadline(0.05)
    assert not d.expired() and 0 < d.remaining() <= 0.05
    time.sleep(0.06)
    assert d.expired() and d.remaining() == 0.0 and d.elapsed() >= 0.05
    assert Deadline(None).remaining() == float("inf") and not Deadline(None).expired()


# ---- the device C code -----------------------------------------------------------------


@pytest.fixture(scope="session")
def testdev(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed")
    exe = tmp_path_factory.mktemp("testdev") / "hx_testdev"
    cmd = [
        gcc,
        "-std=c99",
        "-pedantic",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wconversion",
        f"-I{PROTO_DIR}",
        str(ROOT / "tests" / "support" / "hx_testdev.c"),
        str(PROTO_DIR / "hx_proto.c"),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return exe


def test_device_code_builds_for_cortex_m4(tmp_path: Path) -> None:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        pytest.skip("arm-none-eabi-gcc not installed")
    cmd = [
        gcc,
        "-mcpu=cortex-m4",
        "-mthumb",
        "-mfpu=fpv4-sp-d16",
        "-mfloat-abi=hard",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-c",
        str(PROTO_DIR / "hx_proto.c"),
        "-o",
        str(tmp_path / "hx_proto.o"),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0 and not res.stderr, res.stderr


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


@pytest.fixture(params=["pty", "socket"])
def rig(request: pytest.FixtureRequest, testdev: Path):
    r = Rig(testdev, request.param)
    yield r
    r.close()


def test_device_round_trips(rig: Rig) -> None:
    link, client = rig.link, rig.client
    info = link.wait_for_device(5.0)
    assert info["build_id"] == "testdev" and info["proto"] == "1"
    assert info["clock_hz"] == "4000000000" and info["counter"] == "none"
    link.poll(0.05)
    assert "testdev up" in link.logs

    rng = random.Random(6)
    in0, in1 = rng.randbytes(3000), rng.randbytes(16)
    client.write_input(0, bytes(3000), chunk=100, window=8)  # 30 requests, 8 in flight
    assert client.read_tensor(0, 3000) == bytes(3000)
    client.write_input(0, in0, window=1)  # stop and wait
    assert client.read_tensor(0, 3000) == in0
    client.write_input(0, in0)
    client.write_input(1, in1, chunk=5)
    assert client.invoke(flags=1) == 1
    neg = bytes((-b) & 0xFF for b in in0)
    assert client.read_output(0, 3000) == neg
    assert client.read_output(0, 3000, chunk=999) == neg
    assert client.read_output(1, 16) == in1[::-1]
    assert client.read_tensor(0, 3000) == in0 and client.read_tensor(3, 16) == in1[::-1]
    assert link.logs[-1] == "invoked"

    for payload in special_payloads() + random_payloads(rng, 40):
        assert link.request(T_ECHO, payload).payload == payload
        assert link.request(T_CRC, payload).payload == struct.pack("<I", zlib.crc32(payload))

    with pytest.raises(ProtocolError, match="UNKNOWN_TYPE"):
        link.request(0x55)
    with pytest.raises(ProtocolError, match="TOO_BIG"):
        link.request(T_BIG)
    with pytest.raises(ProtocolError, match="RANGE"):
        client.read_output(0, 3001)
    with pytest.raises(ProtocolError, match="BAD_INDEX"):
        client.read_tensor(9, 1)
    with pytest.raises(DeviceError, match="RANGE"):
        client.write_input(1, bytes(17))
    with pytest.raises(DeviceError, match="input 1 bytes 15..: RANGE"):
        client.write_input(1, bytes(20), chunk=5)  # the 4th of 4 in flight is refused
    with pytest.raises(ValueError, match="window"):
        client.write_input(0, b"x", window=0)
    with pytest.raises(DeviceFault, match=r"PC=0x08001234.*UNDEFINSTR.*FORCED"):
        link.request(T_FAULT)

    before = len(link.logs)
    link.request(T_LOGS, b"\x0c")
    assert link.logs[before:] == [f"log line {i % 10}" for i in range(12)]

    stats = rig.device_stats()
    assert stats["invokes"] == 1 and stats["proto_rx_bad_crc"] == 0
    c = link.counters()
    assert c["bad_frames"] == 0 and c["retries"] == 0 and c["timeouts"] == 0


def test_retries_never_run_a_request_twice(testdev: Path) -> None:
    # The device sleeps 400 ms inside INVOKE; the host resends every 100 ms.
    rig = Rig(testdev, "pty")
    try:
        link, client = rig.link, rig.client
        link.timeout = 0.1
        link.wait_for_device(5.0)
        assert client.invoke(flags=2) == 1
        assert client.invoke() == 2
        assert link.counters()["retries"] >= 2
        link.poll(0.1)  # the late cached answers are stale, not errors
        assert link.counters()["stale"] >= 1
        stats = rig.device_stats()
        assert stats["invokes"] == 2 and stats["proto_rx_duplicate"] >= 2
    finally:
        rig.close()


class DropFirstWrite(Relay):
    """Loses the first WRITE_INPUT request on its way to the device."""

    lost = 0

    def _forward(self, frame: bytes, dst: int, way: str, rng: random.Random) -> None:
        if way == "h2d" and not self.lost:
            decoded = FrameDecoder().feed(frame)
            if decoded and decoded[0].type == WRITE_INPUT:
                self.lost = decoded[0].seq
                return
        super()._forward(frame, dst, way, rng)


def test_write_window_resends_a_lost_request_at_once(testdev: Path) -> None:
    # Requests 2.. are answered while 1 is not: the device answers in order, so
    # request 1 was lost, and the host resends it without waiting for its timeout.
    rig = Rig(testdev, "pty", relay_cls=DropFirstWrite)
    try:
        link, client = rig.link, rig.client
        link.timeout = 3.0
        link.wait_for_device(5.0)
        data = random.Random(13).randbytes(3000)
        start = time.monotonic()
        client.write_input(0, data, chunk=500, window=3)
        assert time.monotonic() - start < 1.5
        assert isinstance(rig.relay, DropFirstWrite) and rig.relay.lost
        c = link.counters()
        assert c["retries"] == 1 and c["timeouts"] == 0 and c["stale"] == 0
        assert client.read_tensor(0, 3000) == data
        stats = rig.device_stats()
        assert stats["proto_rx_ok"] >= 7 and stats["proto_rx_bad_crc"] == 0
    finally:
        rig.close()


def test_wait_for_device_while_its_uart_is_down(testdev: Path) -> None:
    rig = Rig(testdev, "pty", deaf_for=0.6)
    try:
        start = time.monotonic()
        assert rig.link.wait_for_device(5.0, interval=0.1)["target"] == "host"
        assert 0.55 <= time.monotonic() - start < 5.0
        assert rig.relay.stats["h2d"]["deaf"] >= 3
        assert rig.link.counters()["timeouts"] == 0
    finally:
        rig.close()


@pytest.mark.parametrize("transport", ["pty", "socket"])
def test_noisy_line(testdev: Path, transport: str) -> None:
    """Bit flips, drops, duplicates, truncation, garbage in both directions: all answers right."""
    rig = Rig(testdev, transport, seed=11, faults=0.12)
    try:
        link, client = rig.link, rig.client
        link.timeout, link.retries = 0.15, 10
        link.wait_for_device(5.0)
        rng = random.Random(12)
        invokes = 0
        for i in range(60):
            if i % 3 == 0:
                data = rng.randbytes(3000)
                client.write_input(0, data)
                invokes += 1
                assert client.invoke() == invokes  # exactly once, whatever was resent
                assert client.read_output(0, 3000) == bytes((-b) & 0xFF for b in data)
            else:
                payload = random_payloads(rng, 1)[0]
                assert link.request(T_ECHO, payload).payload == payload
        stats = rig.device_stats()
        c = link.counters()
        injected = rig.relay.stats
        assert sum(injected["h2d"].values()) > 0 and injected["d2h"]["flip"] > 0
        assert c["retries"] > 0 and c["bad_frames"] > 0 and c["timeouts"] == 0
        assert stats["invokes"] == invokes
        bad = ("proto_rx_bad_crc", "proto_rx_bad_cobs", "proto_rx_bad_len", "proto_rx_overflow")
        assert sum(stats[k] for k in bad) > 0
        assert stats["proto_rx_duplicate"] > 0
    finally:
        rig.close()
