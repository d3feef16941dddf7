"""The pipeline: model -> vectors -> firmware -> build -> run -> references -> compare -> report.

`run(config)` drives one cross-check and always leaves a run folder with a
results.json, also when a stage fails half-way.
"""

from __future__ import annotations

import errno
import shutil
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from harness import __version__
from harness.analysis.analyse import analyse
from harness.analysis.profile import profile_section, tflm_op_counts
from harness.config import RunConfig, example_model, resolve_runtime
from harness.device.backends import backend_class
from harness.device.client import DeviceClient
from harness.device.link import Link
from harness.device.session import run_vectors
from harness.errors import BadInput, DiskFull, HarnessError
from harness.model.graph import Graph
from harness.ops.validate import load_model
from harness.references import RUNTIME_REFERENCES
from harness.references.cache import run_reference_cached
from harness.references.known_wrong import refusal
from harness.report import console, html, json_report, junit
from harness.run.resume import load_run
from harness.run.vectors import load_vectors, random_vectors
from harness.runtimes.build import build
from harness.runtimes.builtin.arena import plan_arena
from harness.runtimes.builtin.lower import check_supported
from harness.runtimes.firmware import SEMIHOST_FILE, FirmwareProject, generate_builtin
from harness.runtimes.tflm.firmware import (
    check_tflm_ops,
    compare_arena,
    generate_tflm,
    host_allocations,
)
from harness.runtimes.tflm.library import build_library
from harness.runtimes.tflm.tree import TflmTree, find_tree
from harness.targets.fit import check_fits, estimate_footprint
from harness.targets.table import get_target

EXAMPLE_MODEL = example_model()


def _run_folder(cfg: RunConfig, graph: Graph) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = cfg.runs_dir / f"{stamp}_{graph.name}_{cfg.target}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    return folder


def _validate(cfg: RunConfig) -> None:
    """What needs a look outside the options (RunConfig checks those when made)."""
    # The backend's own checks (a missing emulator: exit 5; a missing or busy port:
    # exit 8), before any work rather than after the build and the references.
    backend_class(cfg).preflight(get_target(cfg.target), cfg)
    if cfg.float_model is not None and not Path(cfg.float_model).exists():
        raise BadInput(f"float model not found: {cfg.float_model}")


def run(cfg: RunConfig) -> dict:
    """Run one cross-check; return the results dict (also written as results.json)."""
    t0 = time.monotonic()
    done: dict[int, tuple[int, list[bytes]]] = {}
    if cfg.resume:
        cfg, resumed_vectors, done = load_run(cfg.resume, cfg)
    _validate(cfg)
    cfg, runtime_reason = resolve_runtime(cfg)
    target = get_target(cfg.target)
    graph = load_model(cfg.model)
    tree = None
    if cfg.runtime == "tflm":
        tree = find_tree(cfg.tflm_dir)
        check_tflm_ops(graph, tree)
    else:
        check_supported(graph)
    fp = estimate_footprint(sum(t.nbytes for t in graph.tensors if t.is_const),
                            plan_arena(graph).size, stack_bytes=target.stack_bytes,
                            num_ops=len(graph.ops), max_payload=target.max_payload)
    check_fits(target, fp.flash, fp.ram, model=graph.name, flash_detail=fp.flash_detail,
               ram_detail=fp.ram_detail)
    if cfg.resume:
        vectors, folder = resumed_vectors, Path(cfg.resume)
    else:
        vectors = (load_vectors(cfg.inputs, graph) if cfg.inputs
                   else random_vectors(graph, cfg.vectors, cfg.seed))
        folder = _run_folder(cfg, graph)
    res = json_report.new_results(cfg, graph, target, folder, __version__, runtime_reason)
    res["resumed_vectors"] = len(done)
    out = console.Console(quiet=cfg.quiet)
    out.header(res)
    out.line(f"  runtime: {cfg.runtime} ({runtime_reason})")
    if done:
        out.line(f"  resuming: {len(done)} of {len(vectors[0])} vectors already measured")
    if not cfg.resume:
        np.savez(folder / "vectors.npz", *vectors)
    try:
        _stages(cfg, graph, target, vectors, folder, res, out, done, tree)
    except HarnessError as exc:
        res["verdict"] = {"status": "ERROR", "reason": exc.one_line(), "exit_code": int(exc.code)}
        raise
    except KeyboardInterrupt:
        res["verdict"] = {"status": "INTERRUPTED", "reason": "interrupted (Ctrl-C)",
                          "exit_code": 130}
        raise
    except OSError as exc:
        if exc.errno not in DISK_FULL_ERRNOS:
            raise
        err = disk_full(exc, folder)
        res["verdict"] = {"status": "ERROR", "reason": err.one_line(), "exit_code": int(err.code)}
        raise err from None
    finally:
        res["timings"]["total_s"] = round(time.monotonic() - t0, 3)
        try:
            json_report.write(folder, res)
        except OSError as exc:  # a full disk: device_outputs.jsonl still holds the vectors
            out.line(f"  [yellow]could not write results.json[/]: {exc.strerror}")
        else:
            _derived_reports(folder, res, out)
        out.summary(res)
    return res


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def disk_full(exc: OSError, folder: Path) -> DiskFull:
    """The one-line error for a write that found no space, saying what is kept."""
    what = Path(exc.filename).name if exc.filename else "a file"
    kept = [n for n in ("device_outputs.jsonl", "results.json", "vectors.npz")
            if (folder / n).exists()]
    return DiskFull(f"no space left writing {what} in {folder} ({exc.strerror or exc})",
                    hint=f"kept: {', '.join(kept) or 'nothing'}; free space, then "
                         f"--resume {folder}")


