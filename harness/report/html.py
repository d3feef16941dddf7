"""report.html from results.json: one self-contained page for a firmware engineer.

Rendered with jinja2 (templates/report/report.html.j2, autoescaped); plots are SVG
documents drawn by harness/report/svg.py, inlined as base64 data URIs in <img> tags. A
section results.json lacks, or that cannot be rendered, becomes a short "not available:
why" line instead of an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
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
    """A section that is not available, and why."""
    return {"na": why}


def _header(r: dict) -> dict:
    model, target = r.get("model") or {}, r.get("target") or {}
    cfg, verdict = r.get("config") or {}, r.get("verdict") or {}
    status, host = str(verdict.get("status", "INCOMPLETE")), r.get("host") or {}
    rows = [("model", f"{model.get('name')} ({model.get('path', 'n/a')})"),
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
    return {"model": model.get("name", "?"), "target": target.get("name", "?"),
            "runtime": cfg.get("runtime", "?"), "status": status,
            "colour": VERDICT_COLOURS.get(status, "#6e7781"),
            "reason": verdict.get("reason") or "", "exit_code": verdict.get("exit_code"),
            "rows": rows}


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


def _references(r: dict) -> dict:
    refs = r.get("references")
    if not isinstance(refs, dict) or not refs:
        return na("no reference ran")
    return {"rows": [{"name": n, "status": str((v or {}).get("status", "?")),
                      "reason": (v or {}).get("reason") or "",
                      "seconds": fmt((v or {}).get("seconds"))} for n, v in refs.items()]}


def _comparison_row(n: int, c: dict) -> dict:
    enforced = c.get("enforced", c.get("tolerance_lsb") is not None)
    passed = c.get("passed", True)
    status = ("reported" if not enforced else "pass" if passed else "FAIL")
    fm = c.get("first_mismatch")
    first = (f"vector {fm.get('vector')} index {fm.get('index')}: {fm.get('a')} vs {fm.get('b')}"
             if isinstance(fm, dict) else "none")
    snr = c.get("snr_db")
    return {"n": n, "a": c.get("a"), "b": c.get("b"), "output": c.get("output"),
            "status": status, "max": fmt(c.get("max_abs_lsb")),
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


def _comparisons(r: dict) -> dict:
    comps = r.get("comparisons") or []
    if not comps:
        why = (r.get("verdict") or {}).get("reason") or "no comparison was made"
        return na(f"no comparisons ({why})")
    rows, groups = [], []
    for n, c in enumerate(comps):
        rows.append(_comparison_row(n, c))
        plots = []
        if c.get("a") == "device" and isinstance(c.get("histogram"), dict) and c["histogram"]:
            plots.append(_plot(f"plot-hist-{n}", "Δ histogram", lambda c=c: _hist_alt(c),
                               lambda c=c: histogram_svg(c)))
        sc = c.get("scatter")
        if isinstance(sc, dict) and sc.get("a") and sc.get("b"):
            alt = (f"Scatter of {c.get('a')} against {c.get('b')} for {c.get('output')} "
                   f"({len(sc['a'])} points) with the y = x line")
            plots.append(_plot(f"plot-scatter-{n}", "scatter", lambda alt=alt: alt,
                               lambda c=c: scatter_svg(c)))
        if plots:
            groups.append({"title": f"#{n} {c.get('a')} vs {c.get('b')} [{c.get('output')}]",
                           "plots": plots})
    return {"rows": rows, "groups": groups}


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


def _attribution(r: dict) -> dict:
    at = r.get("attribution")
    if not isinstance(at, dict) or not (at.get("parts") or at.get("chain")):
        return na("attribution was not part of this run")
    parts = []
    for p in at.get("parts") or []:
        cause = p.get("cause") if isinstance(p.get("cause"), dict) else None
        d = p.get("first_divergence")
        parts.append({"part": p.get("part"), "from": p.get("from"), "to": p.get("to"),
                      "max": fmt(p.get("max_abs_lsb")), "rmse": fmt(p.get("rmse")),
                      "first": (f"op {d.get('op')} {d.get('name', '')}"
                                if isinstance(d, dict) else "none"),
                      "cause": cause.get("id") if cause else "none identified",
                      "evidence": cause.get("evidence", "") if cause else ""})
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


def _safe(build: Callable[[dict], dict], results: dict) -> dict:
    try:
        return build(results)
    except Exception as exc:  # noqa: BLE001 - one malformed section must not sink the page
        return na(f"could not render this section ({type(exc).__name__}: {exc})")


def build_context(results: dict) -> dict:
    """Everything the template shows, formatted; sections lacking data carry 'na'."""
    ctx = {name: _safe(fn, results) for name, fn in (
        ("header", _header), ("tensors", _tensors), ("build", _build), ("device", _device),
        ("references", _references), ("comparisons", _comparisons),
        ("per_layer", _per_layer), ("attribution", _attribution))}
    if "na" in ctx["header"]:
        ctx["header"] = {"model": "?", "target": "?", "runtime": "?", "status": "?",
                         "colour": "#6e7781", "reason": ctx["header"]["na"],
                         "exit_code": None, "rows": []}
    return ctx


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
