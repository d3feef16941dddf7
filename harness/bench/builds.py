"""(c) Build times: cold builtin firmware build, warm re-run overhead, TFLM library.

* cold build: the example model's firmware built into an empty cache folder;
* warm re-run overhead: `harness run` on the example model, identical to the
  run before it (firmware and references cached): wall time of the whole
  command minus the device time it reports;
* tflm: the build time (TFLM objects and firmware) of a first `--runtime tflm`
  run of micro_speech with empty caches, for the reference and the CMSIS-NN
  kernels, and of the same run again (the goal: at most 120 s on 2 cores).
"""

from __future__ import annotations

import json
import os
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


TFLM_MODEL = "micro_speech_quantized.tflite"


def _first_tflm_run(tree: Path, model: Path, kernels: str, target: str, cache: Path) -> dict:
    """One `harness run --runtime tflm` with empty TFLM and firmware caches under `cache`
    (or warm ones, when `cache` was used before); its results.json."""
    env = {**os.environ, "HARNESS_TFLM_CACHE": str(cache / "tflm"),
           "HARNESS_BUILD_DIR": str(cache / "build")}
    runs = cache / "runs"
    subprocess.run([sys.executable, "-m", "harness", "run", "--runtime", "tflm", "--tflm-dir",
                    str(tree), "--kernels", kernels, "--model", str(model), "--target", target,
                    "--vectors", "1",
                    "--references", "tflm-host", "--quiet", "--runs-dir", str(runs)],
                   env=env, capture_output=True, text=True, check=False)
    newest = max(runs.iterdir(), key=lambda p: p.stat().st_mtime)
    return json.loads((newest / "results.json").read_text())


def tflm_builds(tflm_dir: Path | None, cold: bool = True, target: str = "stm32f4",
                shared: Path | None = None) -> list[Figure]:
    """Build time of a first `--runtime tflm` run of micro_speech on empty caches, for
    each kernel set, and of an identical second run (everything cached)."""
    model = (shared or Path()) / TFLM_MODEL
    if tflm_dir is None or not model.exists():
        return [Figure("(c) first tflm run, cold caches: build time", [],
                       note="no TFLM tree configured (set TFLM_DIR)" if tflm_dir is None
                       else f"{TFLM_MODEL} not found")]
    figs = []
    for kernels in ("reference", "cmsis-nn"):
        if kernels == "cmsis-nn" and not (os.environ.get("CMSIS_NN_DIR")
                                          and os.environ.get("CMSIS_DIR")):
            figs.append(Figure("(c) first tflm run, cold caches, cmsis-nn: build time", [],
                               note="no CMSIS trees (set CMSIS_NN_DIR and CMSIS_DIR)"))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            if cold:
                res = _first_tflm_run(tflm_dir, model, kernels, target, Path(tmp))
                lib = res.get("tflm") or {}
                figs.append(Figure(
                    f"(c) first tflm run, cold caches, {kernels}: build time",
                    [res["timings"].get("build_s", float("nan"))], "s", "<= 120",
                    command=f"harness run --runtime tflm --kernels {kernels} --model "
                            f"{TFLM_MODEL} --target {target} (empty caches)",
                    note=f"{lib.get('compiled')} of {lib.get('objects')} objects compiled "
                         f"(the app's needs), {os.cpu_count()} cores; "
                         f"{res['verdict']['status']}"))
            res = _first_tflm_run(tflm_dir, model, kernels, target, Path(tmp))  # warm (after cold)
            figs.append(Figure(f"(c) second tflm run, {kernels}: build time",
                               [res["timings"].get("build_s", float("nan"))], "s",
                               command="the same run again"))
    return figs
