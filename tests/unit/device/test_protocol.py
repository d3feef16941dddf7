"""The wire protocol's codec (harness/device/protocol.py): CRC, COBS, frames, and the
decoder's recovery from corrupt, truncated and overlong input.
"""

from __future__ import annotations

import random
import struct
import zlib

import pytest

from harness.device.protocol import (
    MAX_ENCODED,
    MAX_PAYLOAD,
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
from support.testdev import random_payloads, special_payloads

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
