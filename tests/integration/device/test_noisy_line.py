"""Soak tests of the link on noisy lines, against the real device C code behind a real
pty or TCP socket (support/testdev.py); they need neither the cross-compiler nor QEMU, but
take some 40 s, so they run with the integration tier.

Frame-level faults (bit flips, drops, duplicates, truncation, garbage, 12% of frames both
ways) and a byte-level noisy line (1% of bytes corrupted, 0.5% dropped, both ways): every
answer must be right and no corrupted frame may be accepted, also with several input-write
requests in flight at once. CI runs 1,000 byte-level exchanges; `invoke test --full` runs
the 10,000 of the acceptance.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from support.paths import FULL
from support.testdev import T_ECHO, Relay, Rig, random_payloads


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


EXCHANGES = 10_000 if FULL else 1_000


class ByteNoiseRelay(Relay):
    """Per byte: flip one bit with p=1%, drop it with p=0.5%."""

    def _forward(self, frame, dst, way, rng):  # type: ignore[override]
        st = self.stats[way]
        st["frames"] += frame != b"\x00"
        out = bytearray()
        for b in frame:
            r = rng.random()
            if r < 0.005:
                st["dropped_bytes"] += 1
                continue
            if r < 0.015:
                st["corrupted_bytes"] += 1
                b ^= 1 << rng.randrange(8)
            out.append(b)
        st["bytes"] += len(frame)
        from support.testdev import write_all

        write_all(dst, bytes(out))


def test_frames_on_a_noisy_line(testdev, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("support.testdev.Relay", ByteNoiseRelay)
    rig = Rig(testdev, "pty", seed=21)
    try:
        link, client = rig.link, rig.client
        link.timeout, link.retries = 0.02, 40
        link.wait_for_device(5.0)
        rng = random.Random(22)
        wrong = 0
        invokes = 0
        for i in range(EXCHANGES):
            if i % 10 == 0:  # a "vector": write input, invoke, read the output back
                # 5 WRITE_INPUT frames, 3 in flight: the window and its fallback to
                # one-at-a-time retries see corruption and drops too.
                data = rng.randbytes(120)
                client.write_input(0, data, chunk=24, window=3)
                invokes += 1
                assert client.invoke() == invokes
                wrong += client.read_output(0, 120, chunk=24) != bytes((-b) & 0xFF for b in data)
            else:
                payload = rng.randbytes(rng.randrange(1, 24))
                wrong += link.request(T_ECHO, payload).payload != payload
        noise = rig.relay.stats
        c = link.counters()
    finally:
        rig.close()
    print(f"\nnoisy line: {EXCHANGES} exchanges, {c['frames_sent']} frames sent, "
          f"{c['retries']} retries, {c['bad_frames']} bad frames dropped by the host, "
          f"injected h2d {dict(noise['h2d'])}, d2h {dict(noise['d2h'])}; wrong answers {wrong}")
    assert wrong == 0
    for way in ("h2d", "d2h"):
        assert noise[way]["corrupted_bytes"] > 0 and noise[way]["dropped_bytes"] > 0
    assert c["retries"] > 0 and c["bad_frames"] > 0
