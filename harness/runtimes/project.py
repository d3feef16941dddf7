"""A firmware project, whatever the runtime: rendered templates, the shell's sources,
the linker script and the config header, in one folder that builds on its own.

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

from harness.resources import FIRMWARE_DIR, TEMPLATES_DIR
from harness.targets.target import Target

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


def clock_sources(target: Target) -> list[str]:
    """The clock's C files under firmware/: the target's driver with the --clock max
    logic every driver shares, or the fixed clock."""
    if target.clock is None:
        return ["shell/clock_fixed.c"]
    return [f"shell/clock_{target.clock.driver}.c", "shell/clock_switch.c"]


def static_sources(target: Target, kernels: bool = True) -> dict[str, bytes]:
    """The hand-written firmware files a project copies: the shell, the UART
    driver, the protocol and (for the builtin runtime) the kernels."""
    uart_headers = [f"uart/{p.name}" for p in sorted((FIRMWARE_DIR / "uart").glob("*.h"))]
    picks = ["shell/startup.c", "shell/app.c", "shell/hx_model.h", "shell/semihost.c",
             "shell/counter_systick.c", "shell/hx_mmio.h", "shell/hx_clock.h",
             *clock_sources(target),
             f"uart/{target.uart.driver}.c", "uart/hx_uart_ring.c", *uart_headers,
             "proto/hx_proto.c", "proto/hx_proto.h"]
    if kernels:
        picks += [str(p.relative_to(FIRMWARE_DIR))
                  for p in sorted((FIRMWARE_DIR / "kernels").glob("*")) if p.suffix in (".c", ".h")]
    return {f"src/{name}": (FIRMWARE_DIR / name).read_bytes() for name in dict.fromkeys(picks)}


SEMIHOST_FILE = "hx_inputs.bin"


def finish_project(proj: FirmwareProject, *, baud: int, semihosting: bool,
                   clock: str = "reset") -> FirmwareProject:
    """Add what every runtime's project shares: linker script, options and the
    config header, whose build id hashes everything else. `clock` is --clock: "max"
    makes the firmware set up the target's maximum clock at boot."""
    target = proj.target
    proj.options["clock"] = clock
    proj.files["link.ld"] = _env.get_template("firmware/link.ld.j2").render(
        target=target, stack_bytes=target.stack_bytes).encode()
    proj.files["options.txt"] = "".join(f"{k}={v}\n" for k, v in sorted(proj.options.items())
                                        ).encode()
    # The build id is the hash of everything else, so it names this exact source set.
    build_id = proj.content_hash[:12]
    proj.files["hx_config.h"] = _env.get_template("firmware/hx_config.h.j2").render(
        target=target, baud=baud, build_id=build_id, semihosting=semihosting,
        semihost_file=SEMIHOST_FILE, clock_max=clock == "max").encode()
    return proj
