"""The tflm runtime: TensorFlow Lite Micro's MicroInterpreter, built from the user's tree,
with TFLM's reference kernels or Arm's CMSIS-NN kernels (--kernels).

It must be bit-exact with the desktop TFLM interpreter (tflm-host), which runs the
reference kernels: with --kernels cmsis-nn any difference is the optimized
kernels' drift, which the compare stage localises and attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.analysis.profile import tflm_op_counts
from harness.runtimes.base import Runtime
from harness.runtimes.project import FirmwareProject
from harness.runtimes.tflm.arena import arena_size, compare_arena, host_allocations
from harness.runtimes.tflm.firmware import app_source, check_tflm_ops, generate_tflm
from harness.runtimes.tflm.isa import cmsis_nn_isa
from harness.runtimes.tflm.isa import summary as isa_summary
from harness.runtimes.tflm.library import KernelSet, TflmLibrary, build_library
from harness.runtimes.tflm.tree import (
    CMSIS,
    CMSIS_NN,
    TflmTree,
    find_cmsis_trees,
    find_tree,
    require_all_trees,
)
from harness.targets.fit import Footprint
from harness.targets.target import KIB

if TYPE_CHECKING:
    from harness.device.session import DeviceRun
    from harness.report.console import Console
    from harness.run.result import RunResult

# What a tflm firmware adds to the model and its arena, measured on the linked ELFs
# (arm-none-eabi-size, cortex-m4, -O2): the shell, the interpreter and its allocator,
# the flatbuffer reader (TFLM_CODE_BYTES) and each kind of op's kernel (PER_KERNEL_BYTES,
# CMSIS-NN's a little larger), rounded up; RAM: the shell's buffers and the
# interpreter, resolver and allocator objects outside the arena.
TFLM_CODE_BYTES = 56 * KIB
PER_KERNEL_BYTES = 8 * KIB
TFLM_RAM_BYTES = 3 * KIB


class TflmRuntime(Runtime):
    name = "tflm"
    references = ("tflm-host",)

    _tree: TflmTree | None = None
    _kernels: KernelSet | None = None
    _arena: tuple[int, str, int | None] | None = None

    @property
    def tree(self) -> TflmTree:
        if self._tree is None:
            if self.cfg.kernels == "cmsis-nn":  # say at once every tree that is missing
                require_all_trees((self.cfg.tflm_dir, self.cfg.tflm_config_dir),
                                  self._ext_dirs())
            self._tree = find_tree(self.cfg.tflm_dir, self.cfg.tflm_config_dir)
        return self._tree

    def _ext_dirs(self) -> dict[str, tuple[Path | None, Path | None]]:
        cfg = self.cfg
        return {CMSIS_NN.name: (cfg.cmsis_nn_dir, cfg.cmsis_nn_config_dir),
                CMSIS.name: (cfg.cmsis_dir, cfg.cmsis_config_dir)}

    @property
    def kernels(self) -> KernelSet:
        """The kernels asked for; for cmsis-nn its trees, found and checked."""
        if self._kernels is None:
            if self.cfg.kernels == "cmsis-nn":
                nn, core = find_cmsis_trees(self.tree, self._ext_dirs())
                self._kernels = KernelSet("cmsis-nn", nn, core)
            else:
                self._kernels = KernelSet()
        return self._kernels

    @property
    def arena(self) -> tuple[int, str, int | None]:
        """The arena the firmware reserves (from tflm-host's own figure), measured once."""
        if self._arena is None:
            self._arena = arena_size(self.graph, self.cfg.per_layer, self.cfg.kernels,
                                     self.tree.root)
        return self._arena

    def check_supported(self) -> None:
        """A tree is configured, its op resolver registers every op of the model, and the
        kernels' trees are there."""
        check_tflm_ops(self.graph, self.tree)
        _ = self.kernels

    def footprint(self) -> Footprint:
        """The arena the firmware will reserve (tflm-host's figure with its margin, or
        every activation when tflm-host cannot load the model), the whole model file in
        flash, and TFLM's code."""
        t, graph = self.target, self.graph
        size, note, _host = self.arena
        kinds = len({op.name for op in graph.ops})
        code = TFLM_CODE_BYTES + PER_KERNEL_BYTES * kinds
        model = graph.path.stat().st_size
        shell_ram = TFLM_RAM_BYTES + 4 * t.max_payload
        return Footprint(flash=model + code, ram=size + shell_ram + t.stack_bytes,
                         flash_detail=f"{_kb(model)} model + {_kb(code)} TFLM code",
                         ram_detail=f"{_kb(size)} TFLM arena ({note.split(';')[0]}) + "
                                    f"{_kb(shell_ram)} firmware + {_kb(t.stack_bytes)} stack")

    def firmware(self, *, semihosting: bool, out: Console, result: RunResult
                 ) -> FirmwareProject:
        """The TFLM objects the model needs (each compiled once per tree, flags and
        compiler), then the app."""
        tree, kernels, cfg = self.tree, self.kernels, self.cfg
        probe = app_source(self.graph, tree, self.arena, kernels=kernels.name,
                           per_layer=cfg.per_layer, profile=cfg.profile)
        with out.step("tflm library") as step:
            lib = build_library(tree, self.target.cflags, probe, kernels=kernels)
            result.tflm = library_section(tree, lib)
            step.done(_library_status(lib), str(lib.archive))
        project = generate_tflm(self.graph, self.target, tree, lib, baud=cfg.baud,
                                semihosting=semihosting, per_layer=cfg.per_layer,
                                profile=cfg.profile, clock=cfg.clock,
                                arena=self.arena)
        result.tflm["host_arena_used_bytes"] = project.options.get("host_arena_used")
        return project

    def op_counts(self, dev: DeviceRun) -> list[list[int]]:
        """The profiler's LOG lines (a MicroProfilerInterface timed by the shell's counter)."""
        return tflm_op_counts(dev.logs, len(self.graph.ops))

    def after_device(self, dev: DeviceRun, result: RunResult, out: Console) -> None:
        """Which code paths the CMSIS-NN kernels took, and arena_used_bytes on the device
        against tflm-host's, category by category."""
        if result.tflm is None:
            return
        if self.kernels.name == "cmsis-nn" and result.build:
            isa = result.tflm["cmsis_nn_isa"] = cmsis_nn_isa(Path(result.build["elf"]))
            out.line(f"  CMSIS-NN code: {isa_summary(isa)}")
        if self.cfg.per_layer:  # preserve-all builds use more arena on purpose
            return
        used = dev.info.get("arena_used_bytes")
        host = host_allocations(self.graph.path)
        arena = result.tflm["arena"] = compare_arena(dev.logs, host)
        diffs = [f"{k} {v['device']} vs {v['tflm_host']}" for k, v in arena.items()
                 if v["device"] != v["tflm_host"] and k not in ("total", "head", "tail")]
        head = arena.get("head", {})
        same = (f"; tensor buffers (head) identical, {head['device']} B"
                if head and head["device"] == head["tflm_host"] else "")
        out.line(f"  arena used: device {used} B, tflm-host {host.get('total', '?')} B{same}"
                 + (f"; pointer-holding structs differ (device vs 64-bit host): "
                    f"{'; '.join(diffs)}" if diffs else ""))


def library_section(tree: TflmTree, lib: TflmLibrary) -> dict:
    """results.json's `tflm` section: the tree, the kernels and the objects built."""
    return {"tree": str(tree.root), "tree_id": tree.tree_id, "commit": tree.commit,
            "kernels": lib.kernels.describe(), "library": str(lib.archive),
            "objects": lib.objects, "compiled": lib.compiled, "cached": lib.cached,
            "seconds": round(lib.seconds, 3), "sources": lib.sources}


def _library_status(lib: TflmLibrary) -> str:
    what = f"{lib.kernels.name} kernels, {lib.objects} objects"
    if lib.cached:
        return f"{what}, all cached"
    return (f"{what}: compiled {lib.compiled} in {lib.seconds:.0f} s, "
            f"{lib.objects - lib.compiled} cached")


def _kb(n: int) -> str:
    return f"{-(-n // KIB)} KB"

