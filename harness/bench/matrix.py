"""(g) `harness matrix`: 8 emulated cells at -j 2 against -j 1, and what the matrix costs
per cell beyond the cells' own runs.

The cells (two models on four QEMU targets) run once first, so that every firmware and
reference result is in the cache and what is timed is the runs themselves. Each matrix is
the command a user types (`python -m harness matrix ... --quiet`), started afresh: its
wall time includes Python's start and the imports. The overhead per cell is the -j 1
wall time less the sum of the cells' own run times (results.json timings.total_s),
over the number of cells; -j 1 and -j 2 alternate, and the ratio pairs runs made one
after the other.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.bench.stats import Figure

TARGETS = "stm32f4,cortex-m3,cortex-m4,cortex-m7"
VECTORS = "10"  # the default
REFERENCES = "litert-ref,numpy-int8"
COMMAND = f"harness matrix --models M1,M2 --targets {TARGETS} --vectors {VECTORS} -j N"


def _matrix(models: list[Path], jobs: int, out: Path) -> float:
    """One matrix in a fresh process; its wall time (it must pass every cell)."""
    cmd = [sys.executable, "-m", "harness", "matrix", "--quiet", "--models",
           ",".join(map(str, models)), "--targets", TARGETS, "--vectors", VECTORS,
           "--references", REFERENCES, "-j", str(jobs), "--out", str(out)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"bench matrix failed ({proc.returncode}): {proc.stderr[-500:]}")
    return wall


def _own_runs(out: Path) -> list[float]:
    """Each cell's own run time, from its results.json."""
    doc = json.loads((out / "matrix.json").read_text())
    return [json.loads((out / c["id"] / "results.json").read_text())["timings"]["total_s"]
            for c in doc["cells"]]


def matrix_scaling(models: list[Path], reps: int = 2) -> list[Figure]:
    """-j 2 / -j 1 wall ratio, both walls, and the overhead per cell at -j 1."""
    walls: dict[int, list[float]] = {1: [], 2: []}
    overhead: list[float] = []
    cells = 0
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        _matrix(models, 2, Path(tmp) / "warm")  # builds and references into the cache
        for rep in range(reps):
            for jobs in (1, 2):
                out = Path(tmp) / f"j{jobs}-{rep}"
                walls[jobs].append(_matrix(models, jobs, out))
                if jobs == 1:
                    own = _own_runs(out)
                    cells = len(own)
                    overhead.append((walls[1][-1] - sum(own)) / len(own))
    ratio = [b / a for a, b in zip(walls[1], walls[2], strict=True)]
    return [
        Figure(f"{cells} emulated cells: wall -j 2 / -j 1", ratio, "", "<= 0.6", COMMAND,
               "2 models x 4 QEMU targets, warm caches"),
        Figure("matrix wall -j 1", walls[1], "s", command=COMMAND),
        Figure("matrix wall -j 2", walls[2], "s", command=COMMAND),
        Figure("matrix overhead per cell beyond its own run (-j 1)", overhead, "s",
               "<= 0.3", COMMAND, "(wall - sum of results.json total_s) / cells"),
    ]
