"""Does a model fit a target? A footprint estimate made before building, and the
one-line refusal that names what does not fit and which targets it would fit."""

from __future__ import annotations

import math
from typing import NamedTuple

from harness.errors import BadInput
from harness.targets.table import ALL
from harness.targets.target import KIB, MIB, Target

# What the firmware shell adds to a model, measured on the builtin runtime (startup, UART,
# protocol, kernels: 6.5-10 KB of code; protocol buffers and app state: 3.9 KB of RAM),
# rounded up; plus generated code and requantisation tables per layer (~0.8 KB a layer
# for person_detect's 31).
SHELL_FLASH_BYTES = 12 * KIB
SHELL_RAM_BYTES = 4 * KIB
PER_OP_FLASH_BYTES = 800


class Footprint(NamedTuple):
    """Estimated memory needs, and what they are made of (for messages)."""

    flash: int
    ram: int
    flash_detail: str
    ram_detail: str


def estimate_footprint(weights_bytes: int, arena_bytes: int, *, stack_bytes: int,
                       num_ops: int = 0, max_payload: int = 1024) -> Footprint:
    """Flash and RAM a builtin-runtime firmware needs, estimated before building it.

    weights_bytes: the model's constant data (weights, biases); arena_bytes: the
    planned activation arena; stack_bytes: what the linker script reserves.
    """
    code = SHELL_FLASH_BYTES + PER_OP_FLASH_BYTES * num_ops
    # The shell's RAM is mostly protocol buffers: receive, reply cache, two text buffers.
    shell_ram = SHELL_RAM_BYTES - 4 * 1024 + 4 * max_payload
    return Footprint(
        flash=code + weights_bytes,
        ram=shell_ram + arena_bytes + stack_bytes,
        flash_detail=f"{_kb(weights_bytes)} weights + {_kb(code)} code",
        ram_detail=(f"{_kb(arena_bytes)} arena + {_kb(shell_ram)} firmware + "
                    f"{_kb(stack_bytes)} stack"),
    )


def _kb(n: int) -> str:
    if n >= MIB and n % MIB == 0:
        return f"{n // MIB} MB"
    return f"{math.ceil(n / KIB)} KB"


def fitting_targets(flash_bytes: int, ram_bytes: int) -> list[str]:
    """Names of the targets and boards whose flash and RAM hold these estimates."""
    return [t.name for t in ALL.values()
            if flash_bytes <= t.flash.length and ram_bytes <= t.ram.length]


def check_fits(target: Target, flash_bytes_estimate: int, ram_bytes_estimate: int, *,
               model: str = "the model", flash_detail: str = "",
               ram_detail: str = "") -> None:
    """Raise BadInput, in one line, when the estimates exceed the target's memory.

    The details say what the estimate is made of, e.g. "55 KB arena + 8 KB stack".
    Estimates are approximate: the linker still checks the exact figures.
    """
    problems = []
    if flash_bytes_estimate > target.flash.length:
        what = f" ({flash_detail})" if flash_detail else ""
        problems.append(f"~{_kb(flash_bytes_estimate)} of flash{what} but {target.where} has "
                        f"{_kb(target.flash.length)}")
    if ram_bytes_estimate > target.ram.length:
        what = f" ({ram_detail})" if ram_detail else ""
        problems.append(f"~{_kb(ram_bytes_estimate)} of RAM{what} but {target.where} has "
                        f"{_kb(target.ram.length)}")
    if not problems:
        return
    others = [n for n in fitting_targets(flash_bytes_estimate, ram_bytes_estimate)
              if n != target.name]
    hint = (f"targets and boards with enough memory: {', '.join(others)}" if others
            else "no known target has enough memory")
    raise BadInput(f"{model} needs " + "; and ".join(problems), hint=hint)
