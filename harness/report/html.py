"""report.html from results.json: one self-contained page for a firmware engineer.

The page leads with the answer: the verdict and its reason, then where the drift starts
and why, then the evidence (the enforced comparison with its plots, per layer, the other
pairs), then the facts, and the device diagnostics collapsed at the end. SECTIONS is
that order; each section is one builder here (results dict -> what it shows) and one
template, templates/report/sections/<id>.html.j2. A new section is one entry and one file.

Rendered with jinja2 (autoescaped); plots are SVG documents drawn by harness/report/svg.py,
inlined as base64 data URIs in <img> tags. A section results.json lacks, or that cannot be
rendered, becomes a short "not available: why" line instead of an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from harness.report.svg import Svg, attribution_svg, histogram_svg, layers_svg, scatter_svg
from harness.resources import TEMPLATES_DIR

TEMPLATE = "report/report.html.j2"
VERDICT_COLOURS = {"PASS": "#1a7f37", "DRIFT": "#cf222e", "ERROR": "#cf222e",
                   "UNCHECKED": "#9a6700", "INTERRUPTED": "#6e7781", "INCOMPLETE": "#6e7781"}


def fmt(value: Any, digits: int = 4) -> str:
    """A number (or anything) as short text; None is 'n/a'."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "nan" if math.isnan(value) else "∞" if value > 0 else "-∞"
        return f"{value:.{digits}g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fmt(v, digits) for v in value) + "]"
    return str(value)


def pct(value: Any) -> str:
    return f"{100.0 * value:.2f} %" if isinstance(value, int | float) else "n/a"


def size(value: Any) -> str:
    ok = isinstance(value, int | float)
    return f"{int(value):,} B ({value / 1024:.1f} KiB)" if ok else "n/a"


def _pairs(d: Any) -> list[tuple[str, str]]:
    return [(str(k), fmt(v)) for k, v in d.items()] if isinstance(d, dict) else []


def _plot(plot_id: str, title: str, alt: Callable[[], str], draw: Callable[[], Svg]) -> dict:
    """Run one plot; a failure becomes a 'not available' entry, never an exception."""
    try:
        fig = draw()
        return {"id": plot_id, "title": title, "alt": alt(), "src": fig.data_uri(),
                "width": fig.width, "height": fig.height}
    except Exception as exc:  # noqa: BLE001 - a broken plot must not sink the report
        return {"id": plot_id, "title": title, "alt": title,
                "na": f"could not draw this plot ({type(exc).__name__}: {exc})"}


def na(why: str) -> dict:
    """A section (or part of one) that is not available, and why."""
    return {"na": why}


def _safe(build: Callable[[dict], dict], results: dict) -> dict:
    try:
        return build(results)
    except Exception as exc:  # noqa: BLE001 - one malformed section must not sink the page
        return na(f"could not render this section ({type(exc).__name__}: {exc})")


# ---- the top: verdict and reason -------------------------------------------------------


def _header(r: dict) -> dict:
    model, target = r.get("model") or {}, r.get("target") or {}
    cfg, verdict = r.get("config") or {}, r.get("verdict") or {}
    status = str(verdict.get("status", "INCOMPLETE"))
    return {"model": model.get("name", "?"), "target": target.get("name", "?"),
            "runtime": cfg.get("runtime", "?"), "status": status,
            "colour": VERDICT_COLOURS.get(status, "#6e7781"),
            "reason": verdict.get("reason") or "", "exit_code": verdict.get("exit_code")}


# ---- where the drift starts, and why ---------------------------------------------------


def _drift_part(p: dict) -> dict:
    cause = p.get("cause") if isinstance(p.get("cause"), dict) else None
    d, lsb = p.get("first_divergence"), p.get("max_abs_lsb")
    state = "n/a" if lsb is None else "drift" if lsb or d else "none"
    return {"part": p.get("part"), "from": p.get("from"), "to": p.get("to"), "state": state,
            "max": fmt(lsb), "rmse": fmt(p.get("rmse")),
            "first": (f"op {d.get('op')} {d.get('name', '')}" if isinstance(d, dict)
                      else "not localised (needs --per-layer)" if state == "drift" else "none"),
            "cause": cause.get("id") if cause else "none identified" if state == "drift"
            else "-", "evidence": cause.get("evidence", "") if cause else ""}


