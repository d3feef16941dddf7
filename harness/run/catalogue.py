"""The drift catalogue: every model on every Cortex-M target with every runtime and
kernel set, what the device computes differently from its runtime's reference, where
that starts and why; written as docs/drift-catalogue.md by `invoke drift-catalogue`.

Each cell is one ordinary run (harness.run.pipeline.run). A run that drifts is run
again with --per-layer, which names the first diverging op and its attributed cause;
the figures (instructions, arena, flash) come from the first run, whose firmware is
the one a product would ship (a --per-layer tflm build keeps every tensor).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from harness.config import RunConfig
from harness.errors import HarnessError
from harness.run.pipeline import run

TARGETS = ("cortex-m4", "cortex-m7", "cortex-m55", "cortex-m3", "cortex-m0")
# (label, runtime, kernels, the references a run needs: its own and its stand-ins)
RUNTIMES = (("builtin", "builtin", "reference", ["litert-ref", "numpy-int8"]),
            ("tflm", "tflm", "reference", ["tflm-host"]),
            ("tflm+cmsis-nn", "tflm", "cmsis-nn", ["tflm-host"]))
HEADER = ("| target | runtime | result | max \\|Δ\\| | first diverging op | cause "
          "| instructions/inference | arena | flash | trees |")
RULE = "|---|---|---|---|---|---|---|---|---|---|"


@dataclass
class Row:
    """One model × target × runtime cell."""

    model: str
    target: str
    runtime: str
    result: str
    max_delta: str = "-"
    first_op: str = "-"
    cause: str = "-"
    instructions: str = "-"
    arena: str = "-"
    flash: str = "-"
    trees: str = "-"
    evidence: str = ""  # the attribution's evidence line, for the notes

    def cells(self) -> list[str]:
        return [self.target, self.runtime, self.result, self.max_delta, self.first_op,
                self.cause, self.instructions, self.arena, self.flash, self.trees]

    def markdown(self) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in self.cells()) + " |"


def _n(value: object) -> str:
    """A count with thousands separators (the device sends numbers as text)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return f"{int(value):,}" if isinstance(value, (int, float)) else "-"


def row_from_result(model: str, label: str, res: dict) -> Row:
    """A Row from a run's results.json document."""
    own = res.get("enforced_reference")
    enforced = [c for c in res.get("comparisons", []) if c["a"] == "device" and c["b"] == own]
    status = res["verdict"]["status"]
    row = Row(model, res["target"]["name"], label, status)
    if enforced:
        worst = max(enforced, key=lambda c: c["max_abs_lsb"])
        row.max_delta = f"{worst['max_abs_lsb']} {worst.get('unit', 'LSB')} vs {own}"
    elif status == "UNCHECKED":
        row.max_delta = res["verdict"]["reason"].removeprefix("no enforced reference ran: ")
    counter = res.get("device", {}).get("counter") or {}
    if counter.get("median"):
        row.instructions = _n(counter["median"]) + ("" if counter.get("unit") == "instructions"
                                                   else f" {counter.get('unit')}")
    build = res.get("build") or {}
    tflm = res.get("tflm") or {}
    used = (res.get("device", {}).get("info") or {}).get("arena_used_bytes")
    row.arena = f"{_n(used)} B used" if tflm and used else (
        f"{_n(build.get('arena_bytes'))} B" if build else "-")
    row.flash = f"{_n(build.get('flash_bytes'))} B" if build else "-"
    if tflm:
        nn = (tflm.get("kernels") or {}).get("cmsis_nn")
        row.trees = f"tflm {tflm['tree_id'][:8]}" + (f", nn {nn['tree_id'][:8]}" if nn else "")
    return row


def add_attribution(row: Row, res: dict) -> None:
    """The first diverging op and its cause, from a --per-layer run's results.json."""
    part = next((p for p in (res.get("attribution") or {}).get("parts", [])
                 if p["part"] == "platform"), None)
    if part is None:
        return
    first = part.get("first_divergence")
    if first:
        row.first_op = f"op {first['op']} {first['name']} ({first['max_abs_lsb']} LSB)"
    if part.get("cause"):
        row.cause = part["cause"]["id"]
        row.evidence = part["cause"].get("evidence", "")


