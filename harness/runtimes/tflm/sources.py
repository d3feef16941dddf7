"""The library's source list, as the tree's own tools/make/sources.inc defines it.

make evaluates sources.inc (its wildcards and finds) with a tiny makefile that
only prints variables, so nothing downloads; the result is filtered the way
TFLM's Makefile filters it (no tests, no benchmarks), minus the two
platform files the harness provides itself (DebugLog and the timer).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.errors import BadInput

_PRINT_MK = """\
include $(TENSORFLOW_ROOT)tensorflow/lite/micro/tools/make/sources.inc
$(info HX_SRCS=$(filter-out $(MICROLITE_TEST_SRCS) $(MICROLITE_BENCHMARK_SRCS),\
$(MICROLITE_CC_BASE_SRCS)))
$(info HX_KERNELS=$(MICROLITE_CC_KERNEL_SRCS))
all: ;
"""

# Replaced by firmware/tflm/hx_tflm_platform.cc: DebugLog goes out as a protocol
# LOG frame and the timer is the shell's counter.
PLATFORM_FILES = ("tensorflow/lite/micro/debug_log.cc", "tensorflow/lite/micro/micro_time.cc")


def library_sources(root: Path, work: Path) -> list[Path]:
    """Absolute paths of the .cc/.c files that make up libtflm.a."""
    work.mkdir(parents=True, exist_ok=True)
    mk = work / "print_sources.mk"
    mk.write_text(_PRINT_MK)
    res = subprocess.run(["make", "-s", "-f", str(mk), f"TENSORFLOW_ROOT={root}/",
                          f"DOWNLOADS_DIR={work}/downloads"], capture_output=True, text=True,
                         check=False, cwd=work)
    found: dict[str, list[str]] = {}
    for line in res.stdout.splitlines():
        key, _, value = line.partition("=")
        if key in ("HX_SRCS", "HX_KERNELS"):
            found[key] = value.split()
    if res.returncode != 0 or not found.get("HX_SRCS") or not found.get("HX_KERNELS"):
        raise BadInput(f"cannot read the source list from {root}/tensorflow/lite/micro/tools/"
                       f"make/sources.inc: {res.stderr.strip()[:200] or 'no sources listed'}")
    skip = {str(root / f) for f in PLATFORM_FILES}
    paths = [p for p in dict.fromkeys(found["HX_SRCS"] + found["HX_KERNELS"]) if p not in skip]
    return [Path(p) for p in paths if p.endswith((".cc", ".c"))]