def _drift(r: dict) -> dict:
    at = r.get("attribution")
    if not isinstance(at, dict) or not (at.get("parts") or at.get("chain")):
        return na("attribution was not part of this run")
    parts = [_drift_part(p) for p in at.get("parts") or []]
    plot = None
    if parts:
        alt = "; ".join(f"{p['part']} ({p['from']} → {p['to']}): {p['max']} LSB, cause "
                        f"{p['cause']}" for p in parts)
        plot = _plot("plot-attribution", "attribution",
                     lambda: "Drift attribution, max |Δ| per part: " + alt,
                     lambda: attribution_svg(at))
    chain = [{"stage": s.get("stage"), "status": str(s.get("status", "?"))}
             for s in at.get("chain") or []]
    return {"chain": chain, "parts": parts, "plot": plot, "summary": at.get("summary") or ""}


# ---- comparisons: the enforced one, then the others ------------------------------------


def _comparison_row(n: int, c: dict) -> dict:
    enforced = c.get("enforced", c.get("tolerance_lsb") is not None)
    passed = c.get("passed", True)
    status = ("reported" if not enforced else "pass" if passed else "FAIL")
    fm = c.get("first_mismatch")
    first = (f"vector {fm.get('vector')} index {fm.get('index')}: {fm.get('a')} vs {fm.get('b')}"
             if isinstance(fm, dict) else "none")
    snr = c.get("snr_db")
    return {"n": n, "a": c.get("a"), "b": c.get("b"), "output": c.get("output"),
            "enforced": bool(enforced), "status": status, "max": fmt(c.get("max_abs_lsb")),
            "unit": c.get("unit", "LSB"),
            "tol": fmt(c.get("tolerance_lsb")) if enforced else "none",
            "mismatches": f"{fmt(c.get('mismatches'))}/{fmt(c.get('elements'))}",
            "vectors": fmt(c.get("vectors")), "exact": pct(c.get("exact_rate")), "first": first,
            "mae": fmt(c.get("mae")), "rmse": fmt(c.get("rmse")), "cosine": fmt(c.get("cosine"), 6),
            "snr": "∞" if snr is None and "snr_db" in c else fmt(snr),
            "top1": pct(c.get("top1_agreement")) if c.get("top1_agreement") is not None else "n/a"}


def _hist_alt(c: dict) -> str:
    hist = sorted((int(k), v) for k, v in c["histogram"].items())
    counts = ", ".join(f"{v} at {k:+d}" for k, v in hist[:8]) + (", ..." if len(hist) > 8 else "")
    return (f"Histogram of Δ ({c.get('a')} − {c.get('b')}) in {c.get('unit', 'LSB')} "
            f"for {c.get('output')}: {counts}")


def _comparison_plots(n: int, c: dict) -> dict | None:
    """The Δ histogram and the scatter of one comparison (device pairs carry them)."""
    plots = []
    if c.get("a") == "device" and isinstance(c.get("histogram"), dict) and c["histogram"]:
        plots.append(_plot(f"plot-hist-{n}", "Δ histogram", lambda: _hist_alt(c),
                           lambda: histogram_svg(c)))
    sc = c.get("scatter")
    if isinstance(sc, dict) and sc.get("a") and sc.get("b"):
        alt = (f"Scatter of {c.get('a')} against {c.get('b')} for {c.get('output')} "
               f"({len(sc['a'])} points) with the y = x line")
        plots.append(_plot(f"plot-scatter-{n}", "scatter", lambda: alt,
                           lambda: scatter_svg(c)))
    if not plots:
        return None
    return {"title": f"#{n} {c.get('a')} vs {c.get('b')} [{c.get('output')}]", "plots": plots}


def _compared(r: dict, enforced: bool) -> tuple[list[dict], list[dict]]:
    """(rows, plot groups) of the comparisons that are (not) enforced, numbered as in
    results.json."""
    rows, groups = [], []
    for n, c in enumerate(r.get("comparisons") or []):
        row = _comparison_row(n, c)
        if row["enforced"] is enforced:
            rows.append(row)
            if (group := _comparison_plots(n, c)) is not None:
                groups.append(group)
    return rows, groups


def _no_comparisons(r: dict) -> dict:
    why = (r.get("verdict") or {}).get("reason") or "no comparison was made"
    return na(f"no comparisons ({why})")


