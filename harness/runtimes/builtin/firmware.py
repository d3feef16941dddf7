"""The builtin runtime's firmware: the graph lowered to kernel calls (model.c), the
planned arena, the shell and the kernels, in one self-contained project."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from harness.model.graph import Graph
from harness.ops.c_emit import C_TYPES, LoweredOp
from harness.runtimes.builtin.arena import ArenaPlan, plan_arena
from harness.runtimes.builtin.lower import lower_graph
from harness.runtimes.project import FirmwareProject, finish_project, render, static_sources
from harness.targets.target import Target


class BuiltinPlan(NamedTuple):
    """A graph lowered to C calls and its arena: made once, by plan_builtin."""

    ops: list[LoweredOp]
    arena: ArenaPlan


def plan_builtin(graph: Graph) -> BuiltinPlan:
    """Check the graph against the builtin runtime, lower every op and plan the arena
    (UnsupportedOp / UnsupportedType before any build)."""
    return BuiltinPlan(lower_graph(graph), plan_arena(graph))


def generate_builtin(graph: Graph, target: Target, *, baud: int = 115200,
                     rounding: str = "double", opt: str = "-O2", semihosting: bool = False,
                     lowered: BuiltinPlan | None = None, clock: str = "reset"
                     ) -> FirmwareProject:
    """Generate the builtin-runtime firmware for `graph` on `target`.

    `semihosting` builds in the fast input path for emulators (never for boards:
    a semihosting call without a debugger faults). `lowered` is the graph's
    :func:`plan_builtin`, when the caller has it already.
    """
    lowered_ops, plan = lowered or plan_builtin(graph)
    arena_tensors = [graph.tensors[i] for i in sorted(plan.offsets)]
    proj = FirmwareProject(target, "builtin", arena_bytes=plan.size,
                           options={"rounding": rounding, "opt": opt, "baud": str(baud),
                                    "semihosting": str(int(semihosting))})
    proj.files.update(static_sources(target))
    proj.files["model.c"] = render(
        "builtin/model.c.j2",
        graph=graph, plan=plan, lowered=lowered_ops, arena_tensors=arena_tensors,
        ctypes=C_TYPES).encode()
    defines = ["-DHX_REQUANT_SINGLE_ROUNDING"] if rounding == "single" else []
    cflags = [*target.cflags, opt, "-g", "-std=c11", "-Wall", "-Wextra", "-ffunction-sections",
              "-fdata-sections", "-Isrc/shell", "-Isrc/proto", "-Isrc/kernels", "-I.",
              f"-DHX_MAX_PAYLOAD={target.max_payload}u", *defines]
    ldflags = ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Tlink.ld",
               "-Wl,--gc-sections", "-Wl,-Map=firmware.map"]
    sources = ["model.c"] + sorted(n for n in proj.files if n.endswith(".c") and n != "model.c")
    vpath = sorted({str(Path(s).parent) for s in sources})
    proj.files["Makefile"] = render(
        "firmware/Makefile.j2", target=target, cc="arm-none-eabi-gcc",
        size_tool="arm-none-eabi-size", cflags=cflags, ldflags=ldflags, sources=sources,
        vpath=vpath).encode()
    return finish_project(proj, baud=baud, semihosting=semihosting, clock=clock)
