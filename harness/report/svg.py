"""The report's plots as small hand-written SVG documents (no plotting library).

Each chart function takes a section of results.json and returns an `Svg` whose root
carries explicit width/height, so an <img> of its data URI has a natural size. The look
follows the matplotlib figures these replace: 80 px per inch, DejaVu Sans, framed axes
with outward ticks, light grid, the tab10 colour cycle. Bad data raises (ValueError,
KeyError, ...); html.py turns that into a "not available" line.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from html import escape

PT = 80 / 72  # px per point at 80 dpi
FS_TICK, FS_LABEL, FS_TITLE, FS_LEGEND = 10 * PT, 10 * PT, 9 * PT, 8 * PT
TICK, PAD = 3.5 * PT, 4.0
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
GREEN, RED, GREY, BLUE, LIGHT = "#1a7f37", "#cf222e", "#6e7781", "#0969da", "#afb8c1"
CYCLE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf"]
MAX_OP_LABELS = 30  # more ops than this: numeric x ticks only
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class Svg:
    text: str
    width: int
    height: int

    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.text.encode()).decode()


def text_width(s: str, size: float) -> float:
    """Rough width of one line of `s` at `size` px (no font metrics at hand)."""
    return sum(0.32 if ch in "ijlt.,:;|!'()[] " else 0.62 for ch in s) * size


def nice_ticks(lo: float, hi: float, n: int = 9, integer: bool = False) -> list[float]:
    """Round tick values in [lo, hi], at most about n+1 of them (like MaxNLocator)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(s * mag for s in ((1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10))
                if s * mag >= raw * (1 - 1e-9))
    if integer:
        step = max(1, round(step))
    k, ticks = math.ceil(lo / step - 1e-9), []
    while (v := k * step) <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        k += 1
    return ticks


def tick_label(v: float, step: float) -> str:
    """v with as many decimals as the tick step needs, and a real minus sign."""
    digits = 0
    while digits < 8 and abs(step * 10 ** digits - round(step * 10 ** digits)) > 1e-6:
        digits += 1
    s = f"{v:.{digits}f}" if 1e-3 <= step and abs(v) < 1e6 else f"{v:.4g}"  # else 1e-05
    return s.lstrip("-") if float(s) == 0 else s.replace("-", "−")


def labelled(ticks: list[float]) -> list[tuple[float, str]]:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return [(t, tick_label(t, step)) for t in ticks]


def log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    return [(10.0 ** k, "10" + str(k).translate(SUPERSCRIPT))
            for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            if lo <= 10.0 ** k <= hi]


def _f(v: float) -> str:
    return f"{v:.1f}"


def text(x: float, y: float, s: str, size: float, anchor: str = "middle", colour: str = "",
         rotate: float = 0) -> str:
    """A text element centred vertically on y; '\\n' makes stacked lines."""
    lines, lh = str(s).split("\n"), size * 1.2
    fill = f' fill="{colour}"' if colour else ""
    turn = f' transform="rotate({rotate:g} {_f(x)} {_f(y)})"' if rotate else ""
    spans = "".join(f'<tspan x="{_f(x)}" y="{_f(y + (i - (len(lines) - 1) / 2) * lh)}">'
                    f"{escape(line)}</tspan>" for i, line in enumerate(lines))
    return (f'<text font-size="{size:.1f}" text-anchor="{anchor}" dominant-baseline="central"'
            f"{fill}{turn}>{spans}</text>")


def marker(x: float, y: float, r: float, colour: str, hollow: bool = False,
           opacity: float = 1.0) -> str:
    paint = (f'fill="none" stroke="{colour}" stroke-width="{1.5 * PT:.2f}"' if hollow
             else f'fill="{colour}"' + (f' fill-opacity="{opacity:g}"' if opacity < 1 else ""))
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{r:.2f}" {paint}/>'


def line_attrs(colour: str, width: float, dash: str = "", opacity: float = 1.0) -> str:
    return (f'fill="none" stroke="{colour}" stroke-width="{width:.2f}"'
            + (f' stroke-dasharray="{dash}"' if dash else "")
            + (f' stroke-opacity="{opacity:g}"' if opacity < 1 else ""))


