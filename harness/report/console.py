"""Console report: step lines with progress bars while running; at the end the answer
first: the verdict, the drift per attribution part, the enforced pair, the results path.

`-v/--verbose` adds the table of every pair before that. Every line stays within WIDTH
columns: a longer one is wrapped with a hanging indent.
"""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console as RichConsole
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.progress import Progress

WIDTH = 100  # the README's promise: no console line is wider
MAX_ENFORCED_LINES = 3  # a model with many outputs: the rest is in -v and results.json
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
        more = f" - {escape(detail)}" if detail else ""
        self.console.line(f"  [bold]{escape(self.name)}[/]: {escape(status)}{more}")

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class Console:
    def __init__(self, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet, self.verbose = quiet, verbose
        self.rich = RichConsole(file=sys.stdout, highlight=False, soft_wrap=True,
                                width=None if sys.stdout.isatty() else WIDTH)
        self.width = min(WIDTH, self.rich.width)

    def line(self, text: str, wrapped: bool = True) -> None:
        """Print one line of rich markup, wrapped to the width with a hanging indent (or
        not: a path is more use whole, on the line that names it)."""
        if self.quiet:
            return
        text = Text.from_markup(text)
        for part in wrap(text, self.width) if wrapped else [text]:
            self.rich.print(part)

    def header(self, res: dict) -> None:
        m, cfg = res["model"], res["config"]
        self.line(f"[bold]harness[/] {escape(m['name'])} ({m['sha256'][:16]}) on "
                  f"{res['target']['name']}, runtime {cfg['runtime']}, "
                  f"{cfg['vectors'] if not cfg['inputs'] else 'user'} vectors")

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(self, name)
        try:
            yield step
        finally:
            step._stop()

    def summary(self, res: dict) -> None:
        """The closing lines: with verbose the table of every pair first, then the answer."""
        if self.quiet:
            return
        if self.verbose:
            self.table(res)
        *answer, path = summary_lines(res)
        for text in answer:
            self.line(text)
        self.line(path, wrapped=False)

    def table(self, res: dict) -> None:
        """Every comparison, one row each, and the references that did not run."""
        if res.get("comparisons"):
            self.rich.print(comparison_table(res["comparisons"]), width=self.width)
        for name, ref in (res.get("references") or {}).items():
            if ref["status"] != "ok":
                self.line(f"  [yellow]{name} {ref['status']}[/]: {escape(str(ref['reason']))}")


def wrap(text: Text, width: int) -> list[Text]:
    """`text` in lines of at most `width` columns (a word longer than that, e.g. a path,
    stays whole); continuation lines are indented two more than the first."""
    plain = text.plain
    if len(plain) <= width:
        return [text]
    indent = " " * (len(plain) - len(plain.lstrip(" ")) + 2)
    pieces = textwrap.wrap(plain, width, subsequent_indent=indent, break_long_words=False,
                           break_on_hyphens=False)
    out, pos = [], 0
    for k, piece in enumerate(pieces):
        body = piece.removeprefix(indent) if k else piece
        start = plain.find(body, pos)
        if start < 0:  # textwrap changed whitespace inside: keep the words, lose the colour
            return [Text(p) for p in pieces]
        pos = start + len(body)
        out.append(Text(indent) + text[start:pos] if k else text[start:pos])
    return out


def summary_lines(res: dict) -> list[str]:
    """The answer, as rich markup lines: verdict, drift per part, enforced rows, results."""
    return [verdict_line(res), *drift_lines(res), *quantization_lines(res), *enforced_lines(res),
            results_line(res)]


def verdict_line(res: dict) -> str:
    v = res.get("verdict") or {}
    status = str(v.get("status", "INCOMPLETE"))
    return f"[{_STYLE.get(status, 'bold')}]{status}[/]: {escape(str(v.get('reason') or ''))}"


def drift_lines(res: dict) -> list[str]:
    """One line per attribution part with drift: the part, its LSB, first op and cause."""
    parts = (res.get("attribution") or {}).get("parts") or []
    return [_drift_line(p) for p in parts if isinstance(p, dict)
            and (p.get("max_abs_lsb") or p.get("first_divergence"))]


def _drift_line(p: dict) -> str:
    d, cause = p.get("first_divergence"), p.get("cause")
    size = f"{p['max_abs_lsb']} LSB" if p.get("max_abs_lsb") else "0 LSB at the outputs"
    where = (f" from op {d.get('op')} {d.get('name', '')}".rstrip() if isinstance(d, dict)
             else f" (jumps at op {cause['op']} {cause.get('name', '')})".replace(" )", ")")
             if isinstance(cause, dict) and cause.get("op") is not None  # quantization
             else " (first op: run with --per-layer)")
    why = cause.get("id") if isinstance(cause, dict) and cause.get("id") else "none identified"
    tail = f": {size}{where}, cause: {why}"
    return escape(_fit(f"  {p.get('part')} ({p.get('from')} -> {p.get('to')}){tail}",
                       f"  {p.get('part')}{tail}"))  # the report names both sides


def quantization_lines(res: dict) -> list[str]:
    """The quantization analysis's warnings (the input vectors, the float model), a line each."""
    q = (res.get("attribution") or {}).get("quantization") or {}
    return [f"  [yellow]warning[/]: {escape(str(w.get('short') or w.get('message')))}"
            for w in q.get("warnings") or [] if isinstance(w, dict)]


def enforced_lines(res: dict) -> list[str]:
    """The enforced comparisons (device vs its own reference, one per output)."""
    rows = [c for c in res.get("comparisons") or [] if isinstance(c, dict) and c.get("enforced")]
    lines = [_enforced_line(c) for c in rows[:MAX_ENFORCED_LINES]]
    if len(rows) > MAX_ENFORCED_LINES:
        lines.append(f"  ... and {len(rows) - MAX_ENFORCED_LINES} more enforced outputs "
                     "(-v lists every pair)")
    return lines


def _enforced_line(c: dict) -> str:
    """`enforced: a vs b [output]: <exact>, max |d|, tolerance: ok|FAIL`; the exact rate is
    left out when the line would not fit."""
    name = c.get("output") or "unnamed output"  # some converters leave names empty
    pair = f"  enforced: {c.get('a')} vs {c.get('b')} [{name}]: "
    rate = c.get("exact_rate")
    rate = f"{100 * rate:.2f}% exact, " if isinstance(rate, int | float) else ""
    tail = (f"max |d| {c.get('max_abs_lsb')} {c.get('unit', 'LSB')}, "
            f"tolerance {c.get('tolerance_lsb')}: ")
    ok = bool(c.get("passed"))
    text = _fit(pair + rate + tail + ("ok" if ok else "FAIL"), pair + tail)
    return escape(text.removesuffix("ok" if ok else "FAIL")) + (
        "[green]ok[/]" if ok else "[red]FAIL[/]")


def _fit(full: str, short: str) -> str:
    """`full` when it fits in WIDTH columns, else `short`."""
    return full if len(full) <= WIDTH else short


def results_line(res: dict) -> str:
    folder = str(res.get("run_dir"))
    rel = os.path.relpath(folder) if os.path.isabs(folder) else folder
    shown = folder if rel.startswith("..") else rel  # short when under the current folder
    return escape(_fit(f"results: {shown}/results.json (also junit.xml, report.html)",
                       f"results: {shown}/results.json"))


def comparison_table(comparisons: list[dict]) -> Table:
    """Every pair: exact rate, max |d|, tolerance and whether it is checked."""
    vectors = comparisons[0].get("vectors")
    table = Table(title=f"every pair, {vectors} vectors", title_justify="left")
    for col in ("pair", "output", "exact", "max |d|", "tol", "check"):
        table.add_column(col, justify="left" if col in ("pair", "output") else "right",
                         overflow="ellipsis", no_wrap=True)
    for c in comparisons:
        tol = "-" if c["tolerance_lsb"] is None else str(c["tolerance_lsb"])
        check = ("[green]ok[/]" if c["passed"] else "[red]FAIL[/]") if c["enforced"] \
            else "reported"
        table.add_row(f"{c['a']} vs {c['b']}", escape(_clip(str(c["output"]), 40)),
                      f"{100 * c['exact_rate']:.2f}%",
                      f"{c['max_abs_lsb']} {c.get('unit', 'LSB')}", tol, check)
    return table


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"
