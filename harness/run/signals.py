"""SIGTERM and SIGHUP stop a run the way Ctrl-C does.

A cancelled CI job, `timeout` and `docker stop` send SIGTERM; a closed SSH
session sends SIGHUP. Either raises `Stopped`, a
KeyboardInterrupt, in the main thread, so every cleanup that Ctrl-C runs runs too
(child process groups killed, temporary folders removed, results.json written), and
the process exits with 128 + the signal's number, as a shell reports a killed
program. A second signal during that cleanup is ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """The run was told to stop by `signum` (SIGTERM or SIGHUP)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def stop_code(exc: KeyboardInterrupt) -> int:
    """The exit code for an interruption: 130 for Ctrl-C, 143 SIGTERM, 129 SIGHUP."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


def stop_cause(exc: KeyboardInterrupt) -> str:
    """How the run was stopped, for messages: 'Ctrl-C', 'SIGTERM', 'SIGHUP'."""
    signum = getattr(exc, "signum", None)
    return "Ctrl-C" if signum is None else signal.Signals(signum).name


def _stop(signum: int, frame: FrameType | None) -> None:
    for sig in STOP_SIGNALS:  # the cleanup that follows must not be cut short
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise Stopped (main thread only: elsewhere
    Python cannot install handlers, and the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {sig: signal.signal(sig, _stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