class Axes:
    """One framed plot area in a width x height px figure; margins fit the tick labels."""

    def __init__(self, width: float, height: float, xlim: tuple[float, float],
                 ylim: tuple[float, float], xticks: list[tuple[float, str]],
                 yticks: list[tuple[float, str]], *, ylog: bool = False, title: str = "",
                 xlabel: str = "", ylabel: str = "", grid: str = "xy",
                 xtick_size: float = FS_TICK, ytick_size: float = FS_TICK,
                 xrot: float = 0, top_extra: float = 0) -> None:
        self.w, self.h, self.xlim, self.ylim, self.ylog = width, height, xlim, ylim, ylog
        self.xticks, self.yticks, self.grid = xticks, yticks, grid
        self.title, self.xlabel, self.ylabel = title, xlabel, ylabel
        self.xs, self.ys, self.xrot = xtick_size, ytick_size, xrot
        self.data: list[str] = []  # clipped to the axes
        self.over: list[str] = []  # drawn last, unclipped
        ylab = max((text_width(line, ytick_size) for _, lab in yticks
                    for line in lab.split("\n")), default=0)
        xlab = [text_width(lab, xtick_size) for _, lab in xticks]
        self.l = PAD + (FS_LABEL + 6 if ylabel else 0) + ylab + TICK + 4
        self.r = PAD + max(6.0, xlab[-1] / 2 if xlab and not xrot else 0)
        self.t = PAD + (FS_TITLE + 8 if title else 4) + top_extra
        if xrot:
            rad = math.radians(xrot)
            xext = max(xlab, default=0) * math.sin(rad) + xtick_size * math.cos(rad)
            if xticks:  # the first slanted label must not run off the left edge
                frac = (xticks[0][0] - xlim[0]) / (xlim[1] - xlim[0])
                over = xlab[0] * math.cos(rad) - frac * (width - self.l - self.r)
                self.l = max(self.l, over + PAD)
        else:
            xext = xtick_size
        self.b = PAD + (FS_LABEL + 6 if xlabel else 0) + xext + TICK + 4
        self.pw, self.ph = width - self.l - self.r, height - self.t - self.b

    def px(self, x: float) -> float:
        x0, x1 = self.xlim
        return self.l + (x - x0) / (x1 - x0) * self.pw

    def py(self, y: float) -> float:
        y0, y1 = self.ylim
        if self.ylog:
            y, y0, y1 = (math.log10(max(v, y0 * 1e-3)) for v in (y, y0, y1))
        return self.t + self.ph - (y - y0) / (y1 - y0) * self.ph

    def rect(self, x0: float, x1: float, y0: float, y1: float, colour: str,
             opacity: float = 1.0) -> None:
        """A filled rectangle between data coordinates x0..x1, y0..y1."""
        (a, b), (c, d) = sorted((self.px(x0), self.px(x1))), sorted((self.py(y0), self.py(y1)))
        alpha = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
        self.data.append(f'<rect x="{_f(a)}" y="{_f(c)}" width="{_f(b - a)}" '
                         f'height="{_f(d - c)}" fill="{colour}"{alpha}/>')

    def polyline(self, pts: list[tuple[float, float]], attrs: str) -> None:
        coords = " ".join(f"{_f(self.px(x))},{_f(self.py(y))}" for x, y in pts)
        self.data.append(f'<polyline points="{coords}" {attrs}/>')

    def vline(self, x: float, attrs: str) -> None:
        px = _f(self.px(x))
        self.data.append(f'<line x1="{px}" x2="{px}" y1="{_f(self.t)}" '
                         f'y2="{_f(self.t + self.ph)}" {attrs}/>')

    def legend(self, entries: list[tuple[str, str]], loc: str = "upper right",
               ncols: int = 1, size: float = FS_LEGEND, frame: bool = True) -> None:
        """entries: (handle SVG drawn in a 0..2em x -0.5em..0.5em box, label).
        loc: upper right/left inside the axes, or outside (centred above them)."""
        rows, hw, lh = math.ceil(len(entries) / ncols), 2 * size, size * 1.55
        colw = hw + size * 0.8 + max(text_width(lab, size) for _, lab in entries) + size
        bw, bh = colw * ncols + size * 0.4 - size, rows * lh + size * 0.5
        if loc == "outside":
            x0, y0 = self.l + (self.pw - bw) / 2, PAD
        else:
            x0 = self.l + 5 if loc == "upper left" else self.l + self.pw - bw - 5
            y0 = self.t + 5
        out = [f'<rect x="{_f(x0)}" y="{_f(y0)}" width="{_f(bw)}" height="{_f(bh)}" rx="3" '
               f'fill="white" fill-opacity="0.8" stroke="#cccccc"/>'] if frame else []
        for i, (handle, lab) in enumerate(entries):
            x = x0 + size * 0.4 + (i % ncols) * colw
            y = y0 + size * 0.25 + (i // ncols + 0.5) * lh
            out.append(f'<g transform="translate({_f(x)} {_f(y)})">{handle}</g>')
            out.append(text(x + hw + size * 0.8, y, lab, size, anchor="start"))
        self.over.extend(out)

    def svg(self) -> Svg:
        """The finished document: grid, data, frame, ticks, labels, then the extras."""
        left, top, right, bottom = self.l, self.t, self.l + self.pw, self.t + self.ph
        grid = line_attrs("#b0b0b0", 0.8 * PT, opacity=0.3)
        axis = line_attrs("black", 0.8 * PT)
        out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w:.0f}" '
               f'height="{self.h:.0f}" viewBox="0 0 {self.w:.0f} {self.h:.0f}" '
               f'font-family="{FONT}" fill="#1f2328">',
               '<rect width="100%" height="100%" fill="white"/>',
               f'<clipPath id="axes"><rect x="{_f(left)}" y="{_f(top)}" width="{_f(self.pw)}" '
               f'height="{_f(self.ph)}"/></clipPath>']
        ticks = []
        for v, lab in self.xticks:
            x = _f(self.px(v))
            if "x" in self.grid:
                out.append(f'<line x1="{x}" x2="{x}" y1="{_f(top)}" y2="{_f(bottom)}" {grid}/>')
            ticks.append(f"M{x} {_f(bottom)}v{TICK:.1f}")
            y = bottom + TICK + 3
            if self.xrot:
                ticks.append(text(float(x), y, lab, self.xs, anchor="end", rotate=-self.xrot))
            else:
                ticks.append(text(float(x), y + self.xs / 2, lab, self.xs))
        for v, lab in self.yticks:
            y = _f(self.py(v))
            if "y" in self.grid:
                out.append(f'<line x1="{_f(left)}" x2="{_f(right)}" y1="{y}" y2="{y}" {grid}/>')
            ticks.append(f"M{_f(left)} {y}h{-TICK:.1f}")
            ticks.append(text(left - TICK - 3, float(y), lab, self.ys, anchor="end"))
        out.append('<g clip-path="url(#axes)">' + "".join(self.data) + "</g>")
        out.append(f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(self.pw)}" '
                   f'height="{_f(self.ph)}" {axis}/>')
        out.append(f'<path d="{"".join(t for t in ticks if t.startswith("M"))}" {axis}/>')
        out.extend(t for t in ticks if not t.startswith("M"))
        if self.xlabel:
            out.append(text(left + self.pw / 2, self.h - PAD - FS_LABEL / 2, self.xlabel,
                            FS_LABEL))
        if self.ylabel:
            out.append(text(PAD + FS_LABEL / 2, top + self.ph / 2, self.ylabel, FS_LABEL,
                            rotate=-90))
        if self.title:
            out.append(text(left + self.pw / 2, PAD + FS_TITLE / 2 + 2, self.title, FS_TITLE))
        out.extend(self.over)
        out.append("</svg>")
        return Svg("\n".join(out), round(self.w), round(self.h))


