"""harness/device/counter.py: how a counter figure is written for people."""

from __future__ import annotations

from harness.device.counter import count_text


def test_counts_are_short() -> None:
    assert count_text(1_780_000, "instructions") == "1.78 M instructions"
    assert count_text(45_000, "cycles") == "45.0 k cycles"
    assert count_text(5_423, "instructions") == "5,423 instructions"  # hello_world: not 0.01 M
    assert count_text(812, None) == "812 ticks"
    assert count_text(None, "cycles") == ""
