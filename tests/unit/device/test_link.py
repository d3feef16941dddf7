"""The Link (harness/device/link.py) over loop:// and against the real device C code
(support/testdev.py): timeouts within their bound, stale frames, logs, faults, resends that
never run a request twice.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

import pytest
import serial

from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.protocol import ACK, FAULT, INVOKED, LOG, encode_frame
from harness.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError
from support.testdev import Rig

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
