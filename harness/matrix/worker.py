"""A cell runs in a process of its own, forked from the matrix.

Forked, not started afresh: the child already has the harness imported, so a cell costs
what its run costs. The child is a normal `harness run` in everything else: its own
session (a Ctrl-C on the terminal reaches the matrix alone, which stops each cell with
the same signal, so each writes its INTERRUPTED results.json), a SIGTERM when the matrix
dies however it dies (PR_SET_PDEATHSIG: the cell stops as on `timeout`), its console
output in the matrix folder's logs/<cell>.log, its results in its run folder. Before
any work the run's own checks refuse what does not fit the cell (harness/run/pipeline.py):
that refusal is reported back as SKIPPED with its one line.

The matrix process must not fork while it holds threads (a lock held by another thread
stays held in the child): it draws its progress view from its own loop, and reaches a
labgrid coordinator (gRPC starts threads) only from a child, with `in_child`.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.children import die_with_parent
from harness.config import from_options
from harness.errors import BadInput, ExitCode, HarnessError, InternalError
from harness.matrix.outcome import SKIP_CODES, Outcome, failed, skipped
from harness.matrix.plan import Cell
from harness.run.folder import write_crash_log
from harness.run.signals import stop_cause, stop_code, stop_on_signals


@dataclass
class Running:
    """A cell's process, as the matrix watches it."""

    cell: Cell
    pid: int
    report: int  # the read end of the pipe the child reports its outcome on
    started: float
    place: str | None


@dataclass(frozen=True)
class Job:
    """What a cell's process needs."""

    cell: Cell
    options: dict[str, Any]  # the run options every cell takes, as given
    project: dict[str, Any]  # invoke.yaml's harness: section
    folder: Path  # the cell's run folder (made by its run)
    log: Path
    resume: bool  # the folder holds an unfinished run: --resume it


def start(job: Job, place: str | None) -> Running:
    """Fork the cell's process; it runs `job` on `place` (a labgrid place, or None)."""
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the cell's process: never returns
        code = int(ExitCode.INTERNAL)
        try:
            os.close(r)
            code = _child(job, place, w, parent)
        finally:
            os._exit(code)
    os.close(w)
    return Running(job.cell, pid, r, time.monotonic(), place)


def collect(running: Running, status: int) -> dict[str, Any] | None:
    """What the cell's process reported (None: it died before it could), once it ended."""
    chunks = []
    with contextlib.suppress(OSError):
        while chunk := os.read(running.report, 65536):
            chunks.append(chunk)
    os.close(running.report)
    try:
        return json.loads(b"".join(chunks)) if chunks else None
    except ValueError:
        return None


def _child(job: Job, place: str | None, report: int, parent: int) -> int:
    os.setsid()
    die_with_parent(signal.SIGTERM, parent)
    _redirect(job.log)
    with stop_on_signals():
        try:
            outcome, code = _attempt(job, place)
        except KeyboardInterrupt as exc:  # between the run's end and here
            outcome, code = None, stop_code(exc)
    sys.stdout.flush()
    sys.stderr.flush()
    with contextlib.suppress(OSError):
        os.write(report, json.dumps(outcome.to_dict() if outcome else {}).encode())
    return code


def _redirect(log: Path) -> None:
    """stdin from /dev/null; stdout and stderr to the cell's log, as new file objects
    (the matrix's own may have been mid-write when it forked)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - for good


def _attempt(job: Job, place: str | None) -> tuple[Outcome | None, int]:
    """Run the cell: (None, exit code) when its run folder has its results.json, else
    (the outcome, exit code): skipped by the run's own checks, or failed before."""
    from harness.run.pipeline import run

    given = {**job.options, **job.cell.values, "place": place,
             "resume": str(job.folder) if job.resume else None}
    try:
        cfg = from_options(given, job.project)
    except BadInput as exc:  # options that exclude each other in this combination
        return _refused(exc)
    try:
        res = run(cfg, given=() if job.resume else None, folder=job.folder)
        return None, int(res.verdict.exit_code or 0)
    except HarnessError as exc:
        _say(f"error: {exc.one_line()}")
        if _has_results(job.folder):
            return None, int(exc.code)
        return _refused(exc) if exc.code in SKIP_CODES else (
            failed("ERROR", exc.one_line(), int(exc.code)), int(exc.code))
    except KeyboardInterrupt as exc:
        what = stop_cause(exc)
        _say(f"error: {'interrupted' if what == 'Ctrl-C' else f'stopped by {what}'}")
        if _has_results(job.folder):
            return None, stop_code(exc)
        return failed("INTERRUPTED", f"interrupted ({what})", stop_code(exc)), stop_code(exc)
    except Exception as exc:  # a bug: the traceback goes where `harness run` puts it
        where = write_crash_log(exc, job.folder if job.folder.is_dir() else None)
        line = f"internal error {type(exc).__name__}: {exc} (traceback: {where})"
        _say(f"error: {line}")
        code = int(ExitCode.INTERNAL)
        return (None, code) if _has_results(job.folder) else (failed("ERROR", line, code), code)


def _refused(exc: HarnessError) -> tuple[Outcome, int]:
    _say(f"skipped: {exc.one_line()}")
    return skipped(exc.one_line(), int(exc.code)), 0


def _has_results(folder: Path) -> bool:
    return (folder / "results.json").is_file()


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)` in a forked process; its result, or its exception raised here. For
    what must not run in the matrix's process (gRPC's threads would be forked with every
    later cell)."""
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            try:
                out: Any = ("ok", fn(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent
                out = ("raise", _picklable(exc))
            with os.fdopen(w, "wb") as f:
                pickle.dump(out, f)
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    if not data:
        raise HarnessError(f"{getattr(fn, '__name__', fn)} died in its helper process")
    kind, value = pickle.loads(data)  # noqa: S301 - our own child's bytes
    if kind == "raise":
        cls, message, hint = value
        raise cls(message, hint=hint)
    return value


def _picklable(exc: BaseException) -> tuple[type, str, str | None]:
    """A HarnessError as (class, message, hint); anything else as an InternalError."""
    if isinstance(exc, HarnessError):
        return type(exc), str(exc), exc.hint
    return InternalError, "".join(traceback.format_exception_only(exc)).strip(), None
