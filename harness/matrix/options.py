"""The options of `harness matrix`, declared once (as harness/config.py declares a run's).

MATRIX_OPTIONS: one per axis (harness/matrix/axes.py) and the matrix's own (places,
matrix.yaml, -j, --shard, --resume, --out). CELL_OPTIONS: the run options every cell
takes as they are given (`--vectors 5`, `--references litert-ref`). MATRIX_LEVEL: the run
options that apply to the matrix itself (where run folders go, --quiet). The command
line (cli.py) and `invoke matrix` (tasks.py) are generated from these three.
"""

from __future__ import annotations

import os
from dataclasses import make_dataclass
from pathlib import Path
from typing import Any

from harness.config import BY_NAME, COMMAND_LINE, Option, at_least, declared, option
from harness.errors import BadInput
from harness.matrix.axes import AXES, AXIS_FIELDS


def parse_shard(value: Any, flag: str = "--shard") -> str:
    """'2/4' -> '2/4' (shard 2 of 4); BadInput unless 1 <= K <= N."""
    k, sep, n = str(value).strip().partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise BadInput(f"{flag} must be K/N with 1 <= K <= N (e.g. 1/2), not {value!r}")
    return f"{int(k)}/{int(n)}"


def _cores() -> int:
    return os.cpu_count() or 1


def _axis_field(axis: Any) -> tuple[str, type, Any]:
    return (axis.name, list[str], option(factory=axis.default, help=axis.help,
                                         flag=axis.flag, metavar=axis.name.upper()))


_OWN = [
    ("places", list[str], option(
        factory=list, help="labgrid places to spread the board cells over (a cell whose "
        "target is a place's board, or that board's target, runs on a free one)")),
    ("file", Path | None, option(None, "a matrix.yaml: axes, places and run options (the "
                                 "command line wins)", short="-f", metavar="MATRIX_YAML")),
    ("jobs", int, option(factory=_cores, help="cells run at once", short="-j",
                         check=at_least(1), shown="the number of cores")),
    ("shard", str | None, option(None, "run shard K of N only (K/N): a stable subset of the "
                                 "cells, for parallel CI jobs", parse=parse_shard)),
    ("resume", Path | None, option(None, "finish a matrix that was stopped or died, keeping "
                                   "every finished cell", metavar="MATRIX_DIR")),
    ("out", Path | None, option(None, "the matrix folder", shown="<runs-dir>/matrix-<time>")),
]

MatrixOptions = make_dataclass("MatrixOptions", [_axis_field(a) for a in AXES] + _OWN,
                               frozen=True)
MatrixOptions.__doc__ = "The matrix's own options (see `option`)."
MATRIX_OPTIONS: tuple[Option, ...] = declared(MatrixOptions)
MATRIX_LEVEL: tuple[Option, ...] = (BY_NAME["runs_dir"], BY_NAME["quiet"])
# Not per cell: the axes, what the matrix decides (the run folder, the place and port of a
# board cell), and what concerns the matrix itself.
_NOT_PER_CELL = AXIS_FIELDS | {"place", "port", "board", "resume", "runs_dir", "quiet",
                               "verbose"}
CELL_OPTIONS: tuple[Option, ...] = tuple(o for o in COMMAND_LINE
                                         if o.name not in _NOT_PER_CELL)
ALL_OPTIONS: tuple[Option, ...] = MATRIX_OPTIONS + MATRIX_LEVEL + CELL_OPTIONS