def patch_handle(colour: str, size: float = FS_LEGEND, opacity: float = 1.0) -> str:
    alpha = f' fill-opacity="{opacity:g}"' if opacity < 1 else ""
    return (f'<rect x="0" y="{_f(-size * 0.35)}" width="{_f(2 * size)}" height="{_f(size * 0.7)}"'
            f' fill="{colour}"{alpha}/>')


def line_handle(attrs: str, size: float = FS_LEGEND, dot: str = "") -> str:
    return f'<line x1="0" x2="{_f(2 * size)}" y1="0" y2="0" {attrs}/>' + dot


def _padded(lo: float, hi: float, margin: float = 0.05) -> tuple[float, float]:
    span = hi - lo or abs(hi) or 1.0
    return lo - margin * span, hi + margin * span


def histogram_svg(c: dict) -> Svg:
    """Bar chart of the a-b deltas in LSB, tolerance band shaded; log y when one bar dwarfs."""
    hist = sorted((int(k), int(v)) for k, v in c["histogram"].items())
    xs, ys = [d for d, _ in hist], [n for _, n in hist]
    unit, tol = c.get("unit", "LSB"), c.get("tolerance_lsb")
    lo, hi = min(xs + [0]), max(xs + [0])
    xlim = (min(lo, -3) - 0.6, max(hi, 3) + 0.6)
    log = bool(ys) and max(ys) > 50 * max(min(ys), 1)
    if log:  # an all-but-exact run: the 0 bar would hide the rest
        ylim = (10.0 ** math.floor(math.log10(max(min(ys), 1))) * 0.5, max(ys) * 2.0)
        yticks = log_ticks(*ylim)
    else:
        ylim = (0.0, max(ys + [1]) * 1.05)
        yticks = labelled(nice_ticks(*ylim, integer=True))
    ax = Axes(480, 240, xlim, ylim, labelled(nice_ticks(*xlim, integer=True)), yticks,
              ylog=log, grid="y", title=f"Δ per element, {c.get('a')} − {c.get('b')}",
              xlabel=f"Δ = {c.get('a')} − {c.get('b')} ({unit})", ylabel="elements")
    if isinstance(tol, int) and tol > 0:
        ax.rect(-tol - 0.5, tol + 0.5, *ylim, GREEN, opacity=0.12)
        ax.legend([(patch_handle(GREEN, opacity=0.12), f"±{tol} {unit}")])
    for d, n in hist:
        ax.rect(d - 0.4, d + 0.4, ylim[0] if log else 0, n, GREEN if d == 0 else RED)
    return ax.svg()


