"""The pipeline: model -> vectors -> firmware -> build -> references -> device -> compare
-> report, in that order; each stage's work lives in its own package.

`run(config)` drives one cross-check and always leaves a run folder with a
results.json: written before the first stage and after each, so a run killed
outright (SIGKILL, power gone) still has one, and `--resume` finishes it. The
folder is locked while a process runs in it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

import numpy as np
from rich.markup import escape

from harness.analysis.analyse import analyse
from harness.analysis.profile import profile_section
from harness.analysis.quantization import tensors_needed
from harness.analysis.verdict import Status, Verdict, decide
from harness.config import OPTIONS, RunConfig, resolve_runtime
from harness.device.backends import backend_class
from harness.device.client import DeviceClient
from harness.device.counter import count_text, counter_section, ticks_scale
from harness.device.link import Link
from harness.device.place import hold_place
from harness.device.ports import resolve_port
from harness.device.session import DeviceRun, run_vectors
from harness.errors import BadInput, HarnessError, InternalError
from harness.locks import lock_folder, write_atomic
from harness.ops.validate import load_model
from harness.references.cache import run_reference_cached
from harness.references.known_wrong import refusal
from harness.references.runner import ReferenceResult
from harness.report import console, html, junit
from harness.resources import build_dir
from harness.run.folder import DISK_FULL_ERRNOS, disk_full, new_run_folder, write_crash_log
from harness.run.result import RunResult, build_section
from harness.run.resume import Resumed, load_run, vectors_section
from harness.run.signals import stop_cause, stop_code
from harness.run.vectors import load_vectors, random_vectors
from harness.runtimes.base import Runtime
from harness.runtimes.build import BuildResult, build, project_build_id
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


def _check_writable(folder: Path, what: str) -> None:
    """BadInput unless `folder` exists or can be made, and takes a file."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BadInput(f"cannot write {what} {folder}: {exc.strerror or exc}") from None


def _check_enforced(runtime: Runtime) -> None:
    """Refuse a set of references that can only end UNCHECKED: none is the runtime's own
    (or a stand-in) and none has a --tolerance."""
    cfg, chain = runtime.cfg, runtime.references
    names = list(cfg.references) + (["float-model"] if cfg.float_model else [])
    if any(n in chain or n in cfg.tolerances for n in names):
        return
    raise BadInput(f"--references {','.join(names)} checks nothing: the {runtime.name} "
                   f"device is checked against {' or '.join(chain)}, or a reference given a "
                   "--tolerance", hint=f"add {chain[0]} to --references, or give one of "
                                       "them a tolerance")


def run(cfg: RunConfig, given: Collection[str] | None = None, folder: Path | None = None
        ) -> RunResult:
    """Run one cross-check; return its RunResult (also written as results.json).

    `given`: the options the user gave (a --resume refuses those that differ from the
    recorded ones); None: those that differ from their declared defaults. `folder`: the
    run folder to make (a matrix names its cells'), else a new one under --runs-dir."""
    with contextlib.ExitStack() as held:
        resumed = None
        if cfg.resume:
            resumed = _reopen(cfg, given, held)
            if resumed.finished:
                return _finished(resumed, cfg)
        return _run(resumed.cfg if resumed else cfg, resumed, held, folder)


def _hold(folder: Path, held: contextlib.ExitStack) -> None:
    """Lock the run folder for this process until the run ends (a second harness
    resuming it is refused); the kernel lets go if the process dies."""
    try:
        fd = lock_folder(folder)
    except OSError as exc:
        raise BadInput(f"{folder} is not a run folder ({exc.strerror})",
                       hint="pass a folder under runs/ made by an earlier run") from None
    if fd is None:
        raise BadInput(f"{folder} is in use by another harness process",
                       hint="wait for it to end; a run still going cannot be resumed")
    held.callback(os.close, fd)


