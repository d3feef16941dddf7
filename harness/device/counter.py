"""What the device's counter counted, labelled: cycles or instructions, never mixed up."""

from __future__ import annotations

import numpy as np

from harness.device.backends.base import Backend
from harness.targets.target import Target


def counter_section(kind: str, counts: list[int], backend: Backend, target: Target) -> dict:
    """Turn the device's raw counter ticks into labelled figures.

    SysTick runs on the core clock: cycles on a board. Under QEMU with -icount
    shift=0 virtual time advances 1 ns per instruction, so ticks * 1e9 / clock
    are instructions, not cycles, and are labelled so.
    """
    if kind not in ("systick", "dwt") or not counts:
        return {"kind": kind, "unit": None, "per_inference": [], "median": None}
    scale = 1.0
    if backend.counter_how:  # the backend answers the counter reads itself (Renode)
        values, unit, how = list(counts), backend.counter_kind, backend.counter_how
    elif kind == "dwt":  # only where CYCCNT really counts, so never under QEMU
        values, unit, how = list(counts), "cycles", "DWT CYCCNT"
    elif backend.counter_kind == "instructions":
        scale = 1e9 / target.systick_hz
        values = [round(c * scale) for c in counts]
        unit, how = "instructions", "QEMU -icount shift=0 (1 ns per instruction), SysTick"
    else:
        values, unit, how = list(counts), "cycles", "SysTick on the core clock"
    return {"kind": kind, "unit": unit, "how": how, "per_inference": values,
            "median": int(np.median(values)), "scale": scale}


def ticks_scale(counter: dict, target: Target) -> float:
    """What one raw tick is worth in the counter's unit (instructions under QEMU)."""
    if "scale" in counter:
        return counter["scale"]
    return 1e9 / target.systick_hz if counter.get("unit") == "instructions" else 1.0


def count_text(value: float | None, unit: str | None) -> str:
    """A counter figure short: '1.78 M instructions', '4.5 k instructions', '812 cycles'."""
    if not value:
        return ""
    unit = unit or "ticks"
    if value >= 1e6:
        return f"{value / 1e6:.2f} M {unit}"
    return f"{value / 1e3:.1f} k {unit}" if value >= 1e4 else f"{value:,.0f} {unit}"
