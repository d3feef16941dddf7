"""Command line: `harness run ...` takes the same options as `invoke run` (harness/config.py).

Errors print one line (`error: ...`) and exit with a distinct code; a
traceback goes to a log file (the run folder's crash.log, or a file of this
process's own in the temp folder), never to the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.config import COMMAND_LINE, Option, from_options, given_names
from harness.errors import ExitCode, HarnessError
from harness.run.folder import write_crash_log
from harness.run.signals import stop_cause, stop_code, stop_on_signals


def run_with_exit_code(given: dict, project: Any = None) -> int:
    """Run with the options `given` (by RunConfig field; None: not given) over invoke.yaml's
    `harness:` section `project`; map every outcome to an exit code, printing one line on
    errors. SIGTERM and SIGHUP stop the run as Ctrl-C does (harness/run/signals.py)."""
    return _guarded(lambda: _run(given, project))


def matrix_with_exit_code(given: dict, project: Any = None) -> int:
    """`harness matrix` with the matrix and run options `given` (by name; None: not
    given): the exit code of its worst cell, or one error line and its code."""
    from harness.matrix.run import matrix_from_options, run_matrix

    def work() -> int:
        matrix, jobs = matrix_from_options(given, project)
        return run_matrix(matrix, jobs=jobs, quiet=bool(given.get("quiet")))

    return _guarded(work)


def merge_with_exit_code(folders: list[str], out: str | None, quiet: bool = False) -> int:
    """`harness merge`: the shards' matrix folders as one; the worst cell's exit code."""
    from harness.matrix.merge import merge

    return _guarded(lambda: merge([Path(f) for f in folders], Path(out) if out else None,
                                  quiet=quiet))


def _guarded(work: Callable[[], int]) -> int:
    with stop_on_signals():
        try:
            return _mapped(work)
        except KeyboardInterrupt as exc:  # before the pipeline's own handling, or after
            return _interrupted(exc)


def _run(given: dict, project: Any) -> int:
    from harness.run.pipeline import run

    res = run(from_options(given, project), given=given_names(given))
    return int(res.verdict.exit_code)


def _mapped(work: Callable[[], int]) -> int:
    """`work`'s exit code; every exception it raises mapped to its own, in one line."""
    try:
        return work()
    except HarnessError as exc:
        _say(f"error: {exc.one_line()}")
        return int(exc.code)
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except OSError as exc:  # before the run folder exists (pipeline handles it after)
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return _internal(exc)
        _say(f"error: no space left writing {exc.filename or 'a file'} ({exc.strerror})")
        return int(ExitCode.DISK_FULL)
    except Exception as exc:  # a bug: keep the traceback, show one line
        return _internal(exc)


def _interrupted(exc: KeyboardInterrupt) -> int:
    cause = stop_cause(exc)
    what = "interrupted" if cause == "Ctrl-C" else f"stopped by {cause}"
    _say(f"error: {what}; partial results are in the run folder")
    return stop_code(exc)


def _internal(exc: BaseException) -> int:
    """A bug before a run folder exists: the traceback goes to a file of this process."""
    _say(f"error: internal error {type(exc).__name__}: {exc} "
         f"(traceback: {write_crash_log(exc)})")
    return int(ExitCode.INTERNAL)


def _say(line: str) -> None:
    """One line on stderr; a closed terminal (SIGHUP) or pipe does not make it fail."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """One argument per command-line option of config.OPTIONS (None when not given)."""
    add_options(parser, COMMAND_LINE)


def add_options(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    """One argument per option (None when not given)."""
    for opt in options:
        more = {"action": "store_true"} if opt.switch else {"metavar": opt.metavar}
        flags = [opt.short, opt.flag] if opt.short else [opt.flag]
        parser.add_argument(*flags, dest=opt.name, default=opt.unset,
                            help=opt.help_text.replace("%", "%%"), **more)


def build_parser() -> argparse.ArgumentParser:
    """`harness run [options]`, `harness matrix [options]`, `harness merge DIR...`,
    `harness ports`."""
    from harness.matrix.options import ALL_OPTIONS

    ap = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    add_run_options(sub.add_parser("run", help="cross-check a model on a target"))
    add_options(sub.add_parser("matrix", help="cross-check every model on every target, "
                               "runtime, ... in parallel (the cross product of the axes)"),
                ALL_OPTIONS)
    merge = sub.add_parser("merge", help="combine the matrix folders of a sharded matrix "
                           "(--shard K/N) into one")
    merge.add_argument("folders", nargs="+", metavar="DIR", help="the shards' matrix folders")
    merge.add_argument("--out", help="the merged matrix folder (default: "
                       "<first folder's parent>/matrix-merged-<time>)")
    merge.add_argument("--quiet", action="store_true", help="print errors only")
    sub.add_parser("ports", help="list the serial ports with their USB VID:PID and the debug "
                                 "probe each belongs to (what --port auto picks from)")
    return ap


def ports() -> int:
    """Print the serial ports and which one `--port auto` would take."""
    from harness.device.ports import auto_port, serial_ports, table

    found = serial_ports()
    print(table(found))
    try:
        print(f"--port auto: {auto_port(found).device}")
    except HarnessError as exc:
        print(exc.one_line())
    return 0


def main(argv: list[str] | None = None) -> int:
    given = vars(build_parser().parse_args(argv))
    command = given.pop("command")
    if command == "ports":
        return ports()
    if command == "matrix":
        return matrix_with_exit_code(given)
    if command == "merge":
        return merge_with_exit_code(given["folders"], given["out"], given["quiet"])
    return run_with_exit_code(given)


if __name__ == "__main__":
    sys.exit(main())
