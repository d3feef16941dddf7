"""What a backend reads from the run options (RunConfig has these fields)."""

from __future__ import annotations

from typing import Protocol


class BackendOptions(Protocol):
    """The run options that pick a backend and that it checks before any work."""

    port: str | None  # a board's serial port (or pyserial URL); None: an emulator
    emulator: str  # which emulator, when there is no port
    flash: str | None  # flash tool for the board, if any
