"""Child processes die with the harness (harness/children.py): a process tree under
`spawn(..., tree=True)` and a single child both end when the process that started
them is killed with SIGKILL (no cleanup possible), and `reaped` ends the whole group
when an exception leaves its block."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.children import reaped, spawn
from support.paths import ROOT
from support.procs import alive, survivors, tree

# A stand-in for the harness: starts a process tree (a shell with two grandchildren,
# as make starts compilers) and a single child, prints their pids, then waits.
PARENT = textwrap.dedent("""
    import sys, time
    from harness.children import spawn
    group = spawn(["sh", "-c", "sleep 300 & sleep 300 & wait"], tree=True)
    single = spawn(["sleep", "300"])
    print(group.pid, single.pid, flush=True)
    time.sleep(300)
""")


def _wait_for_tree(pid: int, size: int) -> list[int]:
    """`pid`'s tree once it has `size` processes."""
    deadline = time.monotonic() + 30
    while len(found := tree(pid)) < size:
        assert time.monotonic() < deadline, f"the tree of {pid} never grew to {size}: {found}"
        time.sleep(0.02)
    return found


def test_a_tree_and_a_child_die_with_a_parent_killed_outright() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        group, single = map(int, parent.stdout.readline().split())
        # the parent, its single sleep, and the tree: the group leader's shell, sh -c
        # and its 2 x sleep
        pids = _wait_for_tree(parent.pid, 6)
        assert group in pids and single in pids
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    assert not survivors(pids), "outlived a parent killed with SIGKILL"


def test_reaped_kills_the_group_on_an_exception() -> None:
    with pytest.raises(KeyboardInterrupt):
        with reaped(spawn(["sh", "-c", "sleep 300 & sleep 300 & wait"], tree=True)) as proc:
            pids = _wait_for_tree(proc.pid, 4)
            raise KeyboardInterrupt
    assert not survivors(pids, grace=5)


def test_a_tree_keeps_its_exit_status_and_output(tmp_path: Path) -> None:
    with reaped(spawn(["sh", "-c", "echo out; echo err >&2; exit 7"], tree=True,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)) as proc:
        out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out, err) == (7, "out\n", "err\n")
    assert not alive(proc.pid)


def test_a_tree_keeps_its_stdin() -> None:
    # Renode's Monitor reads a pipe on stdin; a background command of a non-interactive
    # shell would read /dev/null instead (POSIX 2.9.3, "Asynchronous Lists").
    with reaped(spawn(["cat"], tree=True, stdin=subprocess.PIPE,
                      stdout=subprocess.PIPE)) as proc:
        out, _ = proc.communicate(b"monitor command\n", timeout=10)
    assert out == b"monitor command\n" and proc.returncode == 0

