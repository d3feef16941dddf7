"""Which target a run builds for: `--target`, `--board`, and what a `--port` run assumes.

`--target stm32f4 --port P` builds for the board the target names in `assume_board`
(the Nucleo-64 F4 firmware) and says so, with how to pick another; `--board NAME` (or
`--target NAME`) picks a board itself. The baud rate is checked against the chosen
UART at the clock the firmware will run, before any work.
"""

from __future__ import annotations

from typing import NamedTuple

from harness.errors import BadInput
from harness.targets.baud import check_baud, within
from harness.targets.table import BOARDS, DEFAULT_TARGET, get_board, get_target
from harness.targets.target import Target


class Choice(NamedTuple):
    """The target (or board) to build for, and what to tell the user about the choice."""

    target: Target
    notes: tuple[str, ...]


def choose_target(target: str, board: str | None, port: str | None, baud: int,
                  clock: str = "reset") -> Choice:
    """The Target for these options; BadInput (one line) for an unknown name, a board of
    another target, or a baud rate the UART cannot make within 2%."""
    notes: list[str] = []
    if board:
        chosen = get_board(board)
        if target not in (DEFAULT_TARGET, chosen.name, chosen.board.target):
            raise BadInput(f"--board {board} is a {chosen.board.target} board, not a {target} "
                           "one", hint=f"drop --target, or give --target {chosen.board.target}")
    else:
        chosen = get_target(target)
        if port and chosen.assume_board:
            chosen = BOARDS[chosen.assume_board]
            notes += _assumed(target, chosen)
    if clock == "max" and chosen.clock is None:
        notes.append(f"clock: {chosen.name} runs at a fixed {chosen.clock_hz / 1e6:g} MHz; "
                     "--clock max changes nothing")
    check_baud(chosen, baud, clock)
    if clock == "max" and chosen.clock and not within(chosen, baud, "reset"):
        notes.append(f"clock: should the PLL not lock, the reset clock cannot make {baud} baud "
                     "within 2% and the link will fail")
    return Choice(chosen, tuple(notes))


def _assumed(target: str, board: Target) -> list[str]:
    """The note for `--target T --port P`: which board, what it means, how to pick another."""
    others = [n for n, b in BOARDS.items() if b.board.target == target and n != board.name]
    u, g = board.uart, board.uart.gpio
    pins = f" on P{g.port}{g.tx}/P{g.port}{g.rx}" if g else ""
    lines = [f"board: {board.board.title} assumed for --target {target} ({u.name}{pins}, "
             f"{board.clock_hz / 1e6:g} MHz, {board.ram.length // 1024} KB RAM)"]
    if others:
        lines.append(f"  another board: --board {'|'.join(others)} (or --target NAME)")
    return lines


def clock_report(info: dict[str, str], clock: str) -> str | None:
    """A console line on the clock the device reports running, when it matters: --clock max
    and the PLL did not lock (or the clock is fixed)."""
    state, hz = info.get("clock"), info.get("clock_hz")
    if state is None or hz is None:
        return None
    mhz = f"{int(hz) / 1e6:g} MHz"
    if state == "fallback":
        return f"clock: the maximum did not come up in time; the device runs at {mhz} (reset)"
    if state == "max" or clock == "max":
        return f"clock: {mhz} ({state})"
    return None
