"""Locks and atomic publishing, for what several harness processes share: the firmware
build cache, the reference cache, the TFLM library cache, and a run folder.

A lock is an fcntl.flock: the kernel drops it when its holder exits, however it
exits, so a lock is never stale. What a cache holds appears in one rename, made by
one process while the others wait for its lock and then reuse the result; a
temporary name (`<name>.tmp<pid>`) is removed on any failure, and one left by a
killed process is removed by the next process that publishes into that folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

_TEMP = re.compile(r"^(?P<name>.+)\.tmp\d+$")


def lock_file(path: Path) -> Path:
    """The lock file guarding `path`: `<path>.lock`."""
    return path.with_name(path.name + ".lock")


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _acquire(path: Path, blocking: bool) -> int | None:
    """flock the lock file `path` (made if missing); its fd, or None when busy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd
        os.close(fd)  # its last holder removed it meanwhile: lock the file there now


def _release(fd: int, path: Path) -> None:
    # Removed while still held, so no lock file is left behind; a process already
    # waiting on this one finds it gone and locks a new one (_acquire).
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    os.close(fd)


@contextlib.contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock file `path`, waiting while another process holds it."""
    fd = _acquire(path, blocking=True)
    assert fd is not None
    try:
        yield
    finally:
        _release(fd, path)


@contextlib.contextmanager
def try_exclusive(path: Path) -> Iterator[bool]:
    """Hold the lock file `path` if no other process does: yields whether it is held."""
    fd = _acquire(path, blocking=False)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            _release(fd, path)


def lock_folder(folder: Path) -> int | None:
    """flock `folder` itself (nothing is written for it); the fd to os.close to let
    go, or None when another process holds it."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def temporary(path: Path) -> Path:
    """This process's temporary name for `path`, in the same folder."""
    return path.with_name(f"{path.name}.tmp{os.getpid()}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep(folder: Path, held: Path | None = None) -> list[Path]:
    """Remove the temporary names in `folder` that no live process is working on: their
    target's lock is free (their maker was killed), or it is `held` by this process.
    Returns the names removed."""
    removed = []
    for entry in sorted(folder.glob("*.tmp*")) if folder.is_dir() else ():
        m = _TEMP.match(entry.name)
        if m is None:
            continue
        target = entry.with_name(m["name"])
        if target == held:
            free = contextlib.nullcontext(True)
        else:
            free = try_exclusive(lock_file(target))
        with free as stale:
            if stale and entry.exists():
                _remove(entry)
                removed.append(entry)
    return removed


def publish_folder(dest: Path, make: Callable[[Path], None],
                   complete: Callable[[Path], bool] = Path.is_dir) -> bool:
    """Make folder `dest` once among all processes: unless it is `complete` already,
    `make` fills it (`install_folder`) while the others wait for the lock, then reuse
    it. True when this call made it."""
    if complete(dest):
        return False
    with exclusive(lock_file(dest)):
        if complete(dest):
            return False
        install_folder(dest, make)
    return True


def install_folder(dest: Path, make: Callable[[Path], None]) -> None:
    """With `dest`'s lock held: `make(tmp)` fills a new temporary folder, which then
    replaces `dest` in one rename (removed instead if `make` fails)."""
    sweep(dest.parent, held=dest)
    tmp = temporary(dest)
    try:
        make(tmp)
        _remove(dest)  # an incomplete or damaged one
        os.rename(tmp, dest)
    except BaseException:
        _remove(tmp)
        raise


def write_atomic(path: Path, data: bytes | str | Callable[[IO[bytes]], None]) -> Path:
    """Write `path` in one rename (a crash never leaves half a file): `data`, or what
    the callable writes into the binary file it is given. Synced before the rename,
    so a power cut leaves the old file or the new one."""
    tmp = temporary(path)
    try:
        with open(tmp, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path
