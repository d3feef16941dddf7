"""Lowering of the builtin runtime's recurrent ops (see lower_base.LoweredOp)."""

from __future__ import annotations

from collections.abc import Callable

from .lower_base import LoweredOp
from .model import Graph, Op

LOWERINGS: dict[str, Callable[[Graph, Op, LoweredOp], None]] = {}
