"""The pipeline: model -> vectors -> firmware -> build -> references -> device -> compare
-> report, in that order; each stage's work lives in its own package.

`run(config)` drives one cross-check and always leaves a run folder with a
results.json, also when a stage fails half-way.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from harness.analysis.analyse import analyse
from harness.analysis.profile import profile_section
from harness.analysis.verdict import Verdict, decide
from harness.config import RunConfig, resolve_runtime
from harness.device.backends import backend_class
from harness.device.client import DeviceClient
from harness.device.counter import counter_section, ticks_scale
from harness.device.link import Link
from harness.device.ports import resolve_port
from harness.device.session import DeviceRun, run_vectors
from harness.errors import BadInput, HarnessError
from harness.ops.validate import load_model
from harness.references.cache import run_reference_cached
from harness.references.known_wrong import refusal
from harness.references.runner import ReferenceResult
from harness.report import console, html, junit
from harness.run.folder import DISK_FULL_ERRNOS, disk_full, new_run_folder
from harness.run.result import RunResult, build_section
from harness.run.resume import load_run
from harness.run.vectors import load_vectors, random_vectors
from harness.runtimes.base import Runtime
from harness.runtimes.build import BuildResult, build
from harness.runtimes.project import SEMIHOST_FILE
from harness.runtimes.registry import RUNTIMES
from harness.targets.choice import Choice, choose_target, clock_report


def _validate(cfg: RunConfig) -> tuple[RunConfig, Choice]:
    """What needs a look outside the options (RunConfig checks those when made): the
    port (`auto`: the one probe plugged in), the target or board, the baud rate."""
    cfg, port_note = resolve_port(cfg)
    choice = choose_target(cfg.target, cfg.board, cfg.port, cfg.baud, cfg.clock)
    # The backend's own checks (a missing emulator: exit 5; a missing or busy port:
    # exit 8), before any work rather than after the build and the references.
    backend_class(cfg).preflight(choice.target, cfg)
    if cfg.float_model is not None and not Path(cfg.float_model).exists():
        raise BadInput(f"float model not found: {cfg.float_model}")
    notes = (port_note,) if port_note else ()
    return cfg, choice._replace(notes=notes + choice.notes)


def run(cfg: RunConfig) -> RunResult:
    """Run one cross-check; return its RunResult (also written as results.json)."""
    t0 = time.monotonic()
    done: dict[int, tuple[int, list[bytes]]] = {}
    if cfg.resume:
        cfg, resumed_vectors, done = load_run(cfg.resume, cfg)
    cfg, choice = _validate(cfg)
    cfg, runtime_reason = resolve_runtime(cfg)
    target = choice.target
    graph = load_model(cfg.model)
    runtime = RUNTIMES[cfg.runtime](cfg, graph, target)
    runtime.check()  # ops, types and memory: refused before any work
    if cfg.resume:
        vectors, folder = resumed_vectors, Path(cfg.resume)
    else:
        vectors = (load_vectors(cfg.inputs, graph) if cfg.inputs
                   else random_vectors(graph, cfg.vectors, cfg.seed))
        folder = new_run_folder(cfg.runs_dir, graph.name, target.name)
    result = RunResult.new(cfg, graph, target, folder, runtime_reason, len(done))
    out = console.Console(quiet=cfg.quiet, verbose=cfg.verbose)
    out.header(result.to_dict())
    out.line(f"  runtime: {cfg.runtime} ({runtime_reason})")
    for note in choice.notes:
        out.line(f"  {note}")
    if done:
        out.line(f"  resuming: {len(done)} of {len(vectors[0])} vectors already measured")
    if not cfg.resume:
        np.savez(folder / "vectors.npz", *vectors)
    try:
        _stages(runtime, vectors, result, out, done)
    except HarnessError as exc:
        result.verdict = Verdict.error(exc)
        raise
    except KeyboardInterrupt:
        result.verdict = Verdict.interrupted()
        raise
    except OSError as exc:
        if exc.errno not in DISK_FULL_ERRNOS:
            raise
        err = disk_full(exc, folder)
        result.verdict = Verdict.error(err)
        raise err from None
    finally:
        result.timings["total_s"] = round(time.monotonic() - t0, 3)
        _write(result, out)
    return result


def _write(result: RunResult, out: console.Console) -> None:
    """results.json, then junit.xml and report.html from it; a failure in the derived
    reports loses nothing, and a full disk keeps device_outputs.jsonl."""
    try:
        result.write()
    except OSError as exc:
        out.line(f"  [yellow]could not write results.json[/]: {exc.strerror}")
        out.summary(result.to_dict())
        return
    doc = result.to_dict()
    folder = result.run_dir
    for name, write in (("junit.xml", lambda: junit.write_junit(doc, folder / "junit.xml")),
                        ("report.html", lambda: html.write_html(doc, folder))):
        try:
            write()
        except Exception as exc:  # results.json is already safe on disk
            out.line(f"  [yellow]could not write {name}[/]: {type(exc).__name__}: {exc}")
    out.summary(doc)


def _stages(runtime: Runtime, vectors: list[np.ndarray], result: RunResult,
            out: console.Console, done: dict) -> None:
    built = _build(runtime, result, out)
    refs = _references(runtime, vectors, result, out)
    dev = _device(runtime, built, vectors, result, out, done)
    if runtime.cfg.profile:
        _profile(runtime, dev, result, out)
    runtime.after_device(dev, result, out)
    _compare(runtime, vectors, refs, dev, result)


def _build(runtime: Runtime, result: RunResult, out: console.Console) -> BuildResult:
    """The runtime's firmware project, compiled (cached by content), kept in the folder."""
    t = time.monotonic()
    project = runtime.firmware(semihosting=backend_class(runtime.cfg).semihosting, out=out,
                               result=result)
    with out.step("firmware") as step:
        built = build(project)
        result.timings["build_s"] = round(time.monotonic() - t, 3)
        result.build = build_section(built)
        shutil.copytree(built.folder, result.run_dir / "firmware", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("obj"))
        step.done("cached, not rebuilt" if built.cached else f"built in {built.seconds:.1f} s",
                  f"flash {built.flash_bytes} B, RAM {built.ram_bytes} B, "
                  f"arena {built.arena_bytes} B")
    return built