def _enforced(r: dict) -> dict:
    if not r.get("comparisons"):
        return _no_comparisons(r)
    rows, groups = _compared(r, enforced=True)
    if not rows:
        why = (r.get("verdict") or {}).get("reason") or "no reference was enforced"
        return na(f"no comparison is enforced ({why})")
    return {"reference": r.get("enforced_reference") or rows[0]["b"], "rows": rows,
            "groups": groups}


def _references(r: dict) -> dict:
    refs = r.get("references")
    if not isinstance(refs, dict) or not refs:
        return na("no reference ran")
    return {"rows": [{"name": n, "status": str((v or {}).get("status", "?")),
                      "reason": (v or {}).get("reason") or "",
                      "seconds": fmt((v or {}).get("seconds"))} for n, v in refs.items()]}


def _other_pairs(r: dict) -> dict:
    refs = _safe(_references, r)
    if not r.get("comparisons"):
        return {"references": refs, "pairs": _no_comparisons(r)}
    rows, groups = _compared(r, enforced=False)
    pairs = {"rows": rows, "groups": groups} if rows else na("every comparison is enforced")
    return {"references": refs, "pairs": pairs}


# ---- per layer -------------------------------------------------------------------------


def _per_layer(r: dict) -> dict:
    pl = r.get("per_layer")
    if not isinstance(pl, dict) or not pl.get("pairs"):
        return na("per-layer capture was not part of this run")
    ops = pl.get("ops") or []
    pairs = pl["pairs"]
    header = [f"{p.get('a')} vs {p.get('b')}" for p in pairs]
    by_pair = [{int(layer["op"]): layer for layer in p.get("layers") or []} for p in pairs]
    first = {int(d["op"]) for p in pairs if isinstance(d := p.get("first_divergence"), dict)
             and d.get("op") is not None}
    rows = []
    for o in ops:
        i = int(o["index"])
        cells = [(f"{fmt(lay.get('max_abs_lsb'))} LSB, {pct(lay.get('exact_rate'))}"
                  if (lay := m.get(i)) else "n/a") for m in by_pair]
        rows.append({"index": i, "name": o.get("name"), "tensor": o.get("tensor_name") or
                     fmt(o.get("tensor")), "cells": cells, "first": i in first})
    divs = [f"{p.get('a')} vs {p.get('b')}: " + (
        f"first diverges at op {d.get('op')} {d.get('name', '')} "
        f"(max |Δ| {fmt(d.get('max_abs_lsb'))} LSB)" if isinstance(d, dict) else "no divergence")
        for p in pairs for d in [p.get("first_divergence")]]
    alt = "Per-layer max |Δ| in LSB, one line per pair; " + "; ".join(divs)
    plot = _plot("plot-layers", "max |Δ| per layer", lambda: alt, lambda: layers_svg(pl))
    return {"header": header, "rows": rows, "divergences": divs, "plot": plot}


# ---- facts: run, model, build ----------------------------------------------------------


def _run_rows(r: dict) -> list[tuple[str, str]]:
    model, target = r.get("model") or {}, r.get("target") or {}
    cfg, host = r.get("config") or {}, r.get("host") or {}
    return [("model", f"{model.get('name')} ({model.get('path', 'n/a')})"),
            ("sha256", fmt(model.get("sha256"))),
            ("target", f"{target.get('name')} ({target.get('cpu', '?')}, QEMU machine "
                       f"{target.get('qemu_machine', '?')})"),
            ("runtime", f"{fmt(cfg.get('runtime'))}, {fmt(cfg.get('rounding'))} rounding"),
            ("vectors", "from " + str(cfg["inputs"]) if cfg.get("inputs")
             else f"{fmt(cfg.get('vectors'))} random (seed {fmt(cfg.get('seed'))})"),
            ("references", ", ".join(cfg.get("references") or []) or "n/a"),
            ("tolerances", ", ".join(f"{k}: {v} LSB" for k, v in
                                     (cfg.get("tolerances") or {}).items()) or "defaults"),
            ("created", f"{fmt(r.get('created'))} by harness {fmt(r.get('harness_version'))}"),
            ("host", f"{host.get('machine', '?')}, Python {host.get('python', '?')}, "
                     f"{host.get('cpus', '?')} CPUs" if host else "n/a"),
            ("run folder", fmt(r.get("run_dir"))),
            ("timings", ", ".join(f"{k.removesuffix('_s')} {fmt(v)} s"
                                  for k, v in (r.get("timings") or {}).items()) or "n/a")]