def _reopen(cfg: RunConfig, given: Collection[str] | None,
            held: contextlib.ExitStack) -> Resumed:
    folder = Path(cfg.resume)
    _hold(folder, held)
    if given is None:
        given = [o.name for o in OPTIONS if getattr(cfg, o.name) != o.default]
    return load_run(folder, cfg, given)


def _finished(resumed: Resumed, cfg: RunConfig) -> RunResult:
    """A run that ran to its end is not run again: say so, keep its verdict."""
    result = RunResult.from_dict(resumed.recorded)
    v = result.verdict
    console.Console(quiet=cfg.quiet).line(escape(
        f"{resumed.folder} finished already: {v.status} - {v.reason} (nothing to resume)"),
        wrapped=False)
    return result


class Prepared(NamedTuple):
    """What a run starts from once every check has passed."""

    runtime: Runtime
    runtime_reason: str  # why this runtime
    choice: Choice  # the target (or board) and the notes about it
    vectors: list[np.ndarray]
    folder: Path  # the run folder, locked by this process
    done: dict  # vectors measured by the run this one resumes


def _prepare(cfg: RunConfig, resumed: Resumed | None, held: contextlib.ExitStack,
             folder: Path | None = None) -> Prepared:
    """Every check before any work, then the vectors and the (locked) run folder."""
    cfg = hold_place(cfg, held)  # a labgrid place: acquired until the run ends
    cfg, choice = _validate(cfg)
    cfg, runtime_reason = resolve_runtime(cfg)
    graph = load_model(cfg.model)
    runtime = RUNTIMES[cfg.runtime](cfg, graph, choice.target)
    runtime.check()  # ops, types and memory: refused before any work
    _check_enforced(runtime)
    _check_writable(build_dir(), "the build cache (HARNESS_BUILD_DIR)")
    if resumed:
        resumed.check_model(graph.sha256)
        return Prepared(runtime, runtime_reason, choice, resumed.vectors, resumed.folder,
                        resumed.done)
    notes: list[str] = []
    vectors = (load_vectors(cfg.inputs, graph, notes) if cfg.inputs
               else random_vectors(graph, cfg.vectors, cfg.seed))
    for note in notes:  # values clipped by quantization: never silently
        print(f"warning: {note}", file=sys.stderr)
    folder = _make(folder) if folder else new_run_folder(cfg.runs_dir, graph.name,
                                                         choice.target.name)
    _hold(folder, held)
    return Prepared(runtime, runtime_reason, choice, vectors, folder, {})


