"""Run every benchmark and write BENCHMARKS.md (machine, date, command per figure)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness import resources
from harness.bench.stats import Figure, table

LINK_NOTE = (
    'QEMU behind the link: the device is the board firmware (inputs over the link, '
    "interrupt-driven UART receive, WFI between bytes) in QEMU, and QEMU's UART models "
    "take one byte per pass of QEMU's main loop, so the figure follows how fast this VM "
    'schedules QEMU: on this machine the 115200-baud medians ranged from 0.27 to 0.93 '
    'between runs of the same code, always with 0 retries and 0 timeouts (the link waits '
    'for QEMU, it does not lose frames). At 921600 baud QEMU takes in only ~5-9 KB/s. The '
    "protocol-only rows (the device's protocol C code compiled for the host, behind the "
    'same paced link) are the steady figure of the protocol itself.')
SHARED = (resources.CHECKOUT or resources.DATA_DIR).parent / "shared" / "models"
EXAMPLE = resources.EXAMPLE_MODEL


def _tool_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "not installed"
    return out.splitlines()[0] if out else "?"


def machine() -> str:
    """One line about where the figures were measured."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.node()}: {os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}, {_tool_version(['qemu-system-arm', '--version'])}, "
            f"{_tool_version(['arm-none-eabi-gcc', '--version'])}; load average {load:.1f} "
            "at the start")


RENODE_NOTE = (
    "Both emulators run the firmware with the semihosting input path: QEMU reads the inputs "
    "file by semihosting, Renode writes it into memory from a hook (run.resc). QEMU runs "
    "with -icount shift=0; Renode at one instruction per cycle of virtual time. Per vector: "
    "one INVOKE that loads, runs and answers, as the pipeline does.")


