"""The tflm runtime: TensorFlow Lite Micro's MicroInterpreter, built from the user's tree.

It must be bit-exact with the desktop TFLM interpreter (tflm-host).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.analysis.profile import tflm_op_counts
from harness.runtimes.base import Runtime
from harness.runtimes.builtin.arena import plan_arena
from harness.runtimes.project import FirmwareProject
from harness.runtimes.tflm.firmware import (
    check_tflm_ops,
    compare_arena,
    generate_tflm,
    host_allocations,
)
from harness.runtimes.tflm.library import build_library
from harness.runtimes.tflm.tree import TflmTree, find_tree
from harness.targets.fit import Footprint, estimate_footprint

if TYPE_CHECKING:
    from harness.device.session import DeviceRun
    from harness.report.console import Console
    from harness.run.result import RunResult


class TflmRuntime(Runtime):
    name = "tflm"
    references = ("tflm-host",)

    _tree: TflmTree | None = None

    @property
    def tree(self) -> TflmTree:
        if self._tree is None:
            self._tree = find_tree(self.cfg.tflm_dir)
        return self._tree

    def check_supported(self) -> None:
        """A tree is configured and its op resolver registers every op of the model."""
        check_tflm_ops(self.graph, self.tree)

    def footprint(self) -> Footprint:
        # The builtin runtime's arena plan stands in for TFLM's own (tflm-host measures
        # it only once the model loads; the linker checks the exact figure).
        t, graph = self.target, self.graph
        return estimate_footprint(sum(x.nbytes for x in graph.tensors if x.is_const),
                                  plan_arena(graph).size, stack_bytes=t.stack_bytes,
                                  num_ops=len(graph.ops), max_payload=t.max_payload)

    def firmware(self, *, semihosting: bool, out: Console, result: RunResult
                 ) -> FirmwareProject:
        """libtflm.a for the target (built once per tree, flags and compiler), then the app."""
        tree = self.tree
        with out.step("tflm library") as step:
            lib = build_library(tree, self.target.cflags)
            result.tflm = {"tree": str(tree.root), "tree_id": tree.tree_id,
                           "library": str(lib.archive), "cached": lib.cached,
                           "seconds": round(lib.seconds, 3)}
            step.done("cached, not rebuilt" if lib.cached else
                      f"built {lib.objects} files in {lib.seconds:.0f} s", str(lib.archive))
        project = generate_tflm(self.graph, self.target, tree, lib, baud=self.cfg.baud,
                                semihosting=semihosting, per_layer=self.cfg.per_layer,
                                profile=self.cfg.profile, clock=self.cfg.clock)
        result.tflm["host_arena_used_bytes"] = project.options.get("host_arena_used")
        return project

    def op_counts(self, dev: DeviceRun) -> list[list[int]]:
        """The profiler's LOG lines (a MicroProfilerInterface timed by the shell's counter)."""
        return tflm_op_counts(dev.logs, len(self.graph.ops))

    def after_device(self, dev: DeviceRun, result: RunResult, out: Console) -> None:
        """arena_used_bytes on the device against tflm-host's, category by category."""
        if self.cfg.per_layer or result.tflm is None:  # preserve-all builds use more on purpose
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
