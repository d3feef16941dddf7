"""The matrix's live view: cells done / running / failed while it runs, a line per cell
as it ends. On a terminal the counts and the running cells stay at the bottom, redrawn
from the matrix's own loop (no refresh thread: the matrix forks its cells); elsewhere
(CI logs) only the line per cell is printed. Every line fits in 100 columns."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter

from rich.console import Console as RichConsole
from rich.live import Live
from rich.markup import escape
from rich.text import Text

from harness.device.counter import count_text
from harness.matrix.outcome import SKIPPED, Outcome
from harness.report.console import WIDTH

FAILED = ("DRIFT", "ERROR", "INCOMPLETE", "INTERRUPTED")
_STYLE = {"PASS": "green", "DRIFT": "red", "ERROR": "red", "UNCHECKED": "yellow",
          SKIPPED: "dim", "INTERRUPTED": "yellow", "INCOMPLETE": "yellow"}
REDRAW_S = 0.25


def cell_line(n: int, total: int, cell_id: str, o: Outcome, seconds: float | None) -> str:
    """`[3/8] PASS      model_target_runtime - max |d| 0 LSB, 4.65 M instructions, 3.1 s`,
    cut to fit WIDTH columns."""
    head = f"[{n}/{total}] {o.status:<11} {cell_id}"
    if o.status == SKIPPED or o.max_abs is None:
        detail = o.reason
    else:
        detail = f"max |d| {o.max_abs:g} {o.unit or 'LSB'}"
        if o.first_op is not None:
            detail += f" (op {o.first_op} {o.first_op_name}, {o.cause or 'cause unknown'})"
        if o.per_inference:
            detail += f", {count_text(o.per_inference, o.counter_unit)}"
    if seconds is not None and o.status != SKIPPED:
        detail += f", {seconds:.1f} s"
    line = f"{head} - {detail}" if detail else head
    return line if len(line) <= WIDTH else line[:WIDTH - 1] + "…"


class Progress:
    """What the matrix shows while it runs."""

    def __init__(self, total: int, *, quiet: bool = False) -> None:
        self.total, self.quiet = total, quiet
        self.console = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True,
                                   width=None if sys.stdout.isatty() else WIDTH)
        self.counts: Counter[str] = Counter()
        self.done = 0
        self.running: dict[str, tuple[float, str | None]] = {}
        self._live: Live | None = None
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        if not self.quiet and self.console.is_terminal:
            self._live = Live(console=self.console, auto_refresh=False, transient=True,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            with contextlib.suppress(Exception):
                self._live.stop()
            self._live = None

    def kept(self, outcome: Outcome) -> None:
        """A cell finished by an earlier run of this matrix (--resume)."""
        self.done += 1
        self.counts[outcome.status] += 1

    def started(self, cell_id: str, place: str | None) -> None:
        self.running[cell_id] = (time.monotonic(), place)
        self.draw(force=True)

    def finished(self, cell_id: str, outcome: Outcome, seconds: float | None) -> None:
        self.running.pop(cell_id, None)
        self.done += 1
        self.counts[outcome.status] += 1
        if not self.quiet:
            line = cell_line(self.done, self.total, cell_id, outcome, seconds)
            style = _STYLE.get(outcome.status, "bold")
            self._print(escape(line).replace(outcome.status, f"[{style}]{outcome.status}[/]",
                                             1))
        self.draw(force=True)

    def summary(self) -> str:
        """'8 cells: 5 done (4 PASS, 1 DRIFT), 2 running, 1 failed, 1 skipped, 1 waiting'"""
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items())
                             if s != SKIPPED)
        failed = sum(self.counts[s] for s in FAILED)
        waiting = self.total - self.done - len(self.running)
        return (f"{self.total} cells: {self.done} done ({statuses or 'none yet'}), "
                f"{len(self.running)} running, {failed} failed, "
                f"{self.counts[SKIPPED]} skipped, {waiting} waiting")

    def draw(self, force: bool = False) -> None:
        """Redraw the live part (at most every REDRAW_S unless `force`)."""
        now = time.monotonic()
        if self._live is None or (not force and now - self._drawn < REDRAW_S):
            return
        self._drawn = now
        lines = [Text(self.summary()[:WIDTH])]
        for cell_id, (t0, place) in self.running.items():
            on = f" on {place}" if place else ""
            lines.append(Text(f"  running {cell_id}{on} ({now - t0:.0f} s)"[:WIDTH]))
        with contextlib.suppress(Exception):
            self._live.update(Text("\n").join(lines), refresh=True)

    def _print(self, markup: str) -> None:
        with contextlib.suppress(OSError):
            self.console.print(markup)
