"""Locks and atomic publishing (harness/locks.py), with real processes: a folder made by
many at once is made once, a maker killed half-way leaves nothing that the next one
does not remove, and no lock file stays behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.locks import lock_folder, publish_folder, sweep, write_atomic
from support.paths import ROOT

# A process that publishes `dest`, making it slowly (so the others must wait), and
# notes its pid in `makers` when it is the one that made it.
PUBLISHER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from harness.locks import publish_folder

    dest, makers = Path(sys.argv[1]), Path(sys.argv[2])

    def make(tmp):
        tmp.mkdir()
        with open(makers, "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(float(sys.argv[3]))
        (tmp / "content").write_text("made")

    made = publish_folder(dest, make)
    print("made" if made else "reused", (dest / "content").read_text(), flush=True)
""")


def _publisher(dest: Path, makers: Path, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PUBLISHER, str(dest), str(makers),
                             str(seconds)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def _wait_for_maker(makers: Path, proc: subprocess.Popen) -> None:
    while not makers.exists() or not makers.read_text():
        assert proc.poll() is None
        time.sleep(0.02)


def test_many_processes_publish_one_folder_once(tmp_path: Path) -> None:
    dest, makers = tmp_path / "cache" / "entry", tmp_path / "makers"
    procs = [_publisher(dest, makers, 0.5) for _ in range(6)]
    outs = [p.communicate(timeout=60)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sorted(o[0] for o in outs) == ["made"] + ["reused"] * 5
    assert all(o[1] == "made" for o in outs)  # every one reads the finished folder
    assert len(makers.read_text().split()) == 1  # made by one process only
    assert sorted(p.name for p in dest.parent.iterdir()) == ["entry"]  # no lock, no temp


def test_a_maker_killed_half_way_leaves_nothing_the_next_does_not_remove(
        tmp_path: Path) -> None:
    dest, makers = tmp_path / "cache" / "entry", tmp_path / "makers"
    killed = _publisher(dest, makers, 60)
    _wait_for_maker(makers, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    left = sorted(p.name for p in dest.parent.iterdir())
    assert left == ["entry.lock", f"entry.tmp{killed.pid}"]  # SIGKILL: no cleanup
    assert publish_folder(dest, lambda tmp: (tmp.mkdir(), (tmp / "content").write_text("x")))
    assert sorted(p.name for p in dest.parent.iterdir()) == ["entry"]


def test_sweep_keeps_what_a_live_process_is_making(tmp_path: Path) -> None:
    dest, makers = tmp_path / "cache" / "entry", tmp_path / "makers"
    busy = _publisher(dest, makers, 1.5)  # still making while the sweep runs (< 0.1 s)
    try:
        _wait_for_maker(makers, busy)
        stale = tmp_path / "cache" / "other.tmp99999"
        stale.mkdir()
        assert sweep(dest.parent) == [stale]  # other's maker is gone; entry's is not
        assert (dest.parent / f"entry.tmp{busy.pid}").is_dir()
    finally:
        busy.communicate(timeout=60)
    assert busy.returncode == 0 and (dest / "content").read_text() == "made"


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_atomic(path, "old")

    def fails(f) -> None:
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, fails)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [path.name]
    write_atomic(path, lambda f: f.write(b"new"))
    assert path.read_text() == "new"


def test_a_folder_lock_is_exclusive_between_processes(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from harness.locks import lock_folder; fd = lock_folder(Path(sys.argv[1])); "
         "print('held' if fd is not None else 'busy', flush=True); time.sleep(60)",
         str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        assert lock_folder(tmp_path) is None
    finally:
        holder.kill()
        holder.wait()
    fd = lock_folder(tmp_path)  # the kernel let go with the killed holder
    assert fd is not None
    os.close(fd)
    assert list(tmp_path.iterdir()) == []  # a folder lock writes nothing
