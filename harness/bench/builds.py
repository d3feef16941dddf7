"""(c) Build times: cold builtin firmware build, warm re-run overhead, TFLM library.

* cold build: the example model's firmware built into an empty cache folder;
* warm re-run overhead: `harness run` on the example model, identical to the
  run before it (firmware and references cached): wall time of the whole
  command minus the device time it reports;
* TFLM library: a cached lookup is timed; a cold build is timed only with
  `tflm_cold` (minutes), otherwise the time recorded when the cache was filled
  is reported, with its date.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.bench.stats import Figure
from harness.ops.validate import load_model
from harness.resources import EXAMPLE_MODEL
from harness.runtimes.build import build
from harness.runtimes.builtin.firmware import generate_builtin
from harness.targets.table import get_target


def cold_builds(repeats: int = 3, target: str = "stm32f4") -> Figure:
    """Seconds to build the example firmware with nothing cached."""
    project = generate_builtin(load_model(EXAMPLE_MODEL), get_target(target))
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            samples.append(build(project, cache_dir=Path(tmp)).seconds)
    return Figure("(c) cold builtin firmware build (example model)", samples, "s",
                  command="invoke bench")


def warm_overhead(repeats: int = 3) -> list[Figure]:
    """Wall time of an identical second run over its device time."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "harness", "run", "--vectors", "2", "--quiet",
               "--runs-dir", tmp]
        subprocess.run(cmd, check=False, capture_output=True)  # fills the caches
        over, walls = [], []
        for _ in range(repeats):
            t0 = time.monotonic()
            subprocess.run(cmd, check=False, capture_output=True)
            wall = time.monotonic() - t0
            newest = max(Path(tmp).iterdir(), key=lambda p: p.stat().st_mtime)
            device = json.loads((newest / "results.json").read_text())["timings"]["device_s"]
            over.append(wall - device)
            walls.append(wall)
    cmd_text = "python -m harness run --vectors 2 (identical second run)"
    return [Figure("(c) warm re-run: wall time over device time", over, "s", "<= 1.5",
                   cmd_text),
            Figure("(c) warm re-run: wall time", walls, "s", command=cmd_text)]


def tflm_builds(tflm_dir: Path | None, cold: bool = False, target: str = "stm32f4"
                ) -> list[Figure]:
    """Cached (and, if asked, cold) TFLM library build times."""
    if tflm_dir is None:
        return [Figure("(c) TFLM library build", [], note="no TFLM tree configured")]
    from harness.runtimes.tflm.library import build_library
    from harness.runtimes.tflm.tree import find_tree

    tree, flags = find_tree(tflm_dir), get_target(target).cflags
    figs = []
    if cold:
        with tempfile.TemporaryDirectory() as tmp:
            lib = build_library(tree, flags, cache_root=Path(tmp))
            figs.append(Figure("(c) TFLM library, cold build", [lib.seconds], "s",
                               command="invoke bench --tflm-cold"))
    cached = []
    for _ in range(3):
        t0 = time.monotonic()
        lib = build_library(tree, flags)
        cached.append(time.monotonic() - t0)
    record = lib.archive.parent / "build.json"
    if not cold and record.exists():
        rec = json.loads(record.read_text())
        figs.append(Figure("(c) TFLM library, cold build", [rec["seconds"]], "s",
                           command="recorded when the cache was filled",
                           note=f"{rec['objects']} files, -j{rec['jobs']}, {rec['built']}"))
    figs.append(Figure("(c) TFLM library, cached", cached, "s", command="invoke bench"))
    return figs
