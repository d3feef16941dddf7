"""report.html from results.json: one self-contained page for a firmware engineer.

Rendered with jinja2 (templates/report/report.html.j2, autoescaped); plots are matplotlib
PNGs (Agg canvas) inlined as base64 data URIs. A section results.json lacks, or that cannot
be rendered, becomes a short "not available: why" line instead of an error.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE = "report/report.html.j2"
FIGSIZE, DPI = (6.0, 3.0), 80
VERDICT_COLOURS = {"PASS": "#1a7f37", "DRIFT": "#cf222e", "ERROR": "#cf222e",
                   "UNCHECKED": "#9a6700", "INTERRUPTED": "#6e7781", "INCOMPLETE": "#6e7781"}
MAX_OP_LABELS = 30  # more ops than this: numeric x ticks only


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


def _figure(height: float = FIGSIZE[1], width: float = FIGSIZE[0]) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plot(plot_id: str, title: str, alt: Callable[[], str], draw: Callable[[], Figure]) -> dict:
    """Run one plot; a failure becomes a 'not available' entry, never an exception."""
    try:
        return {"id": plot_id, "title": title, "alt": alt(), "src": _data_uri(draw())}
    except Exception as exc:  # noqa: BLE001 - a broken plot must not sink the report
        return {"id": plot_id, "title": title, "alt": title,
                "na": f"could not draw this plot ({type(exc).__name__}: {exc})"}


def histogram_figure(c: dict) -> Figure:
    """Bar chart of the a-b deltas in LSB, tolerance band shaded."""
    hist = sorted((int(k), int(v)) for k, v in c["histogram"].items())
    xs, ys = [d for d, _ in hist], [n for _, n in hist]
    fig, ax = _figure()
    colours = ["#1a7f37" if d == 0 else "#cf222e" for d in xs]
    ax.bar(xs, ys, width=0.8, color=colours)
    tol = c.get("tolerance_lsb")
    if isinstance(tol, int) and tol > 0:
        ax.axvspan(-tol - 0.5, tol + 0.5, color="#1a7f37", alpha=0.12,
                   label=f"±{tol} {c.get('unit', 'LSB')}")
        ax.legend(loc="upper right", fontsize=8)
    lo, hi = min(xs + [0]), max(xs + [0])
    ax.set_xlim(min(lo, -3) - 0.6, max(hi, 3) + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if ys and max(ys) > 50 * max(min(ys), 1):
        ax.set_yscale("log")  # an all-but-exact run: the 0 bar would hide the rest
    ax.set_xlabel(f"Δ = {c.get('a')} − {c.get('b')} ({c.get('unit', 'LSB')})")
    ax.set_ylabel("elements")
    ax.set_title(f"Δ per element, {c.get('a')} − {c.get('b')}", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return fig


def scatter_figure(c: dict) -> Figure:
    """a against b in real units, with the y = x line."""
    xs, ys = list(map(float, c["scatter"]["b"])), list(map(float, c["scatter"]["a"]))
    fig, ax = _figure()
    lo, hi = min(xs + ys), max(xs + ys)
    ax.plot([lo, hi], [lo, hi], color="#6e7781", lw=1, ls="--", label="y = x", zorder=1)
    ax.scatter(xs, ys, s=14, alpha=0.6, color="#0969da", linewidths=0, zorder=2,
               label=f"{len(xs)} elements")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel(f"{c.get('b')} (real)")
    ax.set_ylabel(f"{c.get('a')} (real)")
    ax.set_title(f"{c.get('a')} against {c.get('b')} (real values)", fontsize=9)
    ax.grid(alpha=0.3)
    return fig


def layers_figure(per_layer: dict) -> Figure:
    """Max |Δ| per op, one line per pair (device pairs solid), first divergences marked."""
    names = {int(o["index"]): str(o.get("name", "?")) for o in per_layer.get("ops") or []}
    pairs = per_layer["pairs"]
    height = (3.6 if len(names) <= MAX_OP_LABELS else FIGSIZE[1]) + 0.2 * math.ceil(len(pairs) / 4)
    fig, ax = _figure(height, width=8.0)
    top, divs = 1, {}
    for pair in pairs:
        layers = sorted(pair.get("layers") or [], key=lambda layer: layer["op"])
        xs = [int(layer["op"]) for layer in layers]
        ys = [layer.get("max_abs_lsb") or 0 for layer in layers]
        top = max([top, *ys])
        dev = "device" in (pair.get("a"), pair.get("b"))
        line, = ax.plot(xs, ys, marker="o", ms=4 if dev else 3, lw=1.6 if dev else 1,
                        ls="-" if dev else ":", label=f"{pair.get('a')} vs {pair.get('b')}")
        div = pair.get("first_divergence")
        if isinstance(div, dict) and div.get("op") is not None:
            ax.plot([int(div["op"])], [div.get("max_abs_lsb") or 0], marker="o", ms=10,
                    mfc="none", mec=line.get_color(), mew=1.5)
            divs.setdefault(int(div["op"]), [str(div.get("name", "")), 0])[1] += 1
    right = max([*names, *divs, 1])
    for k, (x, (name, n)) in enumerate(sorted(divs.items())):
        ax.axvline(x, color="#cf222e", ls="--", lw=1, alpha=0.5)
        ax.annotate(f"first divergence: op {x} {name}" + (f" ({n} pairs)" if n > 1 else ""),
                    (x, top * (1.2 - 0.12 * k)), fontsize=8, color="#cf222e",
                    xytext=(-5 if x > right / 2 else 5, 0), textcoords="offset points",
                    ha="right" if x > right / 2 else "left", va="center")
    if names and len(names) <= MAX_OP_LABELS:
        idx = sorted(names)
        ax.set_xticks(idx, [f"{i} {names[i]}" for i in idx], rotation=30, ha="right",
                      rotation_mode="anchor", fontsize=7)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("op index")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(-0.2, top * 1.3 + 0.3)
    ax.set_ylabel("max |Δ| (LSB)")
    fig.legend(loc="outside upper center", ncols=min(4, max(1, len(pairs))), fontsize=7,
               frameon=False)
    ax.grid(alpha=0.3)
    return fig


def attribution_figure(attribution: dict) -> Figure:
    """The attribution parts as horizontal bars of max |Δ| LSB, labelled with the cause."""
    parts = attribution["parts"]
    fig, ax = _figure(max(1.6, 0.55 * len(parts) + 0.9), width=7.0)
    ys = list(range(len(parts)))[::-1]
    vals = [p.get("max_abs_lsb") for p in parts]
    widths = [v if isinstance(v, int | float) else 0 for v in vals]
    colours = ["#afb8c1" if v is None else "#1a7f37" if v == 0 else "#cf222e" for v in vals]
    ax.barh(ys, widths, color=colours, height=0.6)
    top = max(widths + [1])
    for y, p, v, w in zip(ys, parts, vals, widths, strict=True):
        cause = (p.get("cause") or {}).get("id") if isinstance(p.get("cause"), dict) else None
        text = ("n/a" if v is None else f"{v} LSB") + (f" — {cause}" if cause else "")
        ax.text(w + top * 0.02, y, text, va="center", fontsize=8)
    ax.set_yticks(ys, [f"{p.get('part')}\n{p.get('from')} → {p.get('to')}" for p in parts],
                  fontsize=7)
    ax.set_xlim(0, top * 1.9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("max |Δ| (LSB)")
    ax.grid(axis="x", alpha=0.3)
    return fig


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
                               lambda c=c: histogram_figure(c)))
        sc = c.get("scatter")
        if isinstance(sc, dict) and sc.get("a") and sc.get("b"):
            alt = (f"Scatter of {c.get('a')} against {c.get('b')} for {c.get('output')} "
                   f"({len(sc['a'])} points) with the y = x line")
            plots.append(_plot(f"plot-scatter-{n}", "scatter", lambda alt=alt: alt,
                               lambda c=c: scatter_figure(c)))
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
    plot = _plot("plot-layers", "max |Δ| per layer", lambda: alt, lambda: layers_figure(pl))
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
                     lambda: attribution_figure(at))
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