def _references(runtime: Runtime, vectors: list[np.ndarray], result: RunResult,
                out: console.Console) -> dict[str, ReferenceResult]:
    """Every requested reference in its own process; one that fails is reported, skipped."""
    cfg, graph = runtime.cfg, runtime.graph
    names = list(cfg.references)
    if cfg.float_model and "float-model" not in names:
        names.append("float-model")
    refs = {}
    for name in names:
        with out.step(f"reference {name}") as step:
            r = refusal(name, graph)  # known wrong on this model: not run (known_wrong.py)
            if r is None:
                r = run_reference_cached(name, graph.path, vectors, per_layer=cfg.per_layer,
                                         float_model=cfg.float_model)
            refs[name] = r
            result.references[name] = {"status": r.status, "reason": r.reason,
                                       "seconds": round(r.seconds, 3),
                                       "real_valued": r.real_valued, "cached": r.cached}
            if r:
                np.savez(result.run_dir / f"outputs_{name}.npz", *r.outputs)
                step.done("ok", f"{len(vectors[0])} vectors " + (
                    "(cached)" if r.cached else f"in {r.seconds:.1f} s"))
            else:
                step.done(r.status, r.reason)
    return refs


def _device(runtime: Runtime, built: BuildResult, vectors: list[np.ndarray],
            result: RunResult, out: console.Console, done: dict) -> DeviceRun:
    """Boot the firmware on its backend and stream the vectors through it."""
    cfg, graph, target, folder = runtime.cfg, runtime.graph, runtime.target, result.run_dir
    backend = backend_class(cfg).from_options(target, built.elf, folder, cfg)
    with out.step(f"device ({target.name} on {backend.where()})") as step:
        t = time.monotonic()
        result.device["backend"] = backend.describe()
        with backend as url, Link.open(url, baudrate=cfg.baud,
                                       backend_log=backend.log_path) as link:
            result.device["backend"] = backend.describe()
            client = DeviceClient(link, invoke_timeout=cfg.timeout)
            dev = run_vectors(client, graph, vectors, build_id=built.build_id,
                              jsonl=folder / "device_outputs.jsonl", per_layer=cfg.per_layer,
                              profile=cfg.profile and runtime.steps_to_profile,
                              inputs_file=folder / SEMIHOST_FILE if backend.semihosting else None,
                              done=done, progress=step.progress(len(vectors[0])))
        (folder / "device.log").write_text("\n".join(dev.logs) + "\n")
        np.savez(folder / "outputs_device.npz", *dev.outputs)
        if dev.tensors:
            np.savez(folder / "tensors_device.npz", **{f"t_{k}": v for k, v in dev.tensors.items()})
        result.timings["device_s"] = round(time.monotonic() - t, 3)
        counter = counter_section(dev.info.get("counter", "none"), dev.counts, backend, target)
        counter["clock_hz"] = int(dev.info.get("clock_hz", 0)) or None  # the clock that ran
        clock_note = clock_report(dev.info, cfg.clock)
        result.device.update(info=dev.info, link=dev.link, vectors_done=len(dev.counts),
                             counts=dev.counts, counter=counter, seconds=round(dev.seconds, 3))
        per = (f"; {counter['median'] / 1e6:.2f} M {counter['unit']}/inference"
               if counter["median"] else "")
        step.done("ok", f"{len(dev.counts)} vectors in {dev.seconds:.1f} s{per}")
    if clock_note:
        out.line(f"  {clock_note}")
    return dev


def _profile(runtime: Runtime, dev: DeviceRun, result: RunResult,
             out: console.Console) -> None:
    """Per-op counts in the counter's unit, and the five costliest ops on the console."""
    counter = result.device["counter"]
    rows = profile_section(runtime.graph, runtime.op_counts(dev),
                           ticks_scale(counter, runtime.target), counter.get("unit"))
    result.device["profile"] = rows
    if not rows:
        out.line("  profile: the device sent no per-op counts")
        return
    top = sorted(rows, key=lambda r: -r["median"])[:5]
    out.line(f"  profile (median {counter.get('unit') or 'ticks'} per op, top 5): " + ", ".join(
        f"op {r['op']} {r['name']} {r['median']:,} ({100 * r['share']:.0f}%)" for r in top))


def _compare(runtime: Runtime, vectors: list[np.ndarray], refs: dict[str, ReferenceResult],
             dev: DeviceRun, result: RunResult) -> None:
    """Outputs of every pair, per-layer localisation, attribution, and the verdict."""
    cfg, graph, chain = runtime.cfg, runtime.graph, runtime.references
    own = next((n for n in chain if n in refs and refs[n]), chain[0])
    result.enforced_reference = own
    comparisons, per_layer, attribution = analyse(
        graph, vectors, dev.outputs, dev.tensors, refs, own, cfg.tolerances, cfg.per_layer,
        cfg.rounding, cfg.kernels)
    result.comparisons = [c.to_dict() for c in comparisons]
    result.per_layer = per_layer
    result.attribution = attribution
    result.verdict = decide([c for c in comparisons if c.a == "device"], own, chain,
                            result.references, per_layer)

