"""Console report: step lines with progress bars while running, a summary table at the end."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console as RichConsole
from rich.table import Table

if TYPE_CHECKING:
    from rich.progress import Progress

_STYLE = {"PASS": "bold green", "DRIFT": "bold red", "ERROR": "bold red",
          "UNCHECKED": "bold yellow", "INTERRUPTED": "bold yellow", "INCOMPLETE": "bold yellow"}


class Step:
    def __init__(self, console: Console, name: str) -> None:
        self.console, self.name = console, name
        self._progress: Progress | None = None

    def progress(self, total: int) -> Callable[[int], None]:
        """A callback that advances a progress bar (shown on terminals only)."""
        if self.console.quiet or not self.console.rich.is_terminal:
            return lambda done: None
        from rich import progress as rp  # only terminals show bars: not imported otherwise

        self._progress = rp.Progress(rp.TextColumn(f"  {self.name}"), rp.BarColumn(),
                                     rp.MofNCompleteColumn(), rp.TimeElapsedColumn(),
                                     console=self.console.rich, transient=True)
        task = self._progress.add_task(self.name, total=total)
        self._progress.start()
        return lambda done: self._progress.update(task, completed=done)

    def done(self, status: str, detail: str = "") -> None:
        self._stop()
        self.console.line(f"  [bold]{self.name}[/]: {status}" + (f" - {detail}" if detail else ""))

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class Console:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.rich = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True,
                                width=None if sys.stdout.isatty() else 120)

    def line(self, text: str) -> None:
        if not self.quiet:
            self.rich.print(text)

    def header(self, res: dict) -> None:
        m = res["model"]
        self.line(f"[bold]harness[/] {m['name']} ({m['sha256'][:16]}) on {res['target']['name']}"
                  f", runtime {res['config']['runtime']}, "
                  f"{res['config']['vectors'] if not res['config']['inputs'] else 'user'} vectors")

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(self, name)
        try:
            yield step
        finally:
            step._stop()

    def summary(self, res: dict) -> None:
        """The closing table: one row per comparison, then the verdict."""
        if self.quiet:
            return
        if res["comparisons"]:
            table = Table(title="device vs references", title_justify="left")
            for col in ("pair", "output", "vectors", "exact", "max |d|", "tolerance", "check"):
                table.add_column(col, justify="right" if col not in ("pair", "output") else "left")
            for c in res["comparisons"]:
                tol = "-" if c["tolerance_lsb"] is None else str(c["tolerance_lsb"])
                check = ("[green]ok[/]" if c["passed"] else "[red]FAIL[/]") if c["enforced"] \
                    else "reported"
                table.add_row(f"{c['a']} vs {c['b']}", c["output"][:40], str(c["vectors"]),
                              f"{100 * c['exact_rate']:.2f}%",
                              f"{c['max_abs_lsb']} {c.get('unit', 'LSB')}", tol, check)
            self.rich.print(table)
        for name, ref in res["references"].items():
            if ref["status"] != "ok":
                self.line(f"  [yellow]{name} {ref['status']}[/]: {ref['reason']}")
        v = res["verdict"]
        style = _STYLE.get(v["status"], "bold")
        self.line(f"[{style}]{v['status']}[/]: {v['reason']}")
        self.line(f"results: {res['run_dir']}/results.json (also junit.xml, report.html)")