def run_cell(model: Path, target: str, label: str, runtime: str, kernels: str,
             references: list[str], base: RunConfig, runs_dir: Path) -> Row:
    """One cell: a run, and a --per-layer run when it drifts."""
    cfg = replace(base, model=model, target=target, runtime=runtime, kernels=kernels,
                  references=references, runs_dir=runs_dir, quiet=True, per_layer=False)
    name = model.stem
    try:
        res = run(cfg).to_dict()
    except HarnessError as exc:
        return Row(name, target, label, _refusal(exc))
    row = row_from_result(name, label, res)
    if res["verdict"]["status"] == "DRIFT":
        try:
            add_attribution(row, run(replace(cfg, per_layer=True)).to_dict())
        except HarnessError as exc:
            row.cause = not_localised(exc)
    return row


def not_localised(exc: HarnessError) -> str:
    """The cause column of a drift whose --per-layer run was refused: that refusal, short."""
    return f"not localised, --per-layer {_refusal(exc)}"


def _refusal(exc: HarnessError) -> str:
    text = exc.one_line()
    if " needs ~" in text:  # the fit check: "<model> needs ~X of RAM ... (targets ...)"
        return "does not fit: needs" + text.split(" needs", 1)[1].split(" (targets")[0]
    return f"{type(exc).__name__}: {text}"


def models(shared: Path | None, example: Path) -> list[Path]:
    """The example, then every .tflite in the shared models folder."""
    return [example, *(sorted(shared.glob("*.tflite")) if shared and shared.is_dir() else [])]


def catalogue(model_paths: Iterable[Path], base: RunConfig, *,
              targets: Iterable[str] = TARGETS, runtimes: Iterable[str] | None = None,
              runs_dir: Path | None = None,
              progress: Callable[[Row], None] = lambda row: None) -> list[Row]:
    """Every model × target × runtime cell, in that order."""
    chosen = [r for r in RUNTIMES if runtimes is None or r[0] in runtimes]
    rows = []
    with tempfile.TemporaryDirectory(prefix="catalogue-") as tmp:
        for model in model_paths:
            for target in targets:
                for label, runtime, kernels, refs in chosen:
                    row = run_cell(model, target, label, runtime, kernels, refs, base,
                                   runs_dir or Path(tmp))
                    progress(row)
                    rows.append(row)
    return rows


def model_table(rows: list[Row]) -> str:
    """The markdown table of one model's rows."""
    return "\n".join([HEADER, RULE, *(r.markdown() for r in rows)])


def tables(markdown: str) -> dict[str, str]:
    """{model: its table} from a catalogue document (what model_table wrote)."""
    out: dict[str, str] = {}
    for block in markdown.split("\n### ")[1:]:
        name = block.split("\n", 1)[0].strip().strip("`")
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        out[name] = "\n".join(lines)
    return out


# What each attributed cause means, for a reader who has only this file.
CAUSES = {
    "recurrent state reset every invocation": (
        "TFLite Micro keeps an LSTM's hidden and cell state in variable tensors between "
        "invocations (the reference kernel reads and updates them). TFLM's CMSIS-NN kernel "
        "(kernels/cmsis_nn/unidirectional_sequence_lstm.cc) calls "
        "`arm_lstm_unidirectional_s8` with no hidden state and a scratch buffer as the cell "
        "state, so every invocation starts from a zero state: the first inference matches, "
        "every later one differs. Re-running the op in NumPy with the state reset before "
        "each invocation reproduces the device. A bug, not a documented difference: CMSIS-NN "
        "4ab83cc3 (\"Fixed LSTM (#219)\", the commit TFLM 90b983c2 pins) added "
        "`cmsis_nn_lstm_context.hidden_state` so that the state persists across invocations "
        "for streaming models, but TFLM's kernel at 90b983c2 does not pass it."),
    "double vs single rounding": (
        "The requantization rounds once (one 64-bit multiply and shift) where the reference "
        "rounds twice (TFLite's SaturatingRoundingDoublingHighMul then RoundingDivideByPOT), "
        "or the other way round: results differ by 1 LSB on some ties."),
    "LUT vs exp in softmax/logistic/tanh": (
        "A transcendental op computed with a lookup table on one side and with exp() or "
        "fixed-point polynomial arithmetic on the other."),
    "float requantization": (
        "The requantization multiplies in float32 (as XNNPACK does) where the reference "
        "uses integer fixed point."),
    "optimized-kernel differences": (
        "The optimized kernel computes the op differently and none of the arithmetic "
        "variants tried reproduces it."),
    "compiler/FPU flags": (
        "A float op whose result depends on how the compiler and the FPU evaluate it: GCC "
        "contracts `a * b + c` into one fused multiply-add (`vfma.f32`, one rounding) on "
        "an FPU that has it, where the desktop build rounds the product and the sum "
        "separately; no integer arithmetic variant can reproduce that, and the difference "
        "is a few ULP."),
    "arena overlap": (
        "The op's arithmetic reproduces the device on the device's own inputs: its inputs "
        "changed between ops (a buffer reused too early)."),
}


