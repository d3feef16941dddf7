"""The axes of a matrix: each one a run option that takes several values.

An axis is declared once here: its matrix option (`--models`), the run option each of
its values sets (`--model`), and how a value given is expanded (models: globs). The
matrix's command line, `invoke matrix`, matrix.yaml and the cells' ids all read AXES.
An axis whose run option does not exist (yet) is left out, so an option that lands in
harness/config.py later (`--kernels`) becomes an axis with no other change.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.config import BY_NAME, example_model
from harness.errors import BadInput, ModelNotFound
from harness.targets.table import DEFAULT_TARGET, get_target


def _as_is(value: str, base: Path) -> list[str]:
    return [value]


def _model_files(pattern: str, base: Path) -> list[str]:
    """A path or glob ('../models/*int8*.tflite') -> the files, sorted; relative patterns
    are read from `base` (the folder of the matrix.yaml that names them)."""
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    if not glob.has_magic(pattern):
        if not Path(full).is_file():
            raise ModelNotFound(f"model file not found: {full}",
                                hint="--models takes .tflite paths or globs")
        return [pattern if base == Path(".") else full]
    found = sorted(glob.glob(full))
    if not found:
        raise BadInput(f"--models {pattern} matches no file")
    return found


@dataclass(frozen=True)
class Axis:
    """One axis: the plural matrix option over one run option."""

    name: str  # the matrix option, matrix.yaml and matrix.json key: "models"
    field: str  # the RunConfig field a value sets: "model"
    help: str
    default: Callable[[], list[str]]
    expand: Callable[[str, Path], list[str]] = _as_is
    in_id: Callable[[list[str]], bool] = lambda values: True  # part of the cell ids
    check: Callable[[str], object] = lambda value: None  # beyond the run option's own

    @property
    def flag(self) -> str:
        return "--" + self.name

    def values(self, given: list[str], base: Path = Path(".")) -> list[str]:
        """The values `given` stands for, each checked as its run option checks it."""
        out: list[str] = []
        for value in given:
            for v in self.expand(value, base):
                if v not in out:
                    BY_NAME[self.field].read(v)  # one error line, as `harness run` gives
                    self.check(v)
                    out.append(v)
        if not out:
            raise BadInput(f"{self.flag} is empty")
        return out


def _one(default: str) -> Callable[[list[str]], bool]:
    """Ids name this axis only when the matrix uses something else than `default`."""
    return lambda values: values != [default]


_DECLARED = (
    Axis("models", "model", "the .tflite files: paths or globs, comma-separated",
         lambda: [str(example_model())], _model_files),
    # A name the target table lacks is a typo, not a cell that does not fit: checked here.
    Axis("targets", "target", "targets or boards from the target table, comma-separated",
         lambda: [DEFAULT_TARGET], check=get_target),
    Axis("runtimes", "runtime", "on-target runtimes (builtin, tflm, auto), comma-separated",
         lambda: ["auto"]),
    Axis("kernels", "kernels", "TFLM kernels (reference, cmsis-nn), comma-separated",
         lambda: ["reference"], in_id=_one("reference")),
)
AXES: tuple[Axis, ...] = tuple(a for a in _DECLARED if a.field in BY_NAME)
AXIS_FIELDS = frozenset(a.field for a in AXES) | {a.field for a in _DECLARED}
