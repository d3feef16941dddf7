"""The matrix's junit.xml: one <testsuite> per cell, named after the cell.

A cell that ran brings its run's own testsuite (harness/report/junit.py: a testcase per
comparison, the references that did not run, the verdict when the run failed); a cell
that was skipped is one skipped testcase with the reason; a cell that did not run (the
matrix was stopped) or failed before its run folder had results is one error.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.matrix.outcome import SKIPPED
from harness.report.junit import build_tree

FILE = "junit.xml"
_COUNTS = ("tests", "failures", "errors", "skipped")


def _results(folder: Path, cell_id: str) -> dict[str, Any] | None:
    try:
        return json.loads((folder / cell_id / "results.json").read_text())
    except (OSError, ValueError):
        return None


def _suite(folder: Path, cell: dict[str, Any]) -> ET.Element:
    name = f"harness.matrix.{cell['id']}"
    results = _results(folder, cell["id"])
    if results is not None:
        suite = build_tree(results).getroot().find("testsuite")
        suite.set("name", name)
        return suite
    suite = ET.Element("testsuite", name=name, tests="1", time="0.000",
                       failures="0", errors="0", skipped="0")
    case = ET.SubElement(suite, "testcase", classname=name, name="cell", time="0.000")
    reason = f"{cell['status']}: {cell.get('reason') or ''}".strip()
    if cell["status"] == SKIPPED:
        suite.set("skipped", "1")
        ET.SubElement(case, "skipped", message=reason, type=SKIPPED)
    else:
        suite.set("errors", "1")
        ET.SubElement(case, "error", message=reason, type=cell["status"]).text = reason
    return suite


def build(folder: Path, doc: dict[str, Any]) -> ET.ElementTree:
    """The JUnit tree of matrix.json `doc`, whose cells' run folders are in `folder`."""
    root = ET.Element("testsuites", name="harness matrix")
    totals = dict.fromkeys(_COUNTS, 0)
    seconds = 0.0
    for cell in doc.get("cells") or []:
        suite = _suite(folder, cell)
        root.append(suite)
        for key in _COUNTS:
            totals[key] += int(suite.get(key, "0"))
        seconds += float(suite.get("time", "0") or 0)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def write(folder: Path, doc: dict[str, Any]) -> Path:
    path = folder / FILE
    tmp = path.with_name(path.name + ".tmp")
    build(folder, doc).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path
