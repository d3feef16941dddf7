"""Backends by name: each backend class registers itself with ``@register``.

The run picks its backend here (:func:`backend_class`), and whatever lists the
emulators reads :func:`emulators`; no list of backends is kept by hand.
"""

from __future__ import annotations

from typing import TypeVar

from harness.device.backends.base import Backend
from harness.device.backends.options import BackendOptions
from harness.errors import BadInput

B = TypeVar("B", bound=type[Backend])

BACKENDS: dict[str, type[Backend]] = {}
BOARD = "board"  # the backend for --port
DEFAULT_EMULATOR = "qemu"  # --emulator's default: the only one that goes with --port


def register(cls: B) -> B:
    """Class decorator: make a backend known by its ``name``."""
    if not cls.name or cls.name in BACKENDS:
        raise ValueError(f"backend name {cls.name!r} is empty or taken")
    BACKENDS[cls.name] = cls
    return cls


def emulators() -> list[str]:
    """Names of the registered emulators, in registration order (qemu first)."""
    return [name for name, cls in BACKENDS.items() if cls.emulated]


def backend_class(options: BackendOptions) -> type[Backend]:
    """A board when there is a port, else the emulator asked for; BadInput for an
    unknown emulator, or another emulator than the default together with a port."""
    names = emulators()
    if options.emulator not in names:
        raise BadInput(f"--emulator must be {' or '.join(names)}, not {options.emulator!r}")
    if not options.port:
        return BACKENDS[options.emulator]
    if options.emulator != DEFAULT_EMULATOR:
        raise BadInput(f"--emulator {options.emulator} and --port exclude each other")
    return BACKENDS[BOARD]
