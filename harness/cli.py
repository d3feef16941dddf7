"""Command line: `harness run ...` takes the same options as `invoke run` (harness/config.py).

Errors print one line (`error: ...`) and exit with a distinct code; a
traceback goes to a log file, never to the terminal.
"""

from __future__ import annotations

import argparse
import errno
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from harness.config import COMMAND_LINE, from_options
from harness.errors import ExitCode, HarnessError


def run_with_exit_code(given: dict, project: Any = None) -> int:
    """Run with the options `given` (by RunConfig field; None: not given) over invoke.yaml's
    `harness:` section `project`; map every outcome to an exit code, printing one line on
    errors."""
    try:
        from harness.run.pipeline import run

        res = run(from_options(given, project))
        return int(res.verdict.exit_code)
    except HarnessError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return int(exc.code)
    except KeyboardInterrupt:
        print("error: interrupted; partial results are in the run folder", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except OSError as exc:  # before the run folder exists (pipeline handles it after)
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return _internal(exc)
        print(f"error: no space left writing {exc.filename or 'a file'} ({exc.strerror})",
              file=sys.stderr)
        return int(ExitCode.DISK_FULL)
    except Exception as exc:  # a bug: keep the traceback, show one line
        return _internal(exc)


def _internal(exc: BaseException) -> int:
    log = Path(tempfile.gettempdir()) / "harness-crash.log"
    log.write_text(traceback.format_exc())
    print(f"error: internal error {type(exc).__name__}: {exc} (traceback: {log})",
          file=sys.stderr)
    return int(ExitCode.INTERNAL)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """One argument per command-line option of config.OPTIONS (None when not given)."""
    for opt in COMMAND_LINE:
        more = {"action": "store_true"} if opt.switch else {"metavar": opt.metavar}
        flags = [opt.short, opt.flag] if opt.short else [opt.flag]
        parser.add_argument(*flags, dest=opt.name, default=opt.unset,
                            help=opt.help_text.replace("%", "%%"), **more)


def build_parser() -> argparse.ArgumentParser:
    """`harness run [options]`, `harness ports`."""
    ap = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    add_run_options(sub.add_parser("run", help="cross-check a model on a target"))
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
    if given.pop("command") == "ports":
        return ports()
    return run_with_exit_code(given)


if __name__ == "__main__":
    sys.exit(main())
