"""The DeviceClient (harness/device/client.py) against the real device C code
(support/testdev.py) over a pty and a TCP socket: every request round-trips, and a lost
write in a window is resent as soon as a later answer shows it.
"""

from __future__ import annotations

import random
import struct
import time
import zlib
from pathlib import Path

import pytest

from harness.device.protocol import WRITE_INPUT, FrameDecoder
from harness.errors import DeviceError, DeviceFault, ProtocolError
from support.testdev import (
    T_BIG,
    T_CRC,
    T_ECHO,
    T_FAULT,
    T_LOGS,
    Relay,
    Rig,
    random_payloads,
    special_payloads,
)


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
