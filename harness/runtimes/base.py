"""The Runtime interface: what runs the model on the target.

A runtime says what it can run (``check``, before any work), generates the
firmware project (``firmware``), names the reference it must match bit for bit
(``references``: the reference first, then tested stand-ins), and turns what the
device sent into per-op counts (``op_counts``). Each runtime is listed by
name in registry.py; the pipeline never asks which one it has.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from harness.model.graph import Graph
from harness.runtimes.project import FirmwareProject
from harness.targets.fit import Footprint, check_fits
from harness.targets.target import Target

if TYPE_CHECKING:
    from harness.config import RunConfig
    from harness.device.session import DeviceRun
    from harness.report.console import Console
    from harness.run.result import RunResult


class Runtime(ABC):
    """One on-target runtime for one model, target and configuration."""

    name: ClassVar[str] = ""
    #: The reference the device must match bit for bit, then the stand-ins that are
    #: bit-exact with it (tested), used when it cannot run a model.
    references: ClassVar[tuple[str, ...]] = ()
    #: --profile steps the graph op by op on the device (else the firmware reports
    #: per-op counts itself).
    steps_to_profile: ClassVar[bool] = False

    def __init__(self, cfg: RunConfig, graph: Graph, target: Target) -> None:
        self.cfg, self.graph, self.target = cfg, graph, target

    def check(self) -> None:
        """Refuse, before any work, a model this runtime cannot run on the target: its
        own support checks, then whether its footprint fits the target's memory."""
        self.check_supported()
        fp = self.footprint()
        check_fits(self.target, fp.flash, fp.ram, model=self.graph.name,
                   flash_detail=fp.flash_detail, ram_detail=fp.ram_detail)

    @abstractmethod
    def check_supported(self) -> None:
        """Ops and types this runtime lacks: UnsupportedOp / UnsupportedType."""

    @abstractmethod
    def footprint(self) -> Footprint:
        """The flash and RAM the firmware will need, estimated before building it."""

    @abstractmethod
    def firmware(self, *, semihosting: bool, out: Console, result: RunResult
                 ) -> FirmwareProject:
        """The firmware project (a runtime records its own figures in ``result``)."""

    def op_counts(self, dev: DeviceRun) -> list[list[int]]:
        """Per vector, per op: the device's counts for --profile."""
        return dev.op_counts

    def after_device(self, dev: DeviceRun, result: RunResult, out: Console) -> None:
        """Runtime-specific figures once the device has run (none by default)."""
        return
