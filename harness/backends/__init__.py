"""Run stage: backends that boot a firmware and hand back a serial URL to talk to it.

One module per backend (qemu.py, later renode.py and board.py), each a context
manager that guarantees its processes are gone when it exits.
"""

from __future__ import annotations

from .base import Backend
from .board import BoardBackend
from .qemu import QemuBackend
from .renode import RenodeBackend

__all__ = ["Backend", "BoardBackend", "QemuBackend", "RenodeBackend"]
