"""harness/device/deadline.py."""

from __future__ import annotations

import time

from harness.device.deadline import Deadline


def test_deadline() -> None:
    d = Deadline(0.05)
    assert not d.expired() and 0 < d.remaining() <= 0.05
    time.sleep(0.06)
    assert d.expired() and d.remaining() == 0.0 and d.elapsed() >= 0.05
    assert Deadline(None).remaining() == float("inf") and not Deadline(None).expired()
