"""The run folder: where a run's results, vectors, outputs, firmware and logs go."""

from __future__ import annotations

import errno
import os
import tempfile
import traceback
from datetime import datetime
from pathlib import Path

from harness.errors import BadInput, DiskFull

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
CRASH_LOG = "crash.log"


def new_run_folder(runs_dir: Path, model_name: str, target: str) -> Path:
    """runs/<time>_<model>_<target>/ (with -2, -3 ... when that name is taken, also by
    a run started at the same second in another process)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(runs_dir) / f"{stamp}_{model_name}_{target}"
    for n in range(1, 10_000):
        folder = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in DISK_FULL_ERRNOS:
                raise DiskFull(f"no space left making a run folder in {runs_dir} "
                               f"({exc.strerror})") from None
            raise BadInput(f"cannot make a run folder in --runs-dir {runs_dir}: "
                           f"{exc.strerror or exc}",
                           hint="give a folder you can write with --runs-dir") from None
        return folder
    raise BadInput(f"cannot make a run folder in --runs-dir {runs_dir}: every name is taken")


def disk_full(exc: OSError, folder: Path) -> DiskFull:
    """The one-line error for a write that found no space, saying what is kept."""
    what = Path(exc.filename).name if exc.filename else "a file"
    kept = [n for n in ("device_outputs.jsonl", "results.json", "vectors.npz")
            if (folder / n).exists()]
    return DiskFull(f"no space left writing {what} in {folder} ({exc.strerror or exc})",
                    hint=f"kept: {', '.join(kept) or 'nothing'}; free space, then "
                         f"--resume {folder}")


def write_crash_log(exc: BaseException, folder: Path | None = None) -> str:
    """Save `exc`'s traceback: into the run folder when there is one, else a file of
    this process's own in the temp folder. Returns where it went, or why it could not
    be saved: writing it never raises."""
    text = "".join(traceback.format_exception(exc))
    places = ([folder / CRASH_LOG] if folder is not None else []) + [
        Path(tempfile.gettempdir()) / f"harness-crash-{os.getpid()}.log"]
    why = ""
    for path in places:
        try:
            path.write_text(text)
            return str(path)
        except Exception as err:  # noqa: BLE001 - a report must go out whatever happens
            why = f"{type(err).__name__}: {err}"
    return f"not saved: {why}"
