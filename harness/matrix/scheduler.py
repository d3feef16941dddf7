"""Run the cells in parallel: at most -j at once, each board cell on a free place.

Cells start in matrix order. A cell whose target is a place's board (or that board's
target) is a board cell: it waits for a free place of that board and holds it while it
runs, so a matrix spreads its board cells over the places of one board type; the other
cells run on emulators. QEMU ports, run folders and caches cannot collide: each QEMU
takes a free port of its own, each cell has its own run folder, and the caches are
shared under locks (harness/locks.py: a firmware or a reference result two cells need is
made once, the second cell waits for it and reuses it).

Stopping: Ctrl-C (or SIGTERM/SIGHUP, harness/run/signals.py) reaches the matrix alone;
it sends the same signal to every running cell, waits for them to write their
results, and goes on stopping. A second Ctrl-C kills what is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from harness.matrix.plan import Cell
from harness.matrix.progress import Progress
from harness.matrix.worker import Job, Running, collect, start
from harness.targets.table import BOARDS

POLL_S = 0.05
STOP_GRACE_S = 30.0  # how long stopped cells get to write their results
WAIT = "wait"  # PlacePool.take: a board cell whose places are all busy


class PlacePool:
    """The labgrid places of a matrix, by the board each holds; which are free."""

    def __init__(self, boards: dict[str, str]) -> None:
        self.boards = boards  # place -> board
        self.free = list(boards)

    def places_for(self, target: str) -> list[str]:
        """The places that can run a cell of `target` (a board, or a board's target)."""
        return [p for p, b in self.boards.items() if target in (b, BOARDS[b].board.target)]

    def take(self, target: str) -> str | None:
        """A free place for a cell of `target`; None: no place runs it (an emulated
        cell); WAIT: its places are all busy."""
        places = self.places_for(target)
        if not places:
            return None
        free = [p for p in self.free if p in places]
        if not free:
            return WAIT
        self.free.remove(free[0])
        return free[0]

    def give(self, place: str | None) -> None:
        if place is not None and place not in self.free:
            self.free.append(place)


Finish = Callable[[Running, dict[str, Any] | None, int], None]


class Scheduler:
    """Starts, watches and (when told to stop) stops the cells' processes."""

    def __init__(self, jobs: dict[str, Job], parallel: int, pool: PlacePool,
                 progress: Progress, finish: Finish,
                 lost_place: Callable[[str], None] = lambda place: None) -> None:
        self.jobs, self.parallel, self.pool = jobs, parallel, pool
        self.progress, self.finish, self.lost_place = progress, finish, lost_place
        self.running: dict[int, Running] = {}

    def run(self, cells: list[Cell]) -> None:
        """Run `cells` to the end; on Ctrl-C/SIGTERM stop the running ones first, then
        let the interruption go on."""
        waiting = list(cells)
        try:
            while waiting or self.running:
                self._launch(waiting)
                if not self._reap():
                    time.sleep(POLL_S)
                self.progress.draw()
        except KeyboardInterrupt as exc:
            self._stop(getattr(exc, "signum", signal.SIGINT))
            raise

    def _launch(self, waiting: list[Cell]) -> None:
        for cell in list(waiting):
            if len(self.running) >= self.parallel:
                return
            place = self.pool.take(cell.values["target"])
            if place == WAIT:
                continue
            waiting.remove(cell)
            r = start(self.jobs[cell.id], place)
            self.running[r.pid] = r
            self.progress.started(cell.id, place)

    def _reap(self, block: bool = False) -> int:
        """Collect the cells that ended; how many."""
        ended = 0
        for pid, r in list(self.running.items()):
            try:
                done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if not done:
                continue
            del self.running[pid]
            code = os.waitstatus_to_exitcode(status)
            report = collect(r, status)
            if r.place is not None:
                if code < 0:  # killed outright: the place is still acquired
                    with contextlib.suppress(Exception):
                        self.lost_place(r.place)
                self.pool.give(r.place)
            self.finish(r, report, code)
            ended += 1
        return ended

    def _stop(self, sig: int) -> None:
        """Pass the stop on to every running cell and wait for them to end (a second
        Ctrl-C: kill them)."""
        try:
            self._signal(sig)
            deadline = time.monotonic() + STOP_GRACE_S
            while self.running and time.monotonic() < deadline:
                if not self._reap():
                    time.sleep(POLL_S)
        except KeyboardInterrupt:
            pass
        self._signal(signal.SIGKILL)
        while self.running:
            self._reap(block=True)

    def _signal(self, sig: int) -> None:
        for pid in self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