def _trees_text(trees: dict) -> list[str]:
    lines = []
    for name, info in trees.items():
        commit = f"commit `{info['commit']}`, " if info.get("commit") else ""
        pin = (f"; the TFLM tree's download script pins commit `{info['pin']}`"
               if info.get("pin") else "")
        lines.append(f"- {name}: {commit}git tree `{info['tree_id']}`{pin}")
    return lines


def render(rows: list[Row], *, trees: dict, vectors: int, date: str, command: str,
           model_ops: dict[str, list[str]]) -> str:
    """The catalogue document."""
    drift = [r for r in rows if r.result == "DRIFT"]
    by_model: dict[str, list[Row]] = {}
    for r in rows:
        by_model.setdefault(r.model, []).append(r)
    out = [
        "# Drift catalogue: int8 models on Cortex-M, builtin vs TFLite Micro vs CMSIS-NN",
        "",
        f"Written by `{command}` on {date} ({vectors} seeded random input vectors per run, "
        "seed 0). Generated: do not edit by hand; rerun the task.",
        "",
        "Why does my device differ from TFLite? Each row runs one model on one emulated "
        "Cortex-M (QEMU) with one runtime, feeds the same vectors to the device and to the "
        "runtime's desktop reference, and compares the outputs bit for bit:",
        "",
        "- **builtin**: this project's own C kernels; reference `litert-ref` (LiteRT's "
        "reference kernels; `numpy-int8` stands in where LiteRT cannot load the model).",
        "- **tflm**: TFLite Micro's MicroInterpreter with its reference kernels; reference "
        "`tflm-host` (the same interpreter on the desktop).",
        "- **tflm+cmsis-nn**: TFLite Micro built as `OPTIMIZED_KERNEL_DIR=cmsis_nn` does "
        "(kernels/cmsis_nn/*.cc over the reference kernels, CMSIS-NN compiled with the "
        "core's flags: DSP on M4/M7, MVE on M55, plain C on M0/M3); reference `tflm-host` "
        "with the *reference* kernels, so any difference is CMSIS-NN's.",
        "",
        "Columns: **result** PASS (bit-exact), DRIFT, UNCHECKED (the reference cannot run the "
        "model) or why the run was refused; **max |Δ|** the largest output difference, in "
        "LSB (ULP for float outputs); **first diverging op** and **cause** from a second run "
        "with `--per-layer` (every intermediate tensor read back; the cause is the arithmetic "
        "variant that, re-run in NumPy on the device's own inputs to that op, reproduces the "
        "device); **instructions/inference** QEMU `-icount` instructions (not cycles), "
        "counted in SysTick ticks of 20 to 62.5 instructions, so a second run may differ "
        "by a tick or two (a wrap of the 24-bit SysTick adds its handler); "
        "**arena** the planned arena (builtin) or TFLM's `arena_used_bytes` on the device; "
        "**flash** text + data of the firmware; **trees** the git tree hashes of the TFLM "
        "and CMSIS-NN sources.",
        "",
        "Trees used:",
        "",
        *_trees_text(trees),
        "",
        "## Summary",
        "",
    ]
    if not drift:
        out.append("Every checked run is bit-exact with its runtime's reference.")
    for cause in dict.fromkeys(r.cause for r in drift):
        cells = [f"{r.model} on {r.target} ({r.runtime}, {r.max_delta.split(' vs')[0]})"
                 for r in drift if r.cause == cause]
        out += [f"- **{cause}**: " + "; ".join(cells) + ".",
                *([f"  {CAUSES[cause]}"] if cause in CAUSES else [])]
    passed = sum(r.result == "PASS" for r in rows)
    out += ["", f"{passed} of {len(rows)} runs are bit-exact; {len(drift)} drift; "
            f"{sum(r.result == 'UNCHECKED' for r in rows)} could not be checked; "
            f"{len(rows) - passed - len(drift) - sum(r.result == 'UNCHECKED' for r in rows)} "
            "were refused before the build (memory, ops) or failed.", "", "## Models", ""]
    for model, model_rows in by_model.items():
        ops = ", ".join(dict.fromkeys(model_ops.get(model, [])))
        out += [f"### `{model}`", "", f"Ops: {ops}." if ops else "", "",
                model_table(model_rows), ""]
        notes = [f"- {r.target} {r.runtime}: {r.evidence}" for r in model_rows if r.evidence]
        if notes:
            out += ["Evidence:", "", *notes, ""]
    return "\n".join(out)
