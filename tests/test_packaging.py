"""The wheel carries everything the harness needs, and harness.resources finds it there
and in a checkout. The wheel is built offline (hatchling from the dev extra)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import FULL, ROOT
from harness import resources

DIST = "tflite_mcu_crosscheck"
NAME = "tflite-mcu-crosscheck"  # free on PyPI when chosen; `harness` is taken


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="the build backend: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True,
                   capture_output=True)
    (path,) = out.glob(f"{DIST}-*.whl")
    return path


def _checkout_files(folder: str, suffixes: tuple[str, ...]) -> set[str]:
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*")
            if p.suffix in suffixes and "__pycache__" not in p.parts}


def test_wheel_holds_the_package_firmware_templates_and_example(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = _checkout_files("harness", (".py", ".toml"))
    assert modules <= names, sorted(modules - names)
    assert {"harness/targets/__init__.py", "harness/device/backends/__init__.py",
            "harness/runtimes/tflm/__init__.py", "harness/targets/targets.toml"} <= names
    data = {f"harness/_data/{n}" for n in
            _checkout_files("firmware", (".c", ".h", ".cc"))
            | _checkout_files("templates", (".j2",))
            | {"examples/example_cnn_int8.tflite", "renode/README.md"}}
    assert len(data) >= 40 and data <= names, sorted(data - names)
    assert not any(n.startswith(("tests/", "build/", "runs/")) for n in names)
    meta = zipfile.ZipFile(wheel)
    (info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
    assert f"Name: {NAME}\n" in meta.read(f"{info}/METADATA").decode()
    assert "harness = harness.cli:main" in meta.read(f"{info}/entry_points.txt").decode()


def test_resources_find_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resources.CHECKOUT == ROOT
    assert resources.FIRMWARE_DIR == ROOT / "firmware"
    assert resources.TEMPLATES_DIR == ROOT / "templates"
    assert resources.EXAMPLE_MODEL == ROOT / "examples" / "example_cnn_int8.tflite"
    assert resources.EXAMPLE_MODEL.is_file()
    monkeypatch.delenv("HARNESS_BUILD_DIR", raising=False)
    assert resources.build_dir() == ROOT / "build"
    monkeypatch.setenv("HARNESS_BUILD_DIR", "/elsewhere")
    assert resources.build_dir() == Path("/elsewhere")


PROBE = """
import json, harness, harness.resources as r
from harness.targets.table import TARGETS
from harness.runtimes.project import render
print(json.dumps({"package": harness.__file__, "checkout": r.CHECKOUT and str(r.CHECKOUT),
                  "firmware": str(r.FIRMWARE_DIR), "example": r.EXAMPLE_MODEL.is_file(),
                  "build": str(r.build_dir()), "targets": len(TARGETS),
                  "template": "HX_NUM_IRQS" in render("firmware/hx_config.h.j2",
                      target=TARGETS["stm32f4"], baud=1, build_id="", semihosting=False,
                      semihost_file="")}))
"""


def test_resources_find_the_wheels_data_and_cache_outside_it(wheel: Path,
                                                              tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_BUILD_DIR", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True).stdout
    got = json.loads(out)
    assert got == {"package": str(site / "harness" / "__init__.py"), "checkout": None,
                   "firmware": str(site / "harness" / "_data" / "firmware"), "example": True,
                   "build": str(tmp_path / "cache" / "harness" / "build"), "targets": 7,
                   "template": True}


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