def run_bench(out: Path, *, tflm_dir: Path | None = None, tflm_cold: bool = True,
              quick: bool = False, only: str = "", log: Callable[[str], None] = print
              ) -> list[Figure]:
    """All figures (a)-(g), or the sections `only` names ("c" or "a,c"); writes them to
    `out` as markdown (with `only`, into the sections `out` has) and returns them."""
    from harness.bench.builds import cold_builds, tflm_builds, warm_overhead
    from harness.bench.emulated import emulated_throughput
    from harness.bench.link import link_efficiency_isolated
    from harness.bench.references import reference_speed

    person = SHARED / "person_detect.tflite"
    models = [EXAMPLE] + ([person] if person.exists() else [])
    reps = 2 if quick else 3
    header = [f"# Benchmarks\n\nWritten by `invoke bench` on {time.strftime('%Y-%m-%d %H:%M')}"
              f" ({machine()}).\nEvery figure is the median of several runs, with min and max; "
              "a ratio is taken within one run.\n"]
    figures: list[Figure] = []
    sections: list[str] = []

    def section(title: str, figs: list[Figure], extra: str = "") -> None:
        figures.extend(figs)
        cmds = sorted({f.command for f in figs if f.command})
        sections.append(f"## {title}\n\n{table(figs)}\n\nCommand: " + "; ".join(
            f"`{c}`" for c in cmds) + (f"\n\n{extra}" if extra else "") + "\n")
        log(f"bench: {title} done")

    def wanted(letter: str) -> bool:
        return not only or letter in only.split(",")

    if wanted("a"):
        section("(a) Emulated throughput (stm32f4, QEMU -icount)",
                [f for m in models for f in emulated_throughput(m, 5 if quick else 10)])
    if wanted("b"):
        section("(b) Serial-link efficiency (payload bytes/s over baud/10)",
                [f for baud in (115200, 921600) for f in link_efficiency_isolated(baud, reps)],
                LINK_NOTE)
    if wanted("c"):
        section("(c) Build times", [cold_builds(reps), *warm_overhead(reps),
                                    *tflm_builds(tflm_dir, tflm_cold, shared=SHARED)])
    ref_models = [m for m in (person, SHARED / "micro_speech_quantized.tflite", EXAMPLE)
                  if m.exists()]
    if wanted("d"):
        section("(d) Host reference speed", [f for m in ref_models[:2]
                                             for f in reference_speed(m, reps)],
                "LiteRT cannot load person_detect (per-channel quantization on axis 3), so "
                "the numpy-int8 / litert-ref ratio comes from the next model.")
    if not wanted("e"):
        pass
    elif tflm_dir is not None:
        from harness.bench.runtimes import compare_runtimes
        from harness.bench.runtimes import table as runtime_table

        # cortex-m4, the stm32f4's core: person_detect's TFLM arena does not fit its 96 KB
        rows = [compare_runtimes(m, 3, tflm_dir, "cortex-m4") for m in
                (SHARED / "micro_speech_quantized.tflite", person) if m.exists()]
        sections.append("## (e) builtin against tflm (cortex-m4, QEMU -icount)\n\n"
                        + runtime_table(rows, "cortex-m4") + "\n\nInstructions per inference "
                        "under QEMU -icount (not cycles); arena: builtin's planned arena, "
                        "tflm's arena_used_bytes from the device; flash: text + data.\n"
                        "Command: `invoke bench` (harness/runtimes.py; also "
                        "`scripts/bench_runtimes.py`)\n")
    else:
        sections.append("## (e) builtin against tflm\n\nNot measured: no TFLM tree configured "
                        "(set TFLM_DIR).\n")
    if not wanted("f"):
        pass
    elif shutil.which("renode"):
        from harness.bench.emulated import renode_against_qemu

        section("(f) Renode against QEMU (stm32f4, same firmware and vectors)",
                renode_against_qemu(models, 5 if quick else 10), RENODE_NOTE)
    else:
        sections.append("## (f) Renode against QEMU\n\nNot measured: Renode not installed "
                        "(`invoke setup --renode`, renode/README.md).\n")
    if wanted("g"):
        from harness.bench.matrix import matrix_scaling

        section("(g) harness matrix: 8 emulated cells, -j 2 against -j 1",
                matrix_scaling([EXAMPLE, person if person.exists() else EXAMPLE], reps),
                "The cells' firmware and references are cached by a first matrix; each "
                "timed matrix is a fresh `python -m harness matrix` (its start and imports "
                "count). The ratio pairs a -j 1 and a -j 2 matrix run one after the other. "
                f"Measured {time.strftime('%Y-%m-%d %H:%M')} ({machine()}).")
    met = [f for f in figures if f.met() is not None]
    goals = [f"- {f.name}: {f.median:.3f} {f.unit} (goal {f.goal}): "
             f"{'met' if f.met() else 'MISSED'}" for f in met]
    if only and out.exists():  # the sections not measured now stay as they were
        text = merge_sections(out.read_text(), goals, sections)
    else:
        text = "\n".join(header + ["## Goals\n\n" + "\n".join(goals) + "\n"] + sections)
    out.write_text(text)
    return figures


def merge_sections(old: str, goals: list[str], sections: list[str]) -> str:
    """BENCHMARKS.md `old` with `sections` put in place of the ones of the same letter
    ("## (g) ...", else added in letter order) and their goal lines in its Goals list."""
    head, *parts = old.split("\n## ")
    parts = ["## " + p.rstrip("\n") + "\n" for p in parts]
    by_key = {p.split(")", 1)[0]: p for p in parts if p.startswith("## (")}
    for new in sections:
        by_key[new.split(")", 1)[0]] = new
    names = {g.split(":", 1)[0] for g in goals}
    goal_part = next((p for p in parts if p.startswith("## Goals")), "## Goals\n\n")
    kept = [ln for ln in goal_part.splitlines()[2:] if ln and ln.split(":", 1)[0] not in names]
    goal_part = "## Goals\n\n" + "\n".join(kept + goals) + "\n"
    return "\n".join([head.rstrip("\n") + "\n", goal_part,
                      *(by_key[k] for k in sorted(by_key))])
