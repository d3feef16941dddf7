"""The console of a real run: the README's first command (`invoke run --target=stm32f4`)
prints at most 15 lines, none wider than 100 columns, the answer last; `-v` adds the table
of every pair."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.paths import ROOT

INVOKE = Path(sys.executable).parent / "invoke"
WIDTH = 100  # the README's promise


def _run(cmd: list[str], tmp_path: Path) -> list[str]:
    """Run `cmd` in an empty folder, its run folders under runs/ there (as in a checkout)."""
    proc = subprocess.run([*cmd, "--runs-dir", "runs"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= WIDTH, proc.stdout
    return lines


def test_readme_first_command_prints_the_answer_in_15_lines(tmp_path: Path) -> None:
    lines = _run([str(INVOKE), "--search-root", str(ROOT), "run", "--target=stm32f4"], tmp_path)
    assert len(lines) <= 15, "\n".join(lines)
    assert not any("│" in line for line in lines)  # no table without -v
    verdict = next(k for k, line in enumerate(lines) if line.startswith("PASS: "))
    tail = lines[verdict + 1:]
    assert tail[-1].startswith("results: runs/") and tail[-1].endswith(
        "_example_cnn_int8_stm32f4/results.json (also junit.xml, report.html)")
    assert tail[-2].startswith("  enforced: device vs litert-ref [StatefulPartitionedCall_1:0]")
    assert tail[-2].endswith(", tolerance 0: ok")
    # The example's float network and integer one differ by design: that part has drift.
    drift = tail[:-2]
    assert any(line.startswith("  quantization") and line.endswith("cause: quantization")
               for line in drift), drift
    assert all(" LSB (first op: run with --per-layer), cause: " in line for line in drift), drift


def test_verbose_prints_every_pair_first(tmp_path: Path) -> None:
    lines = _run([sys.executable, "-m", "harness", "run", "-v", "--vectors", "3"], tmp_path)
    start = lines.index("every pair, 3 vectors")
    rows = [line for line in lines[start:] if line.startswith("│")]
    assert len(rows) == 15  # device vs 5 references, then the 10 pairs of references
    assert sum("reported" in row for row in rows) == 14
    verdict = next(k for k, line in enumerate(lines) if line.startswith("PASS: "))
    assert start < verdict and lines[-1].startswith("results: ")