def _tensors(r: dict) -> dict:
    model = r.get("model") or {}
    rows = [[role, fmt(t.get("index")), fmt(t.get("name")), fmt(t.get("shape")),
             fmt(t.get("dtype")), fmt(t.get("scale"), 6), fmt(t.get("zero_point"))]
            for role in ("input", "output") for t in model.get(role + "s") or []]
    if not rows:
        return na("the model's tensors are not in results.json")
    return {"rows": rows, "ops": ", ".join(model.get("ops") or []) or "n/a"}


def _build(r: dict) -> dict:
    b = r.get("build")
    if not isinstance(b, dict) or not b:
        return na("no build section (the run ended before the firmware was built)")
    return {"rows": [("flash", size(b.get("flash_bytes"))), ("RAM", size(b.get("ram_bytes"))),
                     ("tensor arena", size(b.get("arena_bytes"))),
                     ("build id", fmt(b.get("build_id"))),
                     ("cached", fmt(b.get("cached"))), ("build time", f"{fmt(b.get('seconds'))} s"),
                     ("ELF", fmt(b.get("elf")))]}


def _facts(r: dict) -> dict:
    return {"run": _safe(lambda r: {"rows": _run_rows(r)}, r), "tensors": _safe(_tensors, r),
            "build": _safe(_build, r)}


# ---- device diagnostics ----------------------------------------------------------------


def _device(r: dict) -> dict:
    d = r.get("device")
    if not isinstance(d, dict) or not d:
        return na("no device section (the device stage did not run)")
    counts = [c for c in d.get("counts") or [] if isinstance(c, int | float)]
    info = d.get("info") or {}
    if any(counts):
        s = sorted(counts)
        measured = (f"min {fmt(s[0])}, median {fmt(s[len(s) // 2])}, max {fmt(s[-1])} "
                    f"({info.get('counter', 'counter')})")
    else:
        measured = f"not measured (counter: {info.get('counter', 'none')})"
    return {"summary": [("vectors done", fmt(d.get("vectors_done"))),
                        ("device time", f"{fmt(d.get('seconds'))} s"), ("invoke count", measured)],
            "backend": _pairs(d.get("backend")), "info": _pairs(info),
            "link": _pairs(d.get("link")),
            "info_na": "" if info else "the device sent no handshake (it did not boot?)"}


# ---- the page --------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One section of the page: its anchor (also its template's name), heading and nav
    label, and the builder that turns the results dict into what the template shows."""

    id: str
    title: str
    nav: str
    build: Callable[[dict], dict]

    @property
    def template(self) -> str:
        return f"report/sections/{self.id}.html.j2"


SECTIONS: tuple[Section, ...] = (
    Section("drift", "Where the drift starts, and why", "drift", _drift),
    Section("enforced", "Enforced comparison", "enforced", _enforced),
    Section("per-layer", "Per layer", "per layer", _per_layer),
    Section("pairs", "Other pairs", "other pairs", _other_pairs),
    Section("facts", "Run, model and build", "run", _facts),
    Section("device", "Device diagnostics", "device", _device),
)


def build_context(results: dict) -> dict:
    """Everything the template shows, formatted; sections lacking data carry 'na'."""
    header = _safe(_header, results)
    if "na" in header:
        header = {"model": "?", "target": "?", "runtime": "?", "status": "?",
                  "colour": "#6e7781", "reason": header["na"], "exit_code": None}
    sections = [{"id": s.id, "title": s.title, "nav": s.nav, "template": s.template,
                 "data": _safe(s.build, results)} for s in SECTIONS]
    return {"header": header, "sections": sections}


def render_html(results: dict) -> str:
    """The report page for `results` (the results.json dict) as a string."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    return env.get_template(TEMPLATE).render(**build_context(results))


def write_html(results: dict, folder: Path) -> Path:
    """Write folder/report.html for `results`; return its path."""
    path = Path(folder) / "report.html"
    (tmp := path.with_name("report.html.tmp")).write_text(render_html(results), encoding="utf-8")
    tmp.replace(path)
    return path
