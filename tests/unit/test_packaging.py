"""The wheel holds every subpackage, the firmware sources, the templates and the example."""

from __future__ import annotations

import zipfile
from pathlib import Path

from support.paths import ROOT

NAME = "tflite-mcu-crosscheck"  # free on PyPI when chosen; `harness` is taken


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
