"""Lowering of the builtin runtime's recurrent ops (see lower_base.LoweredOp)."""

from __future__ import annotations

from collections.abc import Callable

from .lower_base import LoweredOp
from .model import Graph, Op

LOWERINGS: dict[str, Callable[[Graph, Op, LoweredOp], None]] = {}

# Activation dtypes each op handles here ("int8", "int16", "float32"); the
# supported-op checks and the coverage table read this.
DTYPES: dict[str, frozenset[str]] = {}
