"""Child processes that die with the harness, however the harness dies.

Every program the harness starts (make and its compilers, a reference worker, an
emulator) runs in its own session, so a Ctrl-C on the terminal reaches the harness
alone and the harness ends the whole group itself (`reaped`). A harness killed
without a chance to clean up (SIGKILL, the OOM killer, power gone) cannot end
anything: for that the kernel sends each direct child a signal when its parent
dies (PR_SET_PDEATHSIG). A child with children of its own (make -> gcc -> cc1) is
started through `group_leader`, a shell that turns that signal into the end of its
whole process group.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Iterator
from functools import partial
from typing import Any

_PR_SET_PDEATHSIG = 1

# The shell waits for the command. Told to stop (SIGTERM: from the kernel when the
# harness died, or from kill_group), it stops its own process group: SIGTERM first,
# so that make deletes half-written targets and gcc its temporary files, then SIGKILL
# for whatever is left, itself included.
# A background command of a non-interactive shell reads /dev/null: fd 3 hands it the
# shell's own stdin (Renode's Monitor reads a pipe there).
_LEADER = ('trap \'trap "" TERM HUP; kill -TERM 0; sleep 0.5; kill -KILL 0\' TERM HUP; '
           'exec 3<&0; "$@" <&3 3<&- & wait $!')
GRACE_S = 2.0  # how long kill_group lets a group end on SIGTERM before SIGKILL


def die_with_parent(sig: int = signal.SIGKILL, parent: int | None = None) -> None:
    """In a child process (preexec_fn): get `sig` when the harness dies. With `parent`
    (the harness's pid, read before the fork), a harness that died before this call
    ends the child at once."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig))
    except OSError:
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(128 + int(sig))


def group_leader(cmd: list[str]) -> list[str]:
    """`cmd` behind a shell that ends its process group when the harness dies (use
    with `spawn(..., tree=True)`); the exit status is the command's."""
    return ["sh", "-c", _LEADER, "sh", *cmd]


def spawn(cmd: list[str], *, tree: bool = False, **popen: Any) -> subprocess.Popen:
    """Start `cmd` in its own session, dying with the harness. `tree`: the command
    starts processes of its own, which must die too (it runs under `group_leader`)."""
    sig = signal.SIGTERM if tree else signal.SIGKILL
    return subprocess.Popen(group_leader(cmd) if tree else cmd, start_new_session=True,
                            preexec_fn=partial(die_with_parent, sig, os.getpid()), **popen)


def kill_group(proc: subprocess.Popen) -> None:
    """End the process group `proc` leads (started by `spawn`): SIGTERM, so that its
    programs remove their temporary files, then SIGKILL after GRACE_S; reap `proc`."""
    for sig, wait in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait)


@contextlib.contextmanager
def reaped(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """`proc` (from `spawn`); on any exception out of the block (Ctrl-C, SIGTERM, an
    error) its whole process group is killed before the exception goes on."""
    with proc:
        try:
            yield proc
        except BaseException:
            kill_group(proc)
            raise