def scatter_svg(c: dict) -> Svg:
    """a against b in real units, with the y = x line."""
    pts = [(float(b), float(a)) for b, a in zip(c["scatter"]["b"], c["scatter"]["a"],
                                                strict=True)]
    pts = [p for p in pts if math.isfinite(p[0]) and math.isfinite(p[1])]
    if not pts:
        raise ValueError("no finite scatter points")
    lo, hi = min(min(p) for p in pts), max(max(p) for p in pts)
    lim = _padded(lo, hi)
    ticks = labelled(nice_ticks(*lim))
    ax = Axes(480, 240, lim, lim, ticks, ticks, title=f"{c.get('a')} against {c.get('b')} "
              "(real values)", xlabel=f"{c.get('b')} (real)", ylabel=f"{c.get('a')} (real)")
    diag = line_attrs(GREY, PT, dash=f"{3.7 * PT:.1f},{1.6 * PT:.1f}")
    ax.polyline([(lo, lo), (hi, hi)], diag)
    r = math.sqrt(14) / 2 * PT
    ax.data.extend(marker(ax.px(x), ax.py(y), r, BLUE, opacity=0.6) for x, y in pts)
    ax.legend([(line_handle(diag), "y = x"),
               (marker(FS_LEGEND, 0, r, BLUE, opacity=0.6), f"{len(pts)} elements")],
              loc="upper left")
    return ax.svg()


