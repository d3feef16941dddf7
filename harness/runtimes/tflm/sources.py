"""The library's source lists, as the tree's own makefiles define them.

make evaluates tools/make/sources.inc (its wildcards and finds) with a tiny
makefile that only prints variables, so nothing downloads; the result is filtered
the way TFLM's Makefile filters it (no tests, no benchmarks), minus the two
platform files the harness provides itself (DebugLog and the timer).

For the CMSIS-NN kernels the same is done with tools/make/ext_libs/cmsis_nn.inc,
given the user's CMSIS-NN and CMSIS_6 trees (so it downloads nothing): it says
which CMSIS-NN sources to compile, with which include folders and defines. The
kernels in kernels/cmsis_nn/ then replace the reference kernels of the same file
name, as TFLM's specialize_files.py does for OPTIMIZED_KERNEL_DIR=cmsis_nn.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BadInput

MAKE_DIR = "tensorflow/lite/micro/tools/make"
KERNELS_DIR = "tensorflow/lite/micro/kernels"

_PRINT_MK = """\
include $(TENSORFLOW_ROOT)tensorflow/lite/micro/tools/make/sources.inc
$(info HX_SRCS=$(filter-out $(MICROLITE_TEST_SRCS) $(MICROLITE_BENCHMARK_SRCS),\
$(MICROLITE_CC_BASE_SRCS)))
$(info HX_KERNELS=$(MICROLITE_CC_KERNEL_SRCS))
all: ;
"""

_PRINT_CMSIS_MK = """\
MAKEFILE_DIR := $(TENSORFLOW_ROOT)tensorflow/lite/micro/tools/make
include $(MAKEFILE_DIR)/ext_libs/cmsis_nn.inc
$(info HX_SRCS=$(THIRD_PARTY_KERNEL_CC_SRCS))
$(info HX_INCLUDES=$(INCLUDES))
$(info HX_CXXFLAGS=$(CXXFLAGS))
$(info HX_CCFLAGS=$(CCFLAGS))
all: ;
"""

# Replaced by firmware/tflm/hx_tflm_platform.cc: DebugLog goes out as a protocol
# LOG frame and the timer is the shell's counter.
PLATFORM_FILES = ("tensorflow/lite/micro/debug_log.cc", "tensorflow/lite/micro/micro_time.cc")
# What TFLM's Makefile defines for OPTIMIZED_KERNEL_DIR=cmsis_nn (its
# ADDITIONAL_DEFINES: the folder's name upper-cased, and the default
# OPTIMIZE_KERNELS_FOR).
CMSIS_NN_DEFINES = ("-DCMSIS_NN", "-DKERNELS_OPTIMIZED_FOR_SPEED")


@dataclass(frozen=True)
class CmsisNnSources:
    """What cmsis_nn.inc says: CMSIS-NN's sources, include folders and flags."""

    sources: list[Path]
    includes: list[str]  # -I...
    cxxflags: list[str]
    cflags: list[str]


def _print_make(makefile: str, name: str, work: Path, args: list[str], what: str
                ) -> dict[str, str]:
    work.mkdir(parents=True, exist_ok=True)
    mk = work / name
    tmp = mk.with_name(f"{name}.tmp{os.getpid()}")
    tmp.write_text(makefile)
    tmp.replace(mk)  # other runs may read it at the same time
    res = subprocess.run(["make", "-s", "-f", str(mk), *args], capture_output=True, text=True,
                         check=False, cwd=work)
    found = {}
    for line in res.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.startswith("HX_"):
            found[key] = value
    if res.returncode != 0 or not found.get("HX_SRCS", "").strip():
        raise BadInput(f"cannot read the source list from {what}: "
                       f"{res.stderr.strip()[:200] or 'no sources listed'}")
    return found


def library_sources(root: Path, work: Path) -> list[Path]:
    """Absolute paths of the .cc/.c files of the library with reference kernels."""
    found = _print_make(_PRINT_MK, "print_sources.mk", work, [f"TENSORFLOW_ROOT={root}/",
                                          f"DOWNLOADS_DIR={work}/downloads"],
                        f"{root}/{MAKE_DIR}/sources.inc")
    if not found.get("HX_KERNELS", "").strip():
        raise BadInput(f"cannot read the kernel list from {root}/{MAKE_DIR}/sources.inc")
    skip = {str(root / f) for f in PLATFORM_FILES}
    paths = [p for p in dict.fromkeys(found["HX_SRCS"].split() + found["HX_KERNELS"].split())
             if p not in skip]
    return [Path(p) for p in paths if p.endswith((".cc", ".c"))]


def specialize(sources: list[Path], folder: Path) -> list[Path]:
    """`sources` with each file that `folder` holds by the same name taken from there."""
    if not folder.is_dir():
        return sources
    names = {p.name for p in folder.iterdir()}
    return [folder / p.name if p.name in names else p for p in sources]


def cmsis_nn_sources(root: Path, work: Path, cmsis_nn: Path, cmsis: Path) -> CmsisNnSources:
    """The tree's cmsis_nn.inc evaluated against the user's CMSIS-NN and CMSIS_6 trees."""
    found = _print_make(_PRINT_CMSIS_MK, "print_cmsis_nn.mk", work,
                        [f"TENSORFLOW_ROOT={root}/", f"DOWNLOADS_DIR={work}/downloads",
                         f"CMSIS_PATH={cmsis}", f"CMSIS_NN_PATH={cmsis_nn}"],
                        f"{root}/{MAKE_DIR}/ext_libs/cmsis_nn.inc")
    return CmsisNnSources(sorted(Path(p) for p in found["HX_SRCS"].split() if p.endswith(".c")),
                          found.get("HX_INCLUDES", "").split(),
                          found.get("HX_CXXFLAGS", "").split(),
                          found.get("HX_CCFLAGS", "").split())
