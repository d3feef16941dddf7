"""The Backend interface: what runs a firmware, and how the run checks it can."""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

from harness.device.backends.options import BackendOptions
from harness.targets.target import Target

__all__ = ["Backend", "free_port"]


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend(ABC):
    """Boots firmware somewhere and exposes its UART as a pyserial URL.

    Each backend registers itself by ``name`` (registry.register); ``preflight``
    refuses, before any work, a run it cannot do.
    """

    name: str = ""
    emulated: bool = False  # an emulator: picked with --emulator when there is no --port
    counter_kind: str = "none"  # what INVOKED counts mean here
    # Set where the backend itself supplies the device's counter (Renode hooks the firmware's
    # counter read): INVOKED counts are then `counter_kind` units as they are, read this way.
    counter_how: str = ""
    semihosting: bool = False  # inputs may be read from a host file (emulators)

    @classmethod
    @abstractmethod
    def preflight(cls, target: Target, options: BackendOptions) -> None:
        """Raise if this backend cannot run ``target`` with ``options``: a program
        not installed (MissingTool), a target it cannot boot (BadInput), a port
        that is missing or busy (PortUnavailable)."""

    @classmethod
    def from_options(cls, target: Target, elf: Path, folder: Path,
                     options: BackendOptions) -> Backend:
        """The backend for one run: boots ``elf``, keeps its logs in ``folder``."""
        return cls(target, elf, folder)  # type: ignore[call-arg]

    @abstractmethod
    def start(self) -> str:
        """Boot the firmware; return a URL for serial.serial_for_url."""

    @abstractmethod
    def stop(self) -> None:
        """Tear everything down; safe to call twice."""

    def describe(self) -> dict:
        """What ran the firmware, for results.json."""
        return {"name": self.name}

    @abstractmethod
    def where(self) -> str:
        """Where the firmware runs, for the console: 'QEMU netduinoplus2'."""

    @property
    def log_path(self) -> Path | None:
        """The backend's own log (the emulator's output), if it keeps one."""
        return None

    def __enter__(self) -> str:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
