"""The plan of a matrix: its axes' values, the options every cell takes, and the cells.

The cells are the cross product of the axes, in AXES order (models outermost), each with
a stable id (`<model>_<target>_<runtime>`, readable, a folder name). `--shard K/N` keeps
every N-th cell from the K-th on: the same subset on every machine for the same plan,
and together the N shards are the whole matrix. A plan comes from the command line
and a matrix.yaml (`Plan.from_given`), or back from a matrix.json (`Plan.from_dict`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoke.util import yaml  # invoke (a dependency) carries PyYAML

from harness.config import BY_NAME, given_names
from harness.errors import BadInput
from harness.matrix.axes import AXES
from harness.matrix.options import CELL_OPTIONS, MATRIX_OPTIONS

_BY_NAME = {o.name: o for o in MATRIX_OPTIONS}
_CELL = {o.name: o for o in CELL_OPTIONS}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Cell:
    """One run of the matrix: a value on every axis."""

    id: str  # also its run folder's name in the matrix folder
    values: dict[str, str]  # RunConfig field -> value: {"model": ..., "target": ...}

    @property
    def model_name(self) -> str:
        return Path(self.values["model"]).stem


@dataclass(frozen=True)
class Plan:
    """What a matrix runs: the axes' values and the run options every cell gets."""

    axes: dict[str, list[str]]  # axis name -> values, in AXES order
    options: dict[str, Any] = field(default_factory=dict)  # run option -> value as given
    places: list[str] = field(default_factory=list)
    project: dict[str, Any] = field(default_factory=dict)  # invoke.yaml's harness: section

    @property
    def cells(self) -> list[Cell]:
        """Every cell of the matrix, in order, with unique ids."""
        cells, seen = [], set()
        for combo in itertools.product(*(self.axes[a.name] for a in AXES)):
            values = {a.field: v for a, v in zip(AXES, combo, strict=True)}
            cid = _cell_id(self.axes, values)
            n, unique = 1, cid
            while unique in seen:  # two models of one name in different folders
                n += 1
                unique = f"{cid}-{n}"
            seen.add(unique)
            cells.append(Cell(unique, values))
        return cells

    def to_dict(self) -> dict[str, Any]:
        return {"axes": self.axes, "options": self.options, "places": self.places,
                "project": self.project, "cells": len(self.cells)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Plan:
        axes = {a.name: list(d["axes"].get(a.name) or a.default()) for a in AXES}
        return cls(axes, dict(d.get("options") or {}), list(d.get("places") or []),
                   dict(d.get("project") or {}))

    @classmethod
    def from_given(cls, given: Mapping[str, Any], project: Any = None) -> Plan:
        """The plan from the matrix options given (by name; None: not given) over the
        matrix.yaml they name (`file`)."""
        file = given.get("file")
        spec = _read_yaml(Path(file)) if file else {}
        base = Path(file).parent if file else Path(".")
        axes = {}
        for axis in AXES:
            raw = given.get(axis.name)
            if raw not in (None, "", []):
                axes[axis.name] = axis.values(_listed(raw, axis.flag))
            elif axis.name in spec:
                axes[axis.name] = axis.values(_listed(spec[axis.name], axis.name), base)
            else:
                axes[axis.name] = axis.values(axis.default())
        options = {**_yaml_options(spec.get("options"), file),
                   **{n: given[n] for n in given_names(given) if n in _CELL}}
        places = _listed(given.get("places") or spec.get("places") or [], "--places")
        return cls(axes, options, places, dict(project or {}))


def _cell_id(axes: Mapping[str, list[str]], values: Mapping[str, str]) -> str:
    parts = [Path(values["model"]).stem]
    parts += [values[a.field] for a in AXES[1:] if a.in_id(axes[a.name])]
    return _UNSAFE.sub("-", "_".join(parts))


def shard(cells: list[Cell], which: str | None) -> list[Cell]:
    """Shard `which` ('K/N') of `cells`: cells K-1, K-1+N, K-1+2N, ... (all for None)."""
    if not which:
        return cells
    k, n = (int(x) for x in which.split("/"))
    return cells[k - 1::n]


def _listed(value: Any, where: str) -> list[str]:
    return _BY_NAME["places"].parse(value, where) if value not in (None, "") else []


def _read_yaml(path: Path) -> dict[str, Any]:
    """A matrix.yaml: a mapping of axes, `places`, `options` (run options for every cell)."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{path}{where} is not valid YAML "
                       f"({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(spec, dict):
        raise BadInput(f"{path} must be a mapping (models:, targets:, ..., options:)")
    known = {a.name for a in AXES} | {"places", "options"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise BadInput(f"{path}: {', '.join(unknown)} is not a matrix setting",
                       hint=f"a matrix.yaml may set {', '.join(sorted(known))}")
    return spec


def _yaml_options(section: Any, file: Any) -> dict[str, Any]:
    """matrix.yaml's `options:` (run option names, as results.json's config names them, or
    their flags without dashes), each checked as the command line checks it."""
    if not section:
        return {}
    if not isinstance(section, dict):
        raise BadInput(f"{file}: options must be a mapping of run options")
    by_param = {o.param: o for o in CELL_OPTIONS}
    out = {}
    for key, value in section.items():
        opt = _CELL.get(key) or by_param.get(str(key).replace("-", "_"))
        if opt is None:
            hint = "the axes and --place are set above it" if key in BY_NAME else (
                f"run options: {', '.join(o.name for o in CELL_OPTIONS)}")
            raise BadInput(f"{file}: options.{key} is not a run option a cell takes",
                           hint=hint)
        opt.read(value)
        out[opt.name] = value
    return out
