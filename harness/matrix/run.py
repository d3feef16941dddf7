"""`harness matrix`: a plan's cells, run in parallel, into one matrix folder.

The matrix folder (runs/matrix-<time>/) holds a run folder per cell (named by the cell's
id), the cells' console output (logs/), and matrix.json, junit.xml and matrix.html.
matrix.json is written when the matrix starts (every cell PENDING) and again each time
a cell ends, so whatever stops the matrix (Ctrl-C, SIGTERM, SIGKILL, a power cut) every
finished cell is kept, and `--resume MATRIX_DIR` runs what is left: a cell whose run
folder has an unfinished results.json is resumed (the run's own --resume), one that
never started is started. The folder is locked while a matrix process works in it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.config import BY_NAME, from_options, given_names
from harness.device.place import place_boards, release_left
from harness.errors import BadInput, ExitCode, HarnessError
from harness.locks import lock_folder
from harness.matrix import document, html, junit
from harness.matrix.options import MATRIX_OPTIONS
from harness.matrix.outcome import Outcome, failed, from_folder, pending
from harness.matrix.plan import Cell, Plan, shard
from harness.matrix.progress import Progress
from harness.matrix.scheduler import PlacePool, Scheduler
from harness.matrix.worker import Job, Running, in_child
from harness.run.folder import DISK_FULL_ERRNOS
from harness.run.signals import stop_cause, stop_code

LOGS = "logs"


@dataclass
class Matrix:
    """A matrix folder and what it runs: the plan, this shard's cells, their outcomes."""

    folder: Path
    plan: Plan
    shard: str | None
    created: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    merged_from: list[str] | None = None
    resumed: bool = False  # reopened by --resume
    recorded: dict[str, Outcome] = field(default_factory=dict)  # its matrix.json's

    def read_cells(self) -> None:
        """Each cell's state from its run folder (a finished cell is kept as it is; a
        skipped one as matrix.json recorded it)."""
        for cell in self.cells:
            kept = self.recorded.get(cell.id)
            self.outcomes[cell.id] = from_folder(self.folder / cell.id, cell.id) or (
                kept if kept and kept.status == "SKIPPED" else pending())

    @property
    def cells(self) -> list[Cell]:
        """The cells this matrix folder runs (its shard of the plan)."""
        return shard(self.plan.cells, self.shard)

    def doc(self) -> dict[str, Any]:
        return document.document(self.plan, self.cells, self.outcomes, self.runs,
                                 created=self.created, shard=self.shard,
                                 merged_from=self.merged_from)

    def save(self) -> None:
        """matrix.json (after every cell)."""
        document.write(self.folder, self.doc())

    def outputs(self) -> None:
        """matrix.json, junit.xml and matrix.html."""
        doc = self.doc()
        document.write(self.folder, doc)
        junit.write(self.folder, doc)
        html.write(self.folder, doc)

    def job(self, cell: Cell) -> Job:
        """What the cell's process runs: its run folder started afresh, or resumed."""
        folder = self.folder / cell.id
        outcome = from_folder(folder, cell.id)
        if outcome is None and folder.exists():  # made, but the run never wrote results
            shutil.rmtree(folder)
        return Job(cell, self.plan.options, self.plan.project, folder,
                   self.folder / LOGS / f"{cell.id}.log", resume=outcome is not None)


def new(given: Mapping[str, Any], project: Any = None) -> Matrix:
    """A new matrix folder for the plan `given` describes (checked before any cell)."""
    plan = Plan.from_given(given, project)
    from_options(plan.options, plan.project)  # every cell's options: one error line now
    which = given.get("shard")
    folder = Path(given["out"]) if given.get("out") else _new_folder(
        Path(given.get("runs_dir") or BY_NAME["runs_dir"].default), which)
    m = Matrix(folder, plan, which, document.now())
    m.outcomes = {c.id: pending() for c in m.cells}
    return m


def _new_folder(runs_dir: Path, which: str | None) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"matrix-{stamp}" + (f"-shard-{which.replace('/', '-of-')}" if which else "")
    for n in range(1, 1000):
        folder = runs_dir / (name if n == 1 else f"{name}-{n}")
        if not folder.exists():
            return folder
    raise BadInput(f"cannot make a matrix folder in {runs_dir}: every name is taken")


def reopen(folder: Path) -> Matrix:
    """A matrix folder to finish: its plan and shard from matrix.json, and each cell's
    state from its run folder (a finished cell is kept as it is)."""
    doc = document.read(folder)
    m = Matrix(Path(folder), Plan.from_dict(doc["plan"]), doc.get("shard"),
               doc.get("created") or document.now(), resumed=True)
    m.runs = dict(doc.get("runs") or {})
    m.recorded = document.outcomes_of(doc)
    m.read_cells()
    return m


LOCK_WAIT_S = 40.0  # a stopped matrix's cells (STOP_GRACE_S) end before this


