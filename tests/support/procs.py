"""Process trees read from /proc: what a harness process started, and whether any of it
still runs (the signal tests: nothing may outlive the harness)."""

from __future__ import annotations

import time
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def children() -> dict[int, list[int]]:
    """Every process's children, by parent pid."""
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            kids.setdefault(int(stat[1]), []).append(int(entry.name))
    return kids


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    kids, out, todo = children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """Running (a zombie has exited)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def survivors(pids: list[int], grace: float = 10.0) -> dict[int, str]:
    """Those of `pids` still running after a grace period for the kernel to reap them."""
    deadline = time.monotonic() + grace
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return {p: cmdline(p) for p in pids if alive(p)}
