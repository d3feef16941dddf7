"""The builtin runtime: the project's own C kernels, the graph compiled ahead of time.

It must be bit-exact with LiteRT's reference kernels (litert-ref); numpy-int8 is
a tested stand-in when LiteRT cannot load a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.runtimes.base import Runtime
from harness.runtimes.builtin.firmware import BuiltinPlan, generate_builtin, plan_builtin
from harness.runtimes.project import FirmwareProject
from harness.targets.fit import Footprint, estimate_footprint

if TYPE_CHECKING:
    from harness.report.console import Console
    from harness.run.result import RunResult


class BuiltinRuntime(Runtime):
    name = "builtin"
    references = ("litert-ref", "numpy-int8")
    steps_to_profile = True  # INVOKE with a STEP flag, one op at a time

    _plan: BuiltinPlan | None = None

    def check_supported(self) -> None:
        """Lower the graph once (the refusals come from the op specs) and plan its arena."""
        self._plan = plan_builtin(self.graph)

    def footprint(self) -> Footprint:
        t, graph = self.target, self.graph
        return estimate_footprint(sum(x.nbytes for x in graph.tensors if x.is_const),
                                  self._lowered().arena.size, stack_bytes=t.stack_bytes,
                                  num_ops=len(graph.ops), max_payload=t.max_payload)

    def firmware(self, *, semihosting: bool, out: Console, result: RunResult
                 ) -> FirmwareProject:
        return generate_builtin(self.graph, self.target, baud=self.cfg.baud,
                                rounding=self.cfg.rounding, semihosting=semihosting,
                                lowered=self._lowered(), clock=self.cfg.clock)

    def _lowered(self) -> BuiltinPlan:
        if self._plan is None:
            self.check_supported()
        assert self._plan is not None
        return self._plan