def layers_svg(per_layer: dict) -> Svg:
    """Max |Δ| per op, one line per pair (device pairs solid), first divergences marked."""
    names = {int(o["index"]): str(o.get("name", "?")) for o in per_layer.get("ops") or []}
    pairs = per_layer["pairs"]
    series, top, divs = [], 1, {}
    for k, pair in enumerate(pairs):
        layers = sorted(pair.get("layers") or [], key=lambda layer: layer["op"])
        pts = [(int(layer["op"]), layer.get("max_abs_lsb") or 0) for layer in layers]
        top = max([top, *(y for _, y in pts)])
        d, div = pair.get("first_divergence"), None
        if isinstance(d, dict) and d.get("op") is not None:
            div = (int(d["op"]), d.get("max_abs_lsb") or 0)
            divs.setdefault(div[0], [str(d.get("name", "")), 0])[1] += 1
        series.append((pts, "device" in (pair.get("a"), pair.get("b")), CYCLE[k % len(CYCLE)],
                       f"{pair.get('a')} vs {pair.get('b')}", div))
    allx = [*names, *divs, *(x for pts, *_ in series for x, _ in pts)] or [0]
    xlim, ylim = _padded(min(allx), max(allx)), (-0.2, top * 1.3 + 0.3)
    ncols = min(4, max(1, len(pairs)))
    legend_h = math.ceil(len(pairs) / ncols) * 7 * PT * 1.55 + 8
    height = 80 * (3.6 if len(names) <= MAX_OP_LABELS else 3.0) + 16 * math.ceil(len(pairs) / 4)
    if names and len(names) <= MAX_OP_LABELS:
        xticks, xlabel, rot = [(i, f"{i} {names[i]}") for i in sorted(names)], "", 30
    else:
        xticks, xlabel, rot = labelled(nice_ticks(*xlim, integer=True)), "op index", 0
    ax = Axes(640, height, xlim, ylim, xticks, labelled(nice_ticks(*ylim, integer=True)),
              xlabel=xlabel, ylabel="max |Δ| (LSB)", xtick_size=7 * PT if rot else FS_TICK,
              xrot=rot, top_extra=legend_h)
    right = max([*names, *divs, 1])
    for k, (x, (name, n)) in enumerate(sorted(divs.items())):
        ax.vline(x, line_attrs(RED, PT, dash=f"{3.7 * PT:.1f},{1.6 * PT:.1f}", opacity=0.5))
        flip = x > right / 2
        ax.over.append(text(ax.px(x) + (-5 if flip else 5), ax.py(top * (1.2 - 0.12 * k)),
                            f"first divergence: op {x} {name}"
                            + (f" ({n} pairs)" if n > 1 else ""),
                            FS_LEGEND, anchor="end" if flip else "start", colour=RED))
    handles = []
    for pts, dev, colour, label, div in series:
        lw, r = (1.6 * PT, 2 * PT) if dev else (PT, 1.5 * PT)
        attrs = line_attrs(colour, lw, dash="" if dev else f"{lw:.1f},{1.65 * lw:.1f}")
        ax.polyline(pts, attrs)
        ax.data.extend(marker(ax.px(x), ax.py(y), r, colour) for x, y in pts)
        if div is not None:
            ax.data.append(marker(ax.px(div[0]), ax.py(div[1]), 5 * PT, colour, hollow=True))
        handles.append((line_handle(attrs, 7 * PT, marker(7 * PT, 0, r, colour)), label))
    ax.legend(handles, loc="outside", ncols=ncols, size=7 * PT, frame=False)
    return ax.svg()


def attribution_svg(attribution: dict) -> Svg:
    """The attribution parts as horizontal bars of max |Δ| LSB, labelled with the cause."""
    parts = attribution["parts"]
    ys = list(range(len(parts)))[::-1]
    vals = [p.get("max_abs_lsb") for p in parts]
    widths = [v if isinstance(v, int | float) else 0 for v in vals]
    top = max(widths + [1])
    xlim, ylim = (0.0, top * 1.9), _padded(-0.3, len(parts) - 0.7)
    yticks = [(y, f"{p.get('part')}\n{p.get('from')} → {p.get('to')}")
              for y, p in zip(ys, parts, strict=True)]
    ax = Axes(560, 80 * max(1.6, 0.55 * len(parts) + 0.9), xlim, ylim,
              labelled(nice_ticks(*xlim, integer=True)), yticks, grid="x",
              xlabel="max |Δ| (LSB)", ytick_size=7 * PT)
    for y, p, v, w in zip(ys, parts, vals, widths, strict=True):
        ax.rect(0, w, y - 0.3, y + 0.3, LIGHT if v is None else GREEN if v == 0 else RED)
        cause = (p.get("cause") or {}).get("id") if isinstance(p.get("cause"), dict) else None
        label = ("n/a" if v is None else f"{v} LSB") + (f" — {cause}" if cause else "")
        ax.over.append(text(ax.px(w + top * 0.02), ax.py(y), label, FS_LEGEND, anchor="start"))
    return ax.svg()


QUANT_WIDTH = 600  # two side by side fit the report's 1320 px
QUANT_SERIES = (("total", "total (int8 vs float model)", CYCLE[3]),
                ("activations", "activations (int8 vs numpy-float)", CYCLE[0]),
                ("weights", "weights (numpy-float vs float model)", CYCLE[1]),
                ("layerwise", "layerwise (what the op adds itself)", CYCLE[2]))


def _op_axis(names: dict[int, str], margin: float = 0.0
             ) -> tuple[tuple[float, float], list, str, float]:
    """x limits (`margin` more on each side), ticks, label and tick rotation for a per-op
    chart (as layers_svg)."""
    lo, hi = _padded(min(names, default=0), max(names, default=0))
    xlim = (lo - margin, hi + margin)
    if names and len(names) <= MAX_OP_LABELS:
        return xlim, [(i, f"{i} {names[i]}") for i in sorted(names)], "", 30
    return xlim, labelled(nice_ticks(*xlim, integer=True)), "op index", 0


