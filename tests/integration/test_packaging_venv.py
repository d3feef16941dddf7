"""The acceptance check of the wheel: installed in a new venv, `harness run` passes from
a folder outside the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request
import venv
from pathlib import Path

import pytest

from support.paths import FULL


def _pypi_reachable() -> bool:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.qemu
def test_wheel_in_a_new_venv_runs_the_example(wheel: Path, tmp_path: Path) -> None:
    """The acceptance check: install the wheel in a fresh venv (its dependencies come from
    the package index), then `harness run` from a folder outside the checkout."""
    if not FULL:
        pytest.skip("installs the dependencies into a new venv: HARNESS_FULL_TESTS=1")
    if not _pypi_reachable():
        pytest.skip("no network: pip cannot fetch the dependencies")
    if not shutil.which("qemu-system-arm") or not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("needs qemu-system-arm and arm-none-eabi-gcc")
    venv.create(tmp_path / "v", with_pip=True)
    py = tmp_path / "v" / "bin"
    subprocess.run([py / "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_BUILD_DIR", "PYTHONPATH")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    res = subprocess.run([py / "harness", "run", "--target", "stm32f4", "--vectors", "3"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "PASS" in res.stdout
    assert list((tmp_path / "cache" / "harness" / "build").glob("stm32f4-builtin-*/firmware.elf"))
