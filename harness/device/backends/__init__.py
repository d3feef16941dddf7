"""Run stage: backends that boot a firmware and hand back a serial URL to talk to it.

One module per backend (qemu.py, renode.py, board.py), each a context manager that
guarantees its processes are gone when it exits. Each registers itself by name
(registry.py); importing this package imports them all, so the registry is complete.
"""

from __future__ import annotations

from harness.device.backends.base import Backend
from harness.device.backends.board import BoardBackend
from harness.device.backends.options import BackendOptions
from harness.device.backends.qemu import QemuBackend
from harness.device.backends.registry import BACKENDS, backend_class, emulators
from harness.device.backends.renode import RenodeBackend

__all__ = ["BACKENDS", "Backend", "BackendOptions", "BoardBackend", "QemuBackend",
           "RenodeBackend", "backend_class", "emulators"]
