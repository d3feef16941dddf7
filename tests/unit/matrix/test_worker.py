"""harness/matrix/worker.py: a cell in a forked process; what the run refuses is SKIPPED."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.errors import MissingTool
from harness.matrix.outcome import SKIPPED
from harness.matrix.plan import Cell
from harness.matrix.worker import Job, collect, in_child, start
from support.paths import EXAMPLE


def test_a_combination_the_options_refuse_is_skipped_with_its_line(tmp_path: Path) -> None:
    """--kernels cmsis-nn on the builtin runtime: the run's own check, before any work."""
    cell = Cell("c", {"model": str(EXAMPLE), "target": "stm32f4", "runtime": "builtin",
                      "kernels": "cmsis-nn"})
    job = Job(cell, {"vectors": "2"}, {}, tmp_path / "c", tmp_path / "logs" / "c.log", False)
    r = start(job, None)
    _, status = os.waitpid(r.pid, 0)
    report = collect(r, status)
    assert os.waitstatus_to_exitcode(status) == 0
    assert report["status"] == SKIPPED and report["exit_code"] == 2
    assert report["reason"] == "--kernels cmsis-nn needs --runtime tflm (the builtin runtime " \
                               "runs its own kernels)"
    assert "skipped: --kernels cmsis-nn" in job.log.read_text()
    assert not job.folder.exists()


def _answer(x: int) -> int:
    return x * 2


def _refuse(x: int) -> int:
    raise MissingTool("no tool", hint="install it")


def _bug(x: int) -> int:
    raise ValueError("bad")


def test_in_child_returns_or_raises_here() -> None:
    assert in_child(_answer, 21) == 42
    with pytest.raises(MissingTool, match="no tool") as exc:
        in_child(_refuse, 1)
    assert exc.value.hint == "install it"
    with pytest.raises(Exception, match="ValueError: bad"):
        in_child(_bug, 1)