@contextlib.contextmanager
def _locked(folder: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Lock the matrix folder. Its cells inherit the lock: a matrix that died holds it
    until the cells it left (each stopping on PR_SET_PDEATHSIG) have written their
    results, so a --resume waits up to `wait_s` for them."""
    deadline = time.monotonic() + wait_s
    try:
        folder.mkdir(parents=True, exist_ok=True)
        while (fd := lock_folder(folder)) is None and time.monotonic() < deadline:
            time.sleep(0.2)
    except OSError as exc:
        raise BadInput(f"cannot make the matrix folder {folder}: {exc.strerror or exc}") from None
    if fd is None:
        raise BadInput(f"{folder} is in use by another harness matrix",
                       hint="wait for it to end")
    try:
        yield
    finally:
        os.close(fd)


def run_matrix(m: Matrix, *, jobs: int, quiet: bool = False) -> int:
    """Run every cell of `m` not finished yet; write the outputs; the exit code."""
    with _locked(m.folder, LOCK_WAIT_S if m.resumed else 0.0):
        if m.resumed:  # again: the cells of a matrix that died may have ended since
            m.read_cells()
        m.save()
        todo = [c for c in m.cells if not m.outcomes[c.id].finished]
        if todo:  # imported once here, not again in every forked cell
            importlib.import_module("harness.run.pipeline")
        pool = PlacePool(in_child(place_boards, m.plan.places, m.plan.options.get(
            "coordinator")) if m.plan.places else {})
        _say(quiet, f"matrix: {len(m.cells)} cells{_shard_note(m)}, {len(todo)} to run, "
                    f"-j {jobs}: {m.folder}")
        progress = Progress(len(m.cells), quiet=quiet)
        stopped: KeyboardInterrupt | None = None
        try:
            with progress:
                for c in m.cells:
                    if c not in todo:
                        progress.kept(m.outcomes[c.id])
                jobs_of = {c.id: m.job(c) for c in todo}
                scheduler = Scheduler(jobs_of, jobs, pool, progress, _finisher(m, progress),
                                      lost_place=lambda p: in_child(
                                          release_left, p, m.plan.options.get("coordinator")))
                scheduler.run(todo)
        except KeyboardInterrupt as exc:
            stopped = exc
        _write_outputs(m, quiet)
        return _closing(m, progress, stopped, quiet)


def _shard_note(m: Matrix) -> str:
    return f" (shard {m.shard} of {len(m.plan.cells)})" if m.shard else ""


def _finisher(m: Matrix, progress: Progress) -> Any:
    def finish(r: Running, report: dict[str, Any] | None, code: int) -> None:
        seconds = round(time.monotonic() - r.started, 3)
        outcome = from_folder(m.folder / r.cell.id, r.cell.id)
        if outcome is None:
            outcome = Outcome.from_dict(report) if report else failed(
                "ERROR", f"the cell's process ended ({_how(code)}) before its run wrote "
                         f"results.json; see {LOGS}/{r.cell.id}.log", int(ExitCode.INTERNAL))
        m.outcomes[r.cell.id] = outcome
        m.runs[r.cell.id] = {"seconds": seconds, "place": r.place}
        progress.finished(r.cell.id, outcome, seconds)
        with contextlib.suppress(OSError):
            m.save()
    return finish


def _how(code: int) -> str:
    if code < 0:
        import signal

        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def _write_outputs(m: Matrix, quiet: bool) -> None:
    try:
        m.outputs()
    except OSError as exc:
        if exc.errno in DISK_FULL_ERRNOS:
            raise HarnessError(f"no space left writing the matrix's outputs in {m.folder}") \
                from None
        raise


def _closing(m: Matrix, progress: Progress, stopped: KeyboardInterrupt | None,
             quiet: bool) -> int:
    code = m.doc()["exit_code"]
    _say(quiet, progress.summary().replace(" 0 running,", "").replace(", 0 waiting", ""))
    _say(quiet, f"matrix: {m.folder}/matrix.json (also junit.xml, matrix.html)")
    if stopped is not None:
        left = sum(not o.finished for o in m.outcomes.values())
        what = "interrupted" if stop_cause(stopped) == "Ctrl-C" else \
            f"stopped by {stop_cause(stopped)}"
        print(f"error: {what}; {left} cells not finished (--resume {m.folder} finishes "
              "the matrix)", file=sys.stderr, flush=True)
        return stop_code(stopped)
    if code == ExitCode.BAD_INPUT and all(o.status == "SKIPPED" for o in m.outcomes.values()):
        first = next(iter(m.outcomes.values()))
        print(f"error: no cell of the matrix can run ({first.reason})", file=sys.stderr,
              flush=True)
    return code


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        with contextlib.suppress(OSError):
            print(line, flush=True)


def matrix_from_options(given: Mapping[str, Any], project: Any = None) -> tuple[Matrix, int]:
    """The matrix `given` asks for (new, or --resume), and -j. `given`: matrix and run
    options by name (None: not given)."""
    read = {o.name: o.read(given[o.name]) for o in MATRIX_OPTIONS
            if given.get(o.name) not in (None, "", False, [])}
    jobs = read.pop("jobs", None) or next(o for o in MATRIX_OPTIONS if o.name == "jobs").default
    if "resume" not in read:
        return new({**given, **read}, project), jobs
    planned = sorted(set(read) - {"resume"}) + sorted(
        n for n in given_names(given) if n not in read and n not in ("quiet", "jobs"))
    if planned:
        raise BadInput(f"--resume keeps the matrix's plan: {', '.join(planned)} cannot be "
                       "given with it", hint="drop them, or start a new matrix")
    return reopen(read["resume"]), jobs
