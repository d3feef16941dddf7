"""matrix.html: one self-contained page, a grid of the cells coloured by verdict.

A row per model, a column per combination of the other axes (target, runtime, ...). A
cell shows its verdict, the enforced comparisons' largest |Δ|, the first op where the
device diverges and the likely cause, and the counter per inference; it links to the
cell's own report.html. A skipped cell says why. Below the grid, every cell as a row
with its whole reason. Rendered from matrix.json (templates/matrix/matrix.html.j2).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import jinja2

from harness.device.counter import count_text
from harness.matrix.axes import AXES
from harness.report.html import VERDICT_COLOURS
from harness.resources import TEMPLATES_DIR

TEMPLATE = "matrix/matrix.html.j2"
FILE = "matrix.html"
# Background and text colour per status: the report's verdict colours, with an error
# darker than a drift, and the states where nothing was measured in greys.
COLOURS = {**VERDICT_COLOURS, "ERROR": "#82071e", "SKIPPED": "#d0d7de", "PENDING": "#f6f8fa"}
INK = {"SKIPPED": "#1f2328", "PENDING": "#57606a"}


def _figures(c: dict[str, Any]) -> list[str]:
    """The short lines a grid cell shows under its verdict."""
    lines = []
    if c.get("max_abs") is not None:
        lines.append(f"max |Δ| {c['max_abs']:g} {c.get('unit') or 'LSB'}")
    if c.get("first_op") is not None:
        lines.append(f"op {c['first_op']} {c.get('first_op_name') or ''}".rstrip()
                     + f": {c.get('cause') or 'cause unknown'}")
    if c.get("per_inference"):
        lines.append(f"{count_text(c['per_inference'], c.get('counter_unit'))}/inference")
    return lines


def _cell(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if c is None:
        return None
    status = c["status"]
    return {**c, "colour": COLOURS.get(status, "#6e7781"), "ink": INK.get(status, "#ffffff"),
            "figures": _figures(c), "title": f"{c['id']}: {status} - {c.get('reason') or ''}"}


def grid(doc: dict[str, Any]) -> dict[str, Any]:
    """Rows (models) x columns (the other axes' combinations) of the document's cells."""
    axes = doc["plan"]["axes"]
    others = [a for a in AXES[1:] if len(axes.get(a.name) or []) > 0]
    columns = list(itertools.product(*(axes[a.name] for a in others)))
    by_key = {(c["model"], *(c[a.field] for a in others)): c for c in doc.get("cells") or []}
    rows = [{"model": Path(m).stem, "path": m,
             "cells": [_cell(by_key.get((m, *col))) for col in columns]}
            for m in axes["models"]]
    return {"heads": [{"label": col[0], "sub": " ".join(col[1:])} for col in columns],
            "rows": rows}


def context(doc: dict[str, Any]) -> dict[str, Any]:
    cells = [_cell(c) for c in doc.get("cells") or []]
    return {"doc": doc, "grid": grid(doc), "cells": cells, "colours": COLOURS, "ink": INK,
            "summary": doc.get("summary") or {}, "axes": doc["plan"]["axes"]}


def render(doc: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    return env.get_template(TEMPLATE).render(**context(doc))


def write(folder: Path, doc: dict[str, Any]) -> Path:
    path = folder / FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(doc), encoding="utf-8")
    tmp.replace(path)
    return path
