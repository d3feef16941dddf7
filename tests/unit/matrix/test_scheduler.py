"""harness/matrix/scheduler.py: -j cells at once, board cells on free places (cells here
are forked processes that sleep, not runs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from harness.matrix import scheduler
from harness.matrix.plan import Plan
from harness.matrix.progress import Progress
from harness.matrix.scheduler import WAIT, PlacePool, Scheduler
from harness.matrix.worker import Job, Running


def test_a_place_pool_hands_out_free_places_of_a_board() -> None:
    pool = PlacePool({"lab-1": "nucleo-f401re", "lab-2": "nucleo-f401re"})
    assert pool.places_for("stm32f4") == ["lab-1", "lab-2"]  # the board's target
    assert pool.take("cortex-m55") is None  # no place: emulated
    assert [pool.take("nucleo-f401re"), pool.take("stm32f4")] == ["lab-1", "lab-2"]
    assert pool.take("stm32f4") == WAIT
    pool.give("lab-2")
    assert pool.take("stm32f4") == "lab-2"


def _fake_start(log: list):
    def start(job: Job, place: str | None) -> Running:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            time.sleep(0.05)
            os._exit(3 if "m55" in job.cell.id else 0)
        os.close(w)
        log.append(("start", job.cell.id, place, time.monotonic()))
        return Running(job.cell, pid, r, time.monotonic(), place)
    return start


def test_cells_run_at_most_j_at_once_and_board_cells_on_places(monkeypatch, tmp_path: Path
                                                                ) -> None:
    log: list = []
    monkeypatch.setattr(scheduler, "start", _fake_start(log))
    cells = Plan({"models": ["a.tflite", "b.tflite"], "targets": ["stm32f4", "cortex-m55"],
                  "runtimes": ["auto"], "kernels": ["reference"]}).cells
    jobs = {c.id: Job(c, {}, {}, tmp_path / c.id, tmp_path / "log", False) for c in cells}
    ended: dict = {}
    most = []

    def finish(r: Running, report, code: int) -> None:
        ended[r.cell.id] = (code, r.place)

    s = Scheduler(jobs, 3, PlacePool({"lab-1": "nucleo-f401re"}), Progress(4, quiet=True),
                  finish)
    real_launch = s._launch

    def launch(waiting):
        real_launch(waiting)
        most.append(len(s.running))
    s._launch = launch
    s.run(cells)
    assert max(most) <= 3 and sorted(ended) == sorted(jobs)
    assert {i: e for i, e in ended.items()} == {
        "a_stm32f4_auto": (0, "lab-1"), "a_cortex-m55_auto": (3, None),
        "b_stm32f4_auto": (0, "lab-1"), "b_cortex-m55_auto": (3, None)}
    board = [t for what, cid, place, t in log if place == "lab-1"]
    assert len(board) == 2 and board[1] - board[0] >= 0.04  # one place: one after the other
