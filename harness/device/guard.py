"""Run a command so that it and every process it starts end with the harness.

`renode` is a wrapper script that starts the .NET runtime as its child, so the
parent-death signal on the script alone would leave the emulator running when the
harness is killed. This guard leads its own process group, gets SIGTERM when the
harness dies (PR_SET_PDEATHSIG survives exec), and then kills the whole group:

    python -m harness.device.guard <command> [args...]
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from types import FrameType

_PR_SET_PDEATHSIG = 1


def term_with_parent() -> None:
    """In a child process: get SIGTERM when the parent dies (the guard then kills its group)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def _kill_group(signum: int, _frame: FrameType | None) -> None:
    os.killpg(os.getpgid(0), signal.SIGKILL)  # the guard included


def main(argv: list[str]) -> int:
    """Start ``argv`` in this process group; end the group when told to or orphaned."""
    if not argv:
        print("usage: python -m harness.device.guard COMMAND [ARGS...]", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _kill_group)
    if os.getppid() == 1:  # the harness died before the death signal was armed
        return 1
    return subprocess.call(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