def counter_section(kind: str, counts: list[int], backend, target) -> dict:
    """Turn the device's raw counter ticks into labelled figures.

    SysTick runs on the core clock: cycles on a board. Under QEMU with -icount
    shift=0 virtual time advances 1 ns per instruction, so ticks * 1e9 / clock
    are instructions, not cycles, and are labelled so.
    """
    if kind not in ("systick", "dwt") or not counts:
        return {"kind": kind, "unit": None, "per_inference": [], "median": None}
    if kind == "dwt":  # only where CYCCNT really counts, so never under QEMU
        values, unit, how = list(counts), "cycles", "DWT CYCCNT"
    elif backend.counter_kind == "instructions":
        values = [round(c * 1e9 / target.clock_hz) for c in counts]
        unit, how = "instructions", "QEMU -icount shift=0 (1 ns per instruction), SysTick"
    else:
        values, unit, how = list(counts), "cycles", "SysTick on the core clock"
    return {"kind": kind, "unit": unit, "how": how, "per_inference": values,
            "median": int(np.median(values))}


def _derived_reports(folder: Path, res: dict, out: console.Console) -> None:
    """junit.xml and report.html from results.json's dict; a failure here loses nothing."""
    for name, write in (("junit.xml", lambda: junit.write_junit(res, folder / "junit.xml")),
                        ("report.html", lambda: html.write_html(res, folder))):
        try:
            write()
        except Exception as exc:  # results.json is already safe on disk
            out.line(f"  [yellow]could not write {name}[/]: {type(exc).__name__}: {exc}")


def _firmware(cfg: RunConfig, graph: Graph, target, tree: TflmTree | None, res: dict,
              out: console.Console) -> FirmwareProject:
    semihosting = backend_class(cfg).semihosting
    if tree is None:
        return generate_builtin(graph, target, baud=cfg.baud, rounding=cfg.rounding,
                                semihosting=semihosting)
    with out.step("tflm library") as step:
        lib = build_library(tree, target.cflags)
        res["tflm"] = {"tree": str(tree.root), "tree_id": tree.tree_id, "library": str(lib.archive),
                       "cached": lib.cached, "seconds": round(lib.seconds, 3)}
        step.done("cached, not rebuilt" if lib.cached else
                  f"built {lib.objects} files in {lib.seconds:.0f} s", str(lib.archive))
    project = generate_tflm(graph, target, tree, lib, baud=cfg.baud, semihosting=semihosting,
                            per_layer=cfg.per_layer, profile=cfg.profile)
    res["tflm"]["host_arena_used_bytes"] = project.options.get("host_arena_used")
    return project


def _profile(graph: Graph, dev, counter: dict, target, tree: TflmTree | None, res: dict,
             out: console.Console) -> None:
    """Per-op counts (builtin: stepped INVOKEs; tflm: its profiler's LOG lines), in the
    counter's unit (instructions under QEMU: ticks * 1e9 / clock, as counter_section)."""
    op_counts = dev.op_counts if tree is None else tflm_op_counts(dev.logs, len(graph.ops))
    scale = 1e9 / target.clock_hz if counter.get("unit") == "instructions" else 1.0
    rows = profile_section(graph, op_counts, scale, counter.get("unit"))
    res["device"]["profile"] = rows
    if not rows:
        out.line("  profile: the device sent no per-op counts")
        return
    top = sorted(rows, key=lambda r: -r["median"])[:5]
    out.line(f"  profile (median {counter.get('unit') or 'ticks'} per op, top 5): " + ", ".join(
        f"op {r['op']} {r['name']} {r['median']:,} ({100 * r['share']:.0f}%)" for r in top))


