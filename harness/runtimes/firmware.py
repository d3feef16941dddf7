"""Firmware generation: render the jinja2 templates into a self-contained project.

The project holds the generated model code, the target glue (config header,
linker script, Makefile) and copies of the static firmware sources, so the
folder builds on its own and is kept in the run folder as evidence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from harness.model.graph import Graph
from harness.resources import FIRMWARE_DIR, TEMPLATES_DIR
from harness.runtimes.builtin.arena import plan_arena
from harness.runtimes.builtin.lower import lower_graph
from harness.targets.target import Target

__all__ = ["FIRMWARE_DIR", "FirmwareProject", "finish_project", "generate_builtin", "render",
           "static_sources"]

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)


def c_values(values: np.ndarray, per_line: int = 16) -> str:
    """Format integers as C initialiser lines."""
    flat = [str(int(v)) for v in np.asarray(values).ravel()]
    lines = [", ".join(flat[i : i + per_line]) for i in range(0, len(flat), per_line)]
    return ",\n".join("    " + line for line in lines)


_env.globals["c_values"] = c_values


def render(template: str, **context: object) -> str:
    """Render one of templates/ (shared by the firmware and the emulator scripts)."""
    return _env.get_template(template).render(**context)


@dataclass
class FirmwareProject:
    """Generated sources, ready to build. `files` maps relative path -> content."""

    target: Target
    runtime: str
    files: dict[str, bytes] = field(default_factory=dict)
    arena_bytes: int = 0
    options: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name] + b"\0")
        return h.hexdigest()

    def write(self, folder: Path) -> None:
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def static_sources(target: Target, kernels: bool = True) -> dict[str, bytes]:
    """The hand-written firmware files a project copies: the shell, the UART
    driver, the protocol and (for the builtin runtime) the kernels."""
    picks = ["shell/startup.c", "shell/app.c", "shell/hx_model.h", "shell/semihost.c",
             "shell/counter_systick.c", f"uart/{target.uart.driver}.c",
             "uart/hx_uart_ring.c", "uart/hx_uart_ring.h", "proto/hx_proto.c", "proto/hx_proto.h"]
    if kernels:
        picks += [str(p.relative_to(FIRMWARE_DIR))
                  for p in sorted((FIRMWARE_DIR / "kernels").glob("*")) if p.suffix in (".c", ".h")]
    return {f"src/{name}": (FIRMWARE_DIR / name).read_bytes() for name in dict.fromkeys(picks)}


SEMIHOST_FILE = "hx_inputs.bin"


def generate_builtin(graph: Graph, target: Target, *, baud: int = 115200,
                     rounding: str = "double", opt: str = "-O2",
                     semihosting: bool = False) -> FirmwareProject:
    """Generate the builtin-runtime firmware for `graph` on `target`.

    `semihosting` builds in the fast input path for emulators (never for boards:
    a semihosting call without a debugger faults).
    """
    lowered = lower_graph(graph)
    plan = plan_arena(graph)
    arena_tensors = [graph.tensors[i] for i in sorted(plan.offsets)]
    proj = FirmwareProject(target, "builtin", arena_bytes=plan.size,
                           options={"rounding": rounding, "opt": opt, "baud": str(baud),
                                    "semihosting": str(int(semihosting))})
    proj.files.update(static_sources(target))
    proj.files["model.c"] = _env.get_template("builtin/model.c.j2").render(
        graph=graph, plan=plan, lowered=lowered, arena_tensors=arena_tensors).encode()
    defines = ["-DHX_REQUANT_SINGLE_ROUNDING"] if rounding == "single" else []
    cflags = [*target.cflags, opt, "-g", "-std=c11", "-Wall", "-Wextra", "-ffunction-sections",
              "-fdata-sections", "-Isrc/shell", "-Isrc/proto", "-Isrc/kernels", "-I.",
              f"-DHX_MAX_PAYLOAD={target.max_payload}u", *defines]
    ldflags = ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Tlink.ld",
               "-Wl,--gc-sections", "-Wl,-Map=firmware.map"]
    sources = ["model.c"] + sorted(n for n in proj.files if n.endswith(".c") and n != "model.c")
    vpath = sorted({str(Path(s).parent) for s in sources})
    proj.files["Makefile"] = _env.get_template("firmware/Makefile.j2").render(
        target=target, cc="arm-none-eabi-gcc", size_tool="arm-none-eabi-size", cflags=cflags,
        ldflags=ldflags, sources=sources, vpath=vpath).encode()
    return finish_project(proj, baud=baud, semihosting=semihosting)


def finish_project(proj: FirmwareProject, *, baud: int, semihosting: bool) -> FirmwareProject:
    """Add what every runtime's project shares: linker script, options and the
    config header, whose build id hashes everything else."""
    target = proj.target
    proj.files["link.ld"] = _env.get_template("firmware/link.ld.j2").render(
        target=target, stack_bytes=target.stack_bytes).encode()
    proj.files["options.txt"] = "".join(f"{k}={v}\n" for k, v in sorted(proj.options.items())
                                        ).encode()
    # The build id is the hash of everything else, so it names this exact source set.
    build_id = proj.content_hash[:12]
    proj.files["hx_config.h"] = _env.get_template("firmware/hx_config.h.j2").render(
        target=target, baud=baud, build_id=build_id, semihosting=semihosting,
        semihost_file=SEMIHOST_FILE).encode()
    return proj