def _mark_op(ax: Axes, op: int, label: str, right: float, y: float) -> None:
    ax.vline(op, line_attrs(RED, PT, dash=f"{3.7 * PT:.1f},{1.6 * PT:.1f}", opacity=0.5))
    flip = op > right / 2
    ax.over.append(text(ax.px(op) + (-5 if flip else 5), ax.py(y), label, FS_LEGEND,
                        anchor="end" if flip else "start", colour=RED))


def quantization_svg(q: dict) -> Svg:
    """SNR (dB) per op of each quantization comparison; the op where the error jumps marked."""
    rows = q["layers"]
    names = {int(r["op"]): str(r["name"]) for r in rows}
    series = [(label, colour, [(int(r["op"]), float(r[key]["snr_db"])) for r in rows
                               if isinstance(r.get(key), dict)
                               and r[key].get("snr_db") is not None])
              for key, label, colour in QUANT_SERIES]
    series = [s for s in series if s[2]]
    ys = [y for *_, pts in series for _, y in pts] or [0.0]
    ylim = (min(0.0, min(ys)) - 2, max(ys) * 1.25 + 5)
    xlim, xticks, xlabel, rot = _op_axis(names)
    legend_h = math.ceil(len(series) / 2) * 7 * PT * 1.55 + 8
    ax = Axes(QUANT_WIDTH, 80 * (3.6 if rot else 3.0), xlim, ylim, xticks,
              labelled(nice_ticks(*ylim)), xlabel=xlabel, ylabel="SNR (dB)",
              xtick_size=7 * PT if rot else FS_TICK, xrot=rot, top_extra=legend_h)
    handles = []
    for label, colour, pts in series:
        attrs = line_attrs(colour, 1.6 * PT)
        ax.polyline(pts, attrs)
        ax.data.extend(marker(ax.px(x), ax.py(y), 2 * PT, colour) for x, y in pts)
        handles.append((line_handle(attrs, 7 * PT, marker(7 * PT, 0, 2 * PT, colour)), label))
    v = q.get("verdict")
    if isinstance(v, dict) and v.get("op") is not None:
        _mark_op(ax, int(v["op"]), f"error jumps: op {v['op']}, {v.get('cause')}",
                 max(names, default=1), ylim[1] - (ylim[1] - ylim[0]) * 0.08)
    ax.legend(handles, loc="outside", ncols=2, size=7 * PT, frame=False)
    return ax.svg()


def clipping_svg(q: dict) -> Svg:
    """Per op, the share of float values clipped at the int8 rails and of the range used."""
    rows = [r for r in q["layers"] if r.get("clipped") is not None]
    if not rows:
        raise ValueError("no float values to place in the int8 range")
    names = {int(r["op"]): str(r["name"]) for r in rows}
    xlim, xticks, xlabel, rot = _op_axis(names, margin=0.45)
    ylim = (0.0, 115.0)
    ax = Axes(QUANT_WIDTH, 80 * (3.6 if rot else 3.0), xlim, ylim, xticks,
              labelled([0, 25, 50, 75, 100]), xlabel=xlabel, ylabel="% of values / range",
              grid="y", xtick_size=7 * PT if rot else FS_TICK, xrot=rot,
              top_extra=7 * PT * 1.55 + 8)
    for r in rows:
        x = int(r["op"])
        ax.rect(x - 0.38, x, 0, 100 * float(r["range_used"]), BLUE, opacity=0.45)
        ax.rect(x, x + 0.38, 0, 100 * float(r["clipped"]), RED)
    limits = q.get("thresholds") or {}
    for name, colour in (("warn_range_used", BLUE), ("warn_clipped", RED)):
        value = limits.get(name)
        if isinstance(value, int | float):
            ax.polyline([(xlim[0], 100 * value), (xlim[1], 100 * value)],
                        line_attrs(colour, PT, dash=f"{3.7 * PT:.1f},{1.6 * PT:.1f}", opacity=0.7))
    ax.legend([(patch_handle(BLUE, 7 * PT, 0.45), "int8 range used by the float values"),
               (patch_handle(RED, 7 * PT), "float values clipped at the rails"),
               (line_handle(line_attrs(GREY, PT, dash="3,2"), 7 * PT), "warning thresholds")],
              loc="outside", ncols=3, size=7 * PT, frame=False)
    return ax.svg()