def _tflm_arena(graph: Graph, dev, res: dict, out: console.Console) -> None:
    """arena_used_bytes on the device against tflm-host's, with the breakdown."""
    used = dev.info.get("arena_used_bytes")
    host = host_allocations(graph.path)
    res["tflm"]["arena"] = compare_arena(dev.logs, host)
    diffs = [f"{k} {v['device']} vs {v['tflm_host']}" for k, v in res["tflm"]["arena"].items()
             if v["device"] != v["tflm_host"] and k not in ("total", "head", "tail")]
    head = res["tflm"]["arena"].get("head", {})
    same = (f"; tensor buffers (head) identical, {head['device']} B"
            if head and head["device"] == head["tflm_host"] else "")
    out.line(f"  arena used: device {used} B, tflm-host {host.get('total', '?')} B{same}"
             + (f"; pointer-holding structs differ (device vs 64-bit host): {'; '.join(diffs)}"
                if diffs else ""))


def _stages(cfg: RunConfig, graph: Graph, target, vectors: list[np.ndarray], folder: Path,
            res: dict, out: console.Console, done: dict, tree: TflmTree | None = None) -> None:
    timings = res["timings"]
    # firmware + build
    t = time.monotonic()
    project = _firmware(cfg, graph, target, tree, res, out)
    with out.step("firmware") as step:
        built = build(project)
        timings["build_s"] = round(time.monotonic() - t, 3)
        res["build"] = json_report.build_section(built)
        shutil.copytree(built.folder, folder / "firmware", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("obj"))
        step.done("cached, not rebuilt" if built.cached else f"built in {built.seconds:.1f} s",
                  f"flash {built.flash_bytes} B, RAM {built.ram_bytes} B, "
                  f"arena {built.arena_bytes} B")
    # references (isolated processes; a failing one is reported and skipped)
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
            res["references"][name] = {"status": r.status, "reason": r.reason,
                                       "seconds": round(r.seconds, 3),
                                       "real_valued": r.real_valued, "cached": r.cached}
            if r:
                np.savez(folder / f"outputs_{name}.npz", *r.outputs)
                step.done("ok", f"{len(vectors[0])} vectors " + (
                    "(cached)" if r.cached else f"in {r.seconds:.1f} s"))
            else:
                step.done(r.status, r.reason)
    # device
    where = (f"board on {cfg.port}" if cfg.port else f"Renode {target.renode_platform}"
             if cfg.emulator == "renode" else f"QEMU {target.qemu_machine}")
    with out.step(f"device ({target.name} on {where})") as step:
        t = time.monotonic()
        backend = backend_class(cfg).from_options(target, built.elf, folder, cfg)
        res["device"]["backend"] = backend.describe()
        with backend as url, Link.open(url, baudrate=cfg.baud,
                                       backend_log=backend.log_path) as link:
            res["device"]["backend"] = backend.describe()
            client = DeviceClient(link, invoke_timeout=cfg.timeout)
            dev = run_vectors(client, graph, vectors, build_id=built.build_id,
                              jsonl=folder / "device_outputs.jsonl", per_layer=cfg.per_layer,
                              profile=cfg.profile and tree is None,
                              inputs_file=folder / SEMIHOST_FILE if backend.semihosting else None,
                              done=done,
                              progress=step.progress(len(vectors[0])))
        (folder / "device.log").write_text("\n".join(dev.logs) + "\n")
        np.savez(folder / "outputs_device.npz", *dev.outputs)
        if dev.tensors:
            np.savez(folder / "tensors_device.npz", **{f"t_{k}": v for k, v in dev.tensors.items()})
        timings["device_s"] = round(time.monotonic() - t, 3)
        counter = counter_section(dev.info.get("counter", "none"), dev.counts, backend, target)
        res["device"].update(info=dev.info, link=dev.link, vectors_done=len(dev.counts),
                             counts=dev.counts, counter=counter, seconds=round(dev.seconds, 3))
        per = (f"; {counter['median'] / 1e6:.2f} M {counter['unit']}/inference"
               if counter["median"] else "")
        step.done("ok", f"{len(dev.counts)} vectors in {dev.seconds:.1f} s{per}")
    if cfg.profile:
        _profile(graph, dev, counter, target, tree, res, out)
    if tree is not None and not cfg.per_layer:  # preserve-all builds use more on purpose
        _tflm_arena(graph, dev, res, out)
    # compare: outputs of every pair, per-layer localisation, attribution
    chain = RUNTIME_REFERENCES[cfg.runtime]
    own = next((n for n in chain if n in refs and refs[n]), chain[0])
    res["enforced_reference"] = own
    comparisons, per_layer, attribution = analyse(
        graph, vectors, dev.outputs, dev.tensors, refs, own, cfg.tolerances, cfg.per_layer,
        cfg.rounding)
    res["comparisons"] = [c.to_dict() for c in comparisons]
    res["per_layer"] = per_layer
    res["attribution"] = attribution
    res["verdict"] = json_report.verdict([c for c in comparisons if c.a == "device"], own,
                                         res["references"], per_layer)
    if own != chain[0] and res["verdict"]["status"] in ("PASS", "DRIFT"):
        why = res["references"].get(chain[0], {}).get("reason") or "not among the references"
        res["verdict"]["reason"] += f" ({own} stands in for {chain[0]}: {why})"