def _make(folder: Path) -> Path:
    """The run folder a caller named (its parents too)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot make the run folder {folder}: {exc.strerror or exc}") from None
    return folder


def _run(cfg: RunConfig, resumed: Resumed | None, held: contextlib.ExitStack,
         folder: Path | None = None) -> RunResult:
    t0 = time.monotonic()
    runtime, runtime_reason, choice, vectors, folder, done = _prepare(cfg, resumed, held,
                                                                      folder)
    cfg, graph, target = runtime.cfg, runtime.graph, runtime.target
    result = RunResult.new(cfg, graph, target, folder, runtime_reason, len(done))
    result.vectors = vectors_section(vectors)
    if resumed:  # until this run's own build replaces it: what the kept vectors ran on
        result.build = resumed.recorded.get("build")
    out = console.Console(quiet=cfg.quiet, verbose=cfg.verbose)
    out.header(result.to_dict())
    out.line(f"  runtime: {cfg.runtime} ({runtime_reason})")
    for note in choice.notes:
        out.line(f"  {note}")
    if done:
        out.line(f"  resuming: {len(done)} of {len(vectors[0])} vectors already measured")
    try:
        if not resumed:
            write_atomic(folder / "vectors.npz", lambda f: np.savez(f, *vectors))
        _stages(runtime, vectors, result, out, done, resumed)
    except HarnessError as exc:
        result.verdict = Verdict.error(exc)
        raise
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM / SIGHUP (run/signals.py)
        result.verdict = Verdict(Status.INTERRUPTED, f"interrupted ({stop_cause(exc)})",
                                 stop_code(exc))
        raise
    except OSError as exc:
        if exc.errno not in DISK_FULL_ERRNOS:
            raise _internal(exc, result) from exc
        err = disk_full(exc, folder)
        result.verdict = Verdict.error(err)
        raise err from None
    except Exception as exc:  # a bug: its traceback goes into the run folder
        raise _internal(exc, result) from exc
    finally:
        result.timings["total_s"] = round(time.monotonic() - t0, 3)
        _write(result, out)
    return result


def _internal(exc: Exception, result: RunResult) -> InternalError:
    """The one-line error for a bug, its traceback saved in the run folder."""
    err = InternalError(f"internal error {type(exc).__name__}: {exc}",
                        hint=f"traceback: {write_crash_log(exc, result.run_dir)}")
    result.verdict = Verdict.error(err)
    return err


def _mark(result: RunResult, stage: str) -> None:
    """results.json says which stage the run is in, so a folder whose process was
    killed outright still tells what happened (and --resume can finish it)."""
    result.verdict = Verdict(Status.INCOMPLETE, f"the run has not finished: it was in the "
                             f"{stage} stage (pid {os.getpid()}); if that process is gone, "
                             "--resume finishes it", None)
    result.write()


def _write(result: RunResult, out: console.Console) -> None:
    """results.json, then junit.xml and report.html from it; a failure in the derived
    reports loses nothing, and a full disk keeps device_outputs.jsonl."""
    doc = result.to_dict()
    try:
        result.write()
    except OSError as exc:
        _say(out, f"  [yellow]could not write results.json[/]: {exc.strerror}")
    else:
        folder = result.run_dir
        for name, write in (("junit.xml", lambda: junit.write_junit(doc, folder / "junit.xml")),
                            ("report.html", lambda: html.write_html(doc, folder))):
            try:
                write()
            except Exception as exc:  # results.json is already safe on disk
                _say(out, f"  [yellow]could not write {name}[/]: {type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError):  # a terminal gone with SIGHUP takes no summary
        out.summary(doc)


def _say(out: console.Console, text: str) -> None:
    with contextlib.suppress(OSError):
        out.line(text)


def _stages(runtime: Runtime, vectors: list[np.ndarray], result: RunResult,
            out: console.Console, done: dict, resumed: Resumed | None) -> None:
    _mark(result, "build")
    built = _build(runtime, result, out, resumed)
    _mark(result, "references")
    refs = _references(runtime, vectors, result, out)
    _mark(result, "device")
    dev = _device(runtime, built, vectors, result, out, done)
    _mark(result, "compare")
    if runtime.cfg.profile:
        _profile(runtime, dev, result, out)
    runtime.after_device(dev, result, out)
    _compare(runtime, vectors, refs, dev, result)


def _build(runtime: Runtime, result: RunResult, out: console.Console,
           resumed: Resumed | None) -> BuildResult:
    """The runtime's firmware project, compiled (cached by content), kept in the folder."""
    t = time.monotonic()
    project = runtime.firmware(semihosting=backend_class(runtime.cfg).semihosting, out=out,
                               result=result)
    if resumed:
        resumed.check_build(project_build_id(project))
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
    refs, keep = {}, tensors_needed(names)  # the quantization analysis reads their tensors
    for name in names:
        with out.step(f"reference {name}") as step:
            r = refusal(name, graph)  # known wrong on this model: not run (known_wrong.py)
            if r is None:
                r = run_reference_cached(name, graph.path, vectors,
                                         per_layer=cfg.per_layer or name in keep,
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
        per = (f"; {count_text(counter['median'], counter['unit'])}/inference"
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
        cfg.rounding, cfg.kernels, float_model=cfg.float_model,
        random_inputs=cfg.inputs is None)
    result.comparisons = [c.to_dict() for c in comparisons]
    result.per_layer = per_layer
    result.attribution = attribution
    result.verdict = decide([c for c in comparisons if c.a == "device"], own, chain,
                            result.references, per_layer)

