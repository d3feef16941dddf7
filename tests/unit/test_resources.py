"""harness/resources.py finds the folders it reads in a checkout and in an installed
wheel, and the build cache outside both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness import resources
from support.paths import ROOT


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
                      semihost_file="", clock_max=False)}))
"""


def _checkout_targets() -> int:
    """The checkout's target count: the wheel must hold the same table."""
    from harness.targets.table import TARGETS

    return len(TARGETS)


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
                   "build": str(tmp_path / "cache" / "harness" / "build"),
                   "targets": _checkout_targets(), "template": True}
