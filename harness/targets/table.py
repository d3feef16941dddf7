"""The targets and boards: targets.toml, loaded and checked once.

A new target or board is a new entry in targets.toml, not new code.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from harness.errors import BadInput
from harness.targets.target import Target, load_targets

DEFAULT_TARGET = "stm32f4"  # --target's default
DATA_FILE = Path(__file__).with_name("targets.toml")


@functools.cache
def _entries() -> dict[str, Target]:
    """Targets, then boards (a board is a Target with `board` set), by name: read and
    checked on first use, so a broken targets.toml is a one-line error where it is
    needed (never a traceback while the CLI is being imported)."""
    return load_targets(DATA_FILE.read_text(encoding="utf-8"), DATA_FILE.name)


def __getattr__(name: str) -> Any:
    """ALL, TARGETS and BOARDS (PEP 562: loaded when first asked for)."""
    if name == "ALL":
        return _entries()
    if name == "TARGETS":
        return {n: t for n, t in _entries().items() if t.board is None}
    if name == "BOARDS":
        return {n: t for n, t in _entries().items() if t.board is not None}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_target(name: str) -> Target:
    """A target, or a board by its name (a target named after the board); BadInput lists
    the known ones."""
    entries = _entries()
    if name in entries:
        return entries[name]
    targets = [n for n, t in entries.items() if t.board is None]
    boards = [n for n, t in entries.items() if t.board is not None]
    raise BadInput(f"unknown target {name!r}", hint=f"known targets: {', '.join(targets)}; "
                   f"boards: {', '.join(boards)}")


def get_board(name: str) -> Target:
    """A board by name; BadInput lists the known ones."""
    boards = {n: t for n, t in _entries().items() if t.board is not None}
    if name in boards:
        return boards[name]
    raise BadInput(f"unknown board {name!r}", hint=f"known boards: {', '.join(boards)}")
