"""The targets: targets.toml, loaded and checked once.

A new target is a new entry in targets.toml, not new code.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import BadInput
from harness.targets.target import Memory, Target, load_targets

__all__ = ["DATA_FILE", "TARGETS", "Memory", "Target", "get_target"]

DATA_FILE = Path(__file__).with_name("targets.toml")
TARGETS: dict[str, Target] = load_targets(DATA_FILE.read_text(encoding="utf-8"), DATA_FILE.name)


def get_target(name: str) -> Target:
    """Look a target up by name; BadInput lists the known ones."""
    try:
        return TARGETS[name]
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise BadInput(f"unknown target {name!r}", hint=f"known targets: {known}") from None
