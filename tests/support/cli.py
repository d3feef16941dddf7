"""`python -m harness run` in a subprocess, the one-line `error:` it must end with, and
an environment with only some programs on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT


def harness(*args: str, env: dict | None = None, timeout: float = 300
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "run", "--quiet", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


# ---- missing programs -----------------------------------------------------------


def path_with(tmp_path: Path, *programs: str) -> dict:
    """An environment whose PATH holds only `programs` (linked from the real PATH)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name in programs:
        real = shutil.which(name)
        if real is None:
            pytest.skip(f"{name} is not installed")
        (bin_dir / name).symlink_to(real)
    return {**os.environ, "PATH": str(bin_dir)}
