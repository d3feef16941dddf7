"""Bad-input sweep, part 1, end to end: mutated .tflite files (support/fuzz.py) through
the real CLI, each with a timeout: refused ones in the same one line as in-process, runnable
ones bit-exact with numpy-int8 on the device.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from harness.errors import ExitCode, HarnessError
from support.fuzz import CASES, SEED, check_in_process, mutants
from support.paths import ROOT

CLI_CASES = 20


def _cli_picks(cases: list[tuple[str, str, bytes]]) -> list[tuple[int, str, int | None]]:
    """CLI_CASES cases: mostly refused ones (fast), a few that run end to end."""
    refused: dict[int, list[int]] = {}
    runnable = []
    for i, (_name, _kind, data) in enumerate(cases):
        try:
            check_in_process(data)
            runnable.append(i)
        except HarnessError as exc:
            refused.setdefault(int(exc.code), []).append(i)
        except Exception:  # noqa: BLE001 - the in-process test reports these
            continue
    picks: list[tuple[int, str, int | None]] = [(i, "runs", None) for i in runnable[:4]]
    while len(picks) < CLI_CASES and any(refused.values()):
        for code in sorted(refused):
            if refused[code] and len(picks) < CLI_CASES:
                picks.append((refused[code].pop(0), "refused", code))
    return picks


def test_mutated_models_through_the_cli(tmp_path: Path) -> None:
    cases = mutants(CASES, SEED)
    picks = _cli_picks(cases)
    seen: Counter[int] = Counter()
    for i, how, code in picks:
        name, kind, data = cases[i]
        model = tmp_path / f"mutant{i}.tflite"
        model.write_bytes(data)
        cmd = [sys.executable, "-m", "harness", "run", "--model", str(model), "--vectors", "2",
               "--references", "numpy-int8", "--runs-dir", str(tmp_path / "runs"), "--quiet"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
        what = f"case {i} ({name}, {kind}, {how}): exit {proc.returncode}, {proc.stderr!r}"
        assert "Traceback" not in proc.stderr + proc.stdout, what
        seen[proc.returncode] += 1
        if how == "refused":  # the same one-line refusal as in-process
            assert proc.returncode == code, what
            lines = proc.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), what
        else:  # a runnable mutant is bit-exact with numpy-int8 on the device
            assert proc.returncode == ExitCode.PASS, what
    print(f"\nfuzz CLI: {len(picks)} mutated models end to end: "
          + ", ".join(f"exit {k}: {v}" for k, v in sorted(seen.items())))
    assert len(picks) == CLI_CASES
