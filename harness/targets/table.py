"""The targets and boards: targets.toml, loaded and checked once.

A new target or board is a new entry in targets.toml, not new code.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import BadInput
from harness.targets.target import Memory, Target, load_targets

__all__ = ["ALL", "BOARDS", "DATA_FILE", "DEFAULT_TARGET", "TARGETS", "Memory", "Target",
           "get_board", "get_target"]

DEFAULT_TARGET = "stm32f4"  # --target's default
DATA_FILE = Path(__file__).with_name("targets.toml")
# Targets, then boards (a board is a Target with `board` set), by name.
ALL: dict[str, Target] = load_targets(DATA_FILE.read_text(encoding="utf-8"), DATA_FILE.name)
TARGETS: dict[str, Target] = {n: t for n, t in ALL.items() if t.board is None}
BOARDS: dict[str, Target] = {n: t for n, t in ALL.items() if t.board is not None}


def get_target(name: str) -> Target:
    """A target, or a board by its name (a target named after the board); BadInput lists
    the known ones."""
    try:
        return ALL[name]
    except KeyError:
        raise BadInput(f"unknown target {name!r}", hint=f"known targets: {', '.join(TARGETS)}; "
                       f"boards: {', '.join(BOARDS)}") from None


def get_board(name: str) -> Target:
    """A board by name; BadInput lists the known ones."""
    try:
        return BOARDS[name]
    except KeyError:
        raise BadInput(f"unknown board {name!r}",
                       hint=f"known boards: {', '.join(BOARDS)}") from None
