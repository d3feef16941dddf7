"""Build stage: cross-compile a generated firmware project, cached by content hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.children import reaped, spawn
from harness.errors import BuildFailed, MissingTool
from harness.locks import publish_folder
from harness.resources import build_dir
from harness.runtimes.project import FirmwareProject

CACHE_DIR = build_dir()
APT_HINT = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi make"


@dataclass
class BuildResult:
    """A built ELF and its footprint."""

    elf: Path
    folder: Path
    cached: bool
    seconds: float
    flash_bytes: int
    ram_bytes: int
    arena_bytes: int
    build_id: str


def require_tool(name: str, hint: str) -> str:
    """Path of a program on PATH, or MissingTool naming the package to install."""
    path = shutil.which(name)
    if not path:
        raise MissingTool(f"{name} is not installed", hint=hint)
    return path


def _compiler_id(cc: str) -> str:
    out = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else cc


def _footprint(size_txt: str) -> tuple[int, int]:
    sections = {}
    for line in size_txt.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sections[parts[0]] = int(parts[1])
    flash = sum(sections.get(s, 0) for s in (".isr_vector", ".text", ".ARM.exidx", ".data"))
    ram = sections.get(".data", 0) + sections.get(".bss", 0)
    return flash, ram


def _make(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run make in its own process group; on any exit (Ctrl-C, SIGTERM) that group is
    killed, and when the harness dies it dies too, so no compiler outlives the harness."""
    with reaped(spawn(cmd, tree=True, cwd=cwd, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)) as proc:
        out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _compile(project: FirmwareProject, tmp: Path, folder: Path) -> None:
    """Write `project` into `tmp` and build it there; a failed build moves to
    `<folder>.failed` (kept for its log, never mistaken for a cached build)."""
    project.write(tmp)
    proc = _make(["make", "-j", str(os.cpu_count() or 2)], tmp)
    (tmp / "build.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode == 0:
        return
    lines = proc.stderr.splitlines()
    errors = [ln for ln in lines if "error" in ln.lower() and "collect2" not in ln]
    errors += [ln for ln in lines if "error" in ln.lower()]
    first = errors[0] if errors else (proc.stderr.strip().splitlines() or ["?"])[-1]
    failed = folder.with_name(folder.name + ".failed")
    shutil.rmtree(failed, ignore_errors=True)
    tmp.rename(failed)
    raise BuildFailed(f"firmware build failed: {first.strip()}",
                      hint=f"full log: {failed / 'build.log'}")


def _built(folder: Path) -> bool:
    return (folder / "firmware.elf").exists() and (folder / "size.txt").exists()


def project_build_id(project: FirmwareProject) -> str:
    """The build id the project's config header carries ('' if none)."""
    header = project.files.get("hx_config.h", b"").decode(errors="replace")
    for line in header.splitlines():
        if line.startswith("#define HX_BUILD_ID"):
            return line.split('"')[1]
    return ""


def build(project: FirmwareProject, cache_dir: Path | None = None) -> BuildResult:
    """Build `project` unless an identical one was built before; return the ELF.

    Several processes building the same project at once build it once: the others
    wait for it and reuse it (harness/locks.py)."""
    cc = require_tool("arm-none-eabi-gcc", APT_HINT)
    require_tool("make", "apt-get install make")
    key = hashlib.sha256((project.content_hash + _compiler_id(cc)).encode()).hexdigest()[:16]
    folder = (cache_dir or CACHE_DIR) / f"{project.target.name}-{project.runtime}-{key}"
    start = time.monotonic()
    cached = not publish_folder(folder, lambda tmp: _compile(project, tmp, folder), _built)
    flash, ram = _footprint((folder / "size.txt").read_text())
    return BuildResult(folder / "firmware.elf", folder, cached, time.monotonic() - start,
                       flash, ram, project.arena_bytes, project_build_id(project))
