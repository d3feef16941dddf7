"""The run folder: where a run's results, vectors, outputs, firmware and logs go."""

from __future__ import annotations

import errno
from datetime import datetime
from pathlib import Path

from harness.errors import DiskFull

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def new_run_folder(runs_dir: Path, model_name: str, target: str) -> Path:
    """runs/<time>_<model>_<target>/ (with -2, -3 ... when that name is taken)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = runs_dir / f"{stamp}_{model_name}_{target}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    return folder


def disk_full(exc: OSError, folder: Path) -> DiskFull:
    """The one-line error for a write that found no space, saying what is kept."""
    what = Path(exc.filename).name if exc.filename else "a file"
    kept = [n for n in ("device_outputs.jsonl", "results.json", "vectors.npz")
            if (folder / n).exists()]
    return DiskFull(f"no space left writing {what} in {folder} ({exc.strerror or exc})",
                    hint=f"kept: {', '.join(kept) or 'nothing'}; free space, then "
                         f"--resume {folder}")
