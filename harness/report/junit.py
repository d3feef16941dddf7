"""junit.xml from results.json, in the pytest/JUnit flavour CI tools read.

One `<testcase>` per comparison (an enforced one that drifted is a `<failure>`,
a reported-only one passes and carries its numbers in `<system-out>`), one
skipped testcase per reference that did not run, and one `<error>` testcase
when the run itself ended in ERROR, INCOMPLETE or INTERRUPTED.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

RUN_PROBLEMS = ("ERROR", "INCOMPLETE", "INTERRUPTED")
# Characters XML 1.0 cannot carry at all, even escaped (device logs may contain them).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: Any) -> str:
    """Text safe for an XML attribute or element (ElementTree escapes <, >, &, quotes)."""
    return _INVALID_XML.sub("?", "" if value is None else str(value))


def _d(value: Any) -> dict:
    """`value` if it is a dict, else {} (results.json may be partial or damaged)."""
    return value if isinstance(value, dict) else {}


def _num(value: Any, digits: int = 6) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return f"{value:.{digits}g}"
    return str(value)


def _seconds(value: Any) -> str:
    try:
        return f"{max(float(value), 0.0):.3f}"
    except (TypeError, ValueError):
        return "0.000"


def comparison_name(c: dict) -> str:
    """The testcase name of one comparison: '<a> vs <b> [<output>]'."""
    return f"{c.get('a', '?')} vs {c.get('b', '?')} [{c.get('output', '?')}]"


def comparison_summary(c: dict) -> str:
    """One line with the numbers that matter when a comparison drifts."""
    tol = c.get("tolerance_lsb")
    unit = c.get("unit", "LSB")
    tol_text = f"{tol} {unit}" if tol is not None else "none (reported only)"
    rate = c.get("exact_rate")
    rate_text = f"{100.0 * rate:.2f}%" if isinstance(rate, int | float) else "n/a"
    text = (f"max |d| {_num(c.get('max_abs_lsb'))} {unit}, tolerance {tol_text}, "
            f"{_num(c.get('mismatches'))}/{_num(c.get('elements'))} elements differ, "
            f"exact rate {rate_text}")
    fm = c.get("first_mismatch")
    if isinstance(fm, dict):
        text += (f"; first mismatch at vector {fm.get('vector')} index {fm.get('index')}: "
                 f"{fm.get('a')} vs {fm.get('b')}")
    return text


def _metric(c: dict, key: str) -> str:
    if key == "snr_db" and c.get(key) is None:
        return "inf"  # null SNR means the two are identical
    return _num(c.get(key))


def _details(c: dict) -> str:
    keys = ("vectors", "elements", "exact_rate", "max_abs_lsb", "mismatches", "tolerance_lsb",
            "mae", "rmse", "cosine", "snr_db", "top1_agreement")
    lines = [comparison_summary(c)]
    lines += [f"{k} = {_metric(c, k)}" for k in keys if k in c]
    hist = c.get("histogram")
    if isinstance(hist, dict) and hist:
        lines.append("histogram (delta LSB: count) = "
                     + ", ".join(f"{k}: {v}" for k, v in hist.items()))
    return "\n".join(lines)


def _properties(case: ET.Element, c: dict) -> None:
    keys = [k for k in ("max_abs_lsb", "tolerance_lsb", "mismatches", "elements", "exact_rate",
                        "mae", "rmse", "cosine", "snr_db", "top1_agreement") if k in c]
    if keys:
        props = ET.SubElement(case, "properties")
        for key in keys:
            ET.SubElement(props, "property", name=key, value=_clean(_metric(c, key)))


def _testcase(suite: ET.Element, classname: str, name: str, seconds: Any) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=_clean(classname), name=_clean(name),
                         time=_seconds(seconds))


def build_tree(results: dict) -> ET.ElementTree:
    """The JUnit XML tree of one run."""
    model = _d(results.get("model")).get("name") or "model"
    target = _d(results.get("target")).get("name") or "target"
    classname = f"{model}.{target}"
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=_clean(f"harness.{classname}"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    for c in [_d(c) for c in results.get("comparisons") or []]:
        case = _testcase(suite, classname, comparison_name(c), c.get("seconds", 0.0))
        counts["tests"] += 1
        _properties(case, c)
        enforced = c.get("enforced", c.get("tolerance_lsb") is not None)
        passed = c.get("passed", True)
        if enforced and not passed:
            counts["failures"] += 1
            fail = ET.SubElement(case, "failure", message=_clean(comparison_summary(c)),
                                 type="drift")
            fail.text = _clean(_details(c))
        elif not enforced:
            ET.SubElement(case, "system-out").text = _clean(
                "reported only (not enforced): " + _details(c))

    for name, ref in _d(results.get("references")).items():
        ref = _d(ref)
        status = ref.get("status", "unavailable")
        if status == "ok":
            continue
        case = _testcase(suite, classname, f"reference {name}", ref.get("seconds"))
        counts["tests"] += 1
        counts["skipped"] += 1
        reason = ref.get("reason") or f"reference {name} {status}"
        ET.SubElement(case, "skipped", message=_clean(f"{status}: {reason}"), type=_clean(status))

    verdict = _d(results.get("verdict"))
    status = verdict.get("status", "INCOMPLETE")
    if status in RUN_PROBLEMS or status == "UNCHECKED":
        case = _testcase(suite, classname, "run verdict", 0.0)
        counts["tests"] += 1
        reason = verdict.get("reason") or status.lower()
        if status == "UNCHECKED":
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=_clean(f"UNCHECKED: {reason}"),
                          type="UNCHECKED")
        else:
            counts["errors"] += 1
            err = ET.SubElement(case, "error", message=_clean(f"{status}: {reason}"),
                                type=_clean(status))
            err.text = _clean(f"{status}: {reason}\nexit code {verdict.get('exit_code', 'n/a')}")

    total = _d(results.get("timings")).get("total_s", 0.0)
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", _seconds(total))
    if results.get("created"):
        suite.set("timestamp", _clean(results["created"]))
    for key, value in counts.items():
        root.set(key, str(value))
    root.set("time", _seconds(total))
    root.set("name", "harness")
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: dict, path: Path) -> Path:
    """Write junit.xml for `results` (the results.json dict) to `path`; return the path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    build_tree(results).write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(path)
    return path
