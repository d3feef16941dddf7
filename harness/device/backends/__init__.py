"""Run stage: backends that boot a firmware and hand back a serial URL to talk to it.

One module per backend (qemu.py, later renode.py and board.py), each a context
manager that guarantees its processes are gone when it exits.
"""

from __future__ import annotations

from harness.device.backends.base import Backend
from harness.device.backends.board import BoardBackend
from harness.device.backends.qemu import QemuBackend
from harness.device.backends.renode import RenodeBackend

__all__ = ["Backend", "BoardBackend", "QemuBackend", "RenodeBackend"]
