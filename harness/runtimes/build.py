"""Build stage: cross-compile a generated firmware project, cached by content hash."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BuildFailed, MissingTool
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
    """Run make in its own process group; on any exit (Ctrl-C too) that group is
    killed, so no compiler outlives the harness."""
    with subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, start_new_session=True) as proc:
        try:
            out, err = proc.communicate()
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def build(project: FirmwareProject, cache_dir: Path | None = None) -> BuildResult:
    """Build `project` unless an identical one was built before; return the ELF."""
    cc = require_tool("arm-none-eabi-gcc", APT_HINT)
    require_tool("make", "apt-get install make")
    key = hashlib.sha256((project.content_hash + _compiler_id(cc)).encode()).hexdigest()[:16]
    folder = (cache_dir or CACHE_DIR) / f"{project.target.name}-{project.runtime}-{key}"
    elf = folder / "firmware.elf"
    start = time.monotonic()
    cached = elf.exists() and (folder / "size.txt").exists()
    if not cached:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        project.write(tmp)
        jobs = str(os.cpu_count() or 2)
        proc = _make(["make", "-j", jobs], tmp)
        (tmp / "build.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            lines = proc.stderr.splitlines()
            errors = [ln for ln in lines if "error" in ln.lower() and "collect2" not in ln]
            errors += [ln for ln in lines if "error" in ln.lower()]
            first = errors[0] if errors else (proc.stderr.strip().splitlines() or ["?"])[-1]
            failed = folder.with_name(folder.name + ".failed")
            shutil.rmtree(failed, ignore_errors=True)
            tmp.rename(failed)  # kept for the log; never mistaken for a cached build
            raise BuildFailed(f"firmware build failed: {first.strip()}",
                              hint=f"full log: {failed / 'build.log'}")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)  # atomic: a half-built folder never looks cached
    flash, ram = _footprint((folder / "size.txt").read_text())
    build_id = ""
    cfg = (folder / "hx_config.h").read_text()
    for line in cfg.splitlines():
        if line.startswith("#define HX_BUILD_ID"):
            build_id = line.split('"')[1]
    return BuildResult(elf, folder, cached, time.monotonic() - start, flash, ram,
                       project.arena_bytes, build_id)
